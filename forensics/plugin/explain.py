"""The end of a session with failures: get the run's logs, triage, write what was asked for.

Logs come from the exports the user named, or are pulled for the run's window (the recorded
test times plus the usual slack) through ``forensics.live.pull_logs``. Cloud Logging stores an
entry seconds after it was written, so a pull right after the last test may miss the entries of
the last failures: the pull is repeated until the logs reach the start of the last failed test,
at most ``wait_s`` seconds, and how long it waited is reported.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

import forensics
from forensics.exceptions import ForensicsError
from forensics.logs import LoadedLogs
from forensics.plugin.record import RunRecorder
from forensics.plugin.settings import PROJECT_ENV, Settings
from forensics.report import atomic_write, github, write_reports
from forensics.result import TriageResult
from forensics.schema import FAILED_OUTCOMES

#: Seconds between pulls while waiting for late entries (Cloud Logging allows 60 reads a minute).
POLL_S = 1.0
#: Entries this much before the last failed test's start count as having reached it (clock skew).
REACHED_TOLERANCE_S = 1.0
REPORT_LOG = "report.jsonl"
SUMMARY = "summary.md"


@dataclass
class Explained:
    """What the end of the session produced, for the terminal section.

    Attributes:
        result: the triage.
        notes: how the logs were had (read, pulled, waited), one line each.
        reports: report name -> written path (with ``--forensics-out``).
        annotations: GitHub ``::error`` lines to print (on GitHub Actions).
        places: where each failed test is, for annotations.
    """

    result: TriageResult
    notes: list[str] = field(default_factory=list)
    reports: dict[str, Path] = field(default_factory=dict)
    annotations: list[str] = field(default_factory=list)


@dataclass
class Waiting:
    """How to wait for late entries: the clock to read and how to sleep."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def explain_run(
    settings: Settings, recorder: RunRecorder, waiting: Waiting | None = None
) -> Explained:
    """Triage the session's failures and write the outputs ``settings`` ask for.

    Raises:
        UsageError: neither a project nor an export was given.
        ForensicsError: the logs could not be read or pulled (one line, said as a warning).
    """
    if not settings.logs and not settings.project:
        raise forensics.UsageError(
            f"no --forensics-project, {PROJECT_ENV} or --forensics-logs: "
            "nothing to read the run's logs from"
        )
    with tempfile.TemporaryDirectory(prefix="forensics-") as scratch:
        report_log = recorder.write(Path(scratch) / REPORT_LOG)
        tests = forensics.read_tests(report_log)
        if settings.logs:
            logs = forensics.read_logs(*settings.logs)
            notes = [
                f"read {logs.frame.height:,} log entries from {', '.join(map(str, settings.logs))}"
            ]
        else:
            logs, notes = pull_until_reached(
                settings, report_log, tests.frame, waiting or Waiting()
            )
    result = forensics.triage(tests, logs)
    result.redact = True
    explained = Explained(result, notes)
    _write_outputs(explained, settings, recorder)
    return explained


def pull_until_reached(
    settings: Settings, report_log: Path, tests: pl.DataFrame, waiting: Waiting
) -> tuple[LoadedLogs, list[str]]:
    """Pull the run's window until its entries reach the last failed test, at most ``wait_s``."""
    from forensics.live import pull_logs

    assert settings.project is not None
    target = _last_failed_start(tests)
    started = waiting.clock()
    deadline = started + settings.wait_s
    pulls, slept = 0, 0.0
    while True:
        said = io.StringIO()
        with redirect_stderr(said):  # the pull's notes become the section's lines
            logs = pull_logs(
                settings.project,
                tests=[report_log],
                services=settings.services,
                refresh=True,
                progress=False,
            )
        pulls += 1
        reached = target is None or _reaches(logs.frame, target)
        left = deadline - waiting.clock()
        if reached or left <= 0:
            break
        pause = min(POLL_S, left)
        waiting.sleep(pause)
        slept += pause
    notes = [
        line.removeprefix("forensics: ")
        for line in said.getvalue().splitlines()
        if line.strip() and "not cached" not in line  # a run that just ended is never cached
    ]
    if slept:
        notes.append(f"waited {slept:.1f} s for late entries ({pulls} pulls)")
    if not reached:
        notes.append(
            f"the logs did not reach the last failed test within --forensics-wait {settings.wait_s:g} s; "
            "entries still arriving were not seen"
        )
    return logs, notes


def _last_failed_start(tests: pl.DataFrame) -> datetime | None:
    failed = tests.filter(pl.col("outcome").cast(pl.String).is_in(FAILED_OUTCOMES))
    if not failed.height:
        return None
    start = failed.get_column("start").max()
    return start if isinstance(start, datetime) else None


def _reaches(frame: pl.DataFrame, moment: datetime) -> bool:
    if not frame.height:
        return False
    newest = frame.get_column("timestamp").max()
    return isinstance(newest, datetime) and newest >= moment - timedelta(
        seconds=REACHED_TOLERANCE_S
    )


def _write_outputs(explained: Explained, settings: Settings, recorder: RunRecorder) -> None:
    """Reports, summary.md and the GitHub outputs; a file that cannot be written is a note."""
    summary = github.job_summary(explained.result, notes=explained.notes)
    if settings.out:
        try:
            written = write_reports(explained.result, settings.out)
            written["tests"] = recorder.write(settings.out / REPORT_LOG)
            summary = github.job_summary(explained.result, reports=written, notes=explained.notes)
            atomic_write(settings.out / SUMMARY, summary)
            written["summary"] = settings.out / SUMMARY
            explained.reports = written
        except (ForensicsError, OSError) as err:
            explained.notes.append(f"the reports were not written to {settings.out}: {err}")
    if settings.history is not None:
        from forensics.history import record

        try:
            where = record(explained.result, settings.history)
            explained.notes.append(f"run recorded in {where.parent}")
        except (ForensicsError, OSError) as err:
            explained.notes.append(f"the run was not recorded in {settings.history}: {err}")
    if settings.github:
        explained.annotations = github.error_annotations(explained.result, recorder.failed)
        try:
            github.append_step_summary(summary)
        except OSError as err:
            explained.notes.append(f"the job summary was not written: {err}")
