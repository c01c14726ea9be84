"""GitHub Actions: one ``::error`` annotation per failed test, and the job summary.

Annotations are workflow commands printed on stdout, one per line::

    ::error file=tests/e2e/test_ws.py,line=14,title=forensics%3A missing_jwt 0.93::tests/e2e/...

Escaping follows GitHub's toolkit (``@actions/core``): in the message ``%``, CR and LF become
``%25``, ``%0D``, ``%0A``; in a property value also ``:`` and ``,`` become ``%3A`` and ``%2C``.
The job summary is markdown appended to the file ``$GITHUB_STEP_SUMMARY`` names (at most 1 MiB per
step): the causes table with each failure's deciding log line, what stayed unexplained, and where
the full postmortem and its timeline picture are. The same markdown is a GitLab merge-request note.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from forensics.labels import UNKNOWN
from forensics.report.deciding import cause_text, deciding_line, first_sentence
from forensics.report.facts import causes_in_order, printable
from forensics.report.mdformat import cell, code_cell, table
from forensics.result import TriageResult, Verdict

#: GitHub refuses a step summary larger than this (bytes).
STEP_SUMMARY_LIMIT = 1024 * 1024
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as ``escape_data``, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def error_command(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> str:
    """``::error file=F,line=N,title=T::message`` with every part escaped; absent parts left out."""
    props = [
        f"{name}={escape_property(str(value))}"
        for name, value in (("file", file), ("line", line), ("title", title))
        if value is not None
    ]
    return (
        f"::error {','.join(props)}::{escape_data(message)}"
        if props
        else f"::error::{escape_data(message)}"
    )


@dataclass(frozen=True)
class Place:
    """Where a test's annotation goes: a file relative to the repository, and a 1-based line."""

    file: str
    line: int | None = None


def place_from_test_id(test_id: str, message: str | None = None) -> Place:
    """The file of a pytest node id, and the last line of that file its failure text names.

    A traceback names the test file as ``tests/test_x.py:42: AssertionError`` (or ``...py:42: in``);
    without such a line the annotation goes on the file alone.
    """
    path = test_id.split("::", 1)[0]
    lines = re.findall(rf"(?m)^{re.escape(path)}:(\d+):", message or "")
    return Place(path, int(lines[-1]) if lines else None)


def annotation(result: TriageResult, verdict: Verdict, place: Place | None = None) -> str:
    """The ``::error`` line of one failed test: the cause as title, the deciding line in the message."""
    test_id = result.scrub(verdict.test_id) or ""
    place = place or place_from_test_id(verdict.test_id)
    body = [f"{test_id}: {cause_text(verdict)}", deciding_line(result, verdict)]
    if verdict.root_cause != UNKNOWN:
        body.append(first_sentence(result, verdict))
    return error_command(
        "\n".join(printable(b) for b in body),
        file=place.file,
        line=place.line,
        title=f"forensics: {verdict.root_cause}",
    )


def error_annotations(result: TriageResult, places: Mapping[str, Place] | None = None) -> list[str]:
    """One ``::error`` line per failed test, at the place ``places`` gives (else from its id and text)."""
    messages = _messages(result)
    out = []
    for v in result.verdicts:
        place = (places or {}).get(v.test_id) or place_from_test_id(
            v.test_id, messages.get(v.test_id)
        )
        out.append(annotation(result, v, place))
    return out


def _messages(result: TriageResult) -> dict[str, str]:
    frame = result.tests
    if frame is None or "message" not in frame.columns or not frame.height:
        return {}
    return {
        t: m
        for t, m in zip(frame["test_id"].to_list(), frame["message"].to_list(), strict=True)
        if m
    }


def job_summary(
    result: TriageResult,
    *,
    reports: Mapping[str, Path] | None = None,
    notes: list[str] | None = None,
) -> str:
    """The markdown of the job summary (or a merge-request note).

    Args:
        result: the triage.
        reports: report name -> written path (``write_reports``), to point at the postmortem and
            the timeline picture.
        notes: lines about how the logs were had (pulled, waited), shown under the table.
    """
    n = len(result.verdicts)
    causes = ", ".join(f"`{c}` {len(vs)}" for c, vs in causes_in_order(result)) or "none"
    out = [f"## forensics: {n} failed test(s)", "", f"Causes: {causes}.", ""]
    rows = [
        [
            code_cell(result.scrub(v.test_id)),
            code_cell(v.root_cause),
            f"{v.confidence:.2f}",
            cell(deciding_line(result, v)),
        ]
        for v in result.verdicts
        if v.root_cause != UNKNOWN
    ]
    if rows:
        out += table(["test", "cause", "conf.", "deciding log line"], rows)
        out.append("")
    unexplained = [v for v in result.verdicts if v.root_cause == UNKNOWN]
    if unexplained:
        out += ["### Unexplained", ""]
        out += [
            f"- {code_cell(result.scrub(v.test_id))}: {cell(result.scrub(v.reason) or 'nothing decides')}"
            for v in unexplained[:60]
        ]
        out.append("")
    out += _where(reports or {})
    out += [f"_{cell(note)}_" for note in notes or []]
    return "\n".join(out).rstrip() + "\n"


def _where(reports: Mapping[str, Path]) -> list[str]:
    if not reports:
        return []
    run = _run_url()
    artifacts = f" (in the run's artifacts: [{run}]({run}))" if run else ""
    lines = []
    if "markdown" in reports:
        lines.append(f"Postmortem: {code_cell(reports['markdown'])}{artifacts}.")
    if "timeline" in reports:
        lines.append(f"Timeline picture: {code_cell(reports['timeline'])}.")
    return [*lines, ""] if lines else []


def _run_url() -> str | None:
    server, repo, run = (
        os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else None


def append_step_summary(markdown: str, path: str | Path | None = None) -> Path | None:
    """Append ``markdown`` to the job summary file (``$GITHUB_STEP_SUMMARY`` unless ``path``).

    Returns the file written, or None when no summary file is named. Text that would take the
    file past GitHub's 1 MiB limit is cut at a line, with a note saying so.
    """
    target = path or os.environ.get(SUMMARY_ENV)
    if not target:
        return None
    file = Path(target)
    used = file.stat().st_size if file.exists() else 0
    data = markdown.encode("utf-8")
    room = STEP_SUMMARY_LIMIT - used - 200
    if len(data) > room:
        cut = data[: max(room, 0)].decode("utf-8", errors="ignore").rsplit("\n", 1)[0]
        data = (
            cut
            + "\n\n_forensics: the rest did not fit GitHub's 1 MiB job summary; see triage.json._\n"
        ).encode()
    with file.open("ab") as fh:
        fh.write(data)
    return file
