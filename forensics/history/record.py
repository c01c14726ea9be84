"""Record a run into the history: from a fresh triage, or from one done earlier.

``record(result, DIR)`` is what ``triage --history`` and the pytest plugin call. ``record_path``
takes what a user has on disk: a ``triage.json`` (from ``--format json`` or ``--out``), a folder
holding one, or a run folder with its test reports and ``logs/`` (triaged now).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from forensics.exceptions import HistoryError, InputError
from forensics.history.ci import CiFacts, ci_facts
from forensics.history.rows import run_frame
from forensics.history.store import history_dir, write_run
from forensics.result import TriageResult
from forensics.runfacts import RunFacts
from forensics.schema import FAILED_OUTCOMES, empty_log_frame, empty_test_frame

#: Test report names looked for in a run folder, and its log folder.
REPORT_NAMES = ("junit.xml", "report.jsonl", "report.json")
LOG_FOLDER = "logs"


def record(
    result: TriageResult,
    history: str | Path | None = None,
    *,
    ci: CiFacts | Mapping[str, str] | None = None,
    recorded_at: datetime | None = None,
) -> Path:
    """Add a triaged run to the history (the same run recorded again replaces itself).

    Args:
        result: the triage of the run; its redaction setting applies to what is stored.
        history: the history folder; default ``$FORENSICS_HISTORY``, else ``.forensics/history``.
        ci: the CI facts, or the environment variables to read them from; default this process's
            environment (GitHub Actions, GitLab CI, Cloud Build, Jenkins, Buildkite).
        recorded_at: when it was recorded (default now).

    Returns:
        The partition written (``DIR/<run_id>.parquet``).

    Raises:
        HistoryError: the run has no tests, or the folder cannot be written.
    """
    if not result.tests.height:
        raise HistoryError("the run has no tests to record")
    facts = ci if isinstance(ci, CiFacts) else ci_facts(ci)
    frame = run_frame(result, ci=facts, recorded_at=recorded_at)
    return write_run(frame, history_dir(history))


def record_path(
    path: str | Path,
    history: str | Path | None = None,
    *,
    ci: CiFacts | Mapping[str, str] | None = None,
) -> Path:
    """Record a run triaged earlier (``triage.json`` or a folder holding one), or a run folder
    with test reports and ``logs/`` (triaged now).

    Raises:
        InputError: ``path`` is neither.
    """
    path = Path(path)
    if path.is_dir() and (path / "triage.json").is_file():
        path = path / "triage.json"
    if path.is_file():
        return record(result_from_json(path), history, ci=ci)
    if path.is_dir():
        reports = [path / n for n in REPORT_NAMES if (path / n).is_file()]
        if reports and (path / LOG_FOLDER).exists():
            from forensics.triage import triage

            return record(triage(reports, [path / LOG_FOLDER]), history, ci=ci)
    raise InputError(
        "not a triage.json, nor a folder with triage.json or with test reports "
        f"({', '.join(REPORT_NAMES)}) and {LOG_FOLDER}/",
        path=path,
    )


def _resolve(name: str, base: Path) -> Path | None:
    """A path a report names: as written (relative to where triage ran), else beside the report."""
    for candidate in (Path(name), base / name, base / Path(name).name):
        if candidate.exists():
            return candidate
    return None


def result_from_json(path: Path) -> TriageResult:
    """A ``TriageResult`` rebuilt from a JSON report: its verdicts and run facts as written; the
    test reports and logs it names re-read when they are still there (for passed tests and the
    revisions), else only its failures are known."""
    from forensics.logs import read_logs
    from forensics.report.json import skipped_from_json, verdicts_from_json
    from forensics.testruns import read_tests

    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"not a triage JSON report: {err}", path=path) from err
    if not isinstance(data, dict) or "failures" not in data or "run" not in data:
        raise InputError("not a triage JSON report (no run and failures)", path=path)
    run = RunFacts.from_dict(data["run"])
    verdicts = verdicts_from_json(data)
    base = path.parent
    test_files = [p for f in (run.tests.files if run.tests else ()) if (p := _resolve(f, base))]
    log_files = [p for f in (run.logs.files if run.logs else ()) if (p := _resolve(f, base))]
    tests = read_tests(*test_files).frame if test_files else _failures_only(verdicts)
    logs = read_logs(*log_files).frame if log_files else empty_log_frame()
    return TriageResult(
        verdicts=verdicts, run=run, logs=logs, tests=tests, skipped=skipped_from_json(data)
    )


def _failures_only(verdicts: list[Any]) -> pl.DataFrame:
    """A test frame of the failed tests alone, for a report whose test files are gone."""
    frame = empty_test_frame()
    rows = pl.DataFrame(
        {"test_id": [v.test_id for v in verdicts], "outcome": [FAILED_OUTCOMES[0]] * len(verdicts)},
        schema={"test_id": pl.String, "outcome": frame.schema["outcome"]},
    )
    return pl.concat([frame, rows], how="diagonal")
