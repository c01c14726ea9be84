"""The CI outputs of ``triage``: ``--format github`` and ``--junit-out``.

``--format github`` prints one ``::error`` annotation per failed test on stdout and appends the
job summary to ``$GITHUB_STEP_SUMMARY``; with ``--out DIR`` the same summary is also written to
``DIR/summary.md`` (the file to post as a GitLab merge-request note). ``--junit-out FILE`` writes
the run's JUnit XML again with each failed testcase's verdict in it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from forensics.atomic import atomic_write
from forensics.exceptions import InputError, UsageError
from forensics.report.github import (
    SUMMARY_ENV,
    append_step_summary,
    error_annotations,
    job_summary,
)
from forensics.report.junit_out import write_enriched_junit
from forensics.result import TriageResult

SUMMARY_FILE = "summary.md"


def print_github(result: TriageResult, out: str | Path | None = None) -> None:
    """Annotations on stdout; the job summary to ``$GITHUB_STEP_SUMMARY`` and ``out/summary.md``."""
    for line in error_annotations(result):
        print(line)
    summary = job_summary(result)
    written = [p for p in (append_step_summary(summary), _summary_file(summary, out)) if p]
    if written:
        print(f"wrote the job summary to {', '.join(map(str, written))}", file=sys.stderr)
    else:
        print(
            f"forensics: note: ${SUMMARY_ENV} is not set and no --out was given; "
            "the job summary was not written",
            file=sys.stderr,
        )


def _summary_file(summary: str, out: str | Path | None) -> Path | None:
    if not out:
        return None
    path = Path(out) / SUMMARY_FILE
    try:
        atomic_write(path, summary)
    except OSError as err:
        raise InputError(
            f"cannot write the job summary ({err.strerror or err})", path=path
        ) from None
    return path


def junit_source(tests: Sequence[str]) -> Path:
    """The JUnit XML among the ``--tests`` files (the first one), for ``--junit-out``.

    Raises:
        UsageError: none of them is JUnit XML.
    """
    for name in tests:
        path = Path(name)
        try:
            with path.open("rb") as fh:
                head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        except OSError:
            continue
        if head.startswith(b"<"):
            return path
    raise UsageError("--junit-out needs a JUnit XML report among --tests")


def write_junit_out(tests: Sequence[str], result: TriageResult, out: str | Path) -> Path:
    """Write the enriched JUnit of ``tests`` to ``out``; say on stderr how many testcases carry a verdict."""
    source = junit_source(tests)
    annotated = write_enriched_junit(source, result, out)
    print(f"wrote {out} ({source} with {annotated} failed testcase(s) annotated)", file=sys.stderr)
    return Path(out)
