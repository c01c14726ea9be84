"""Group report files into runs and merge the rows of one run given in several formats.

Two reports describe the same run when they share most test ids and agree on when and how the
tests ran (see ``same_run``). Their rows merge per test id: timing from the most precise format
(reportlog > json-report > junit), the richest message, and a failure is never lost. Reports of
different runs (a rerun, another CI job) stay separate runs: a test that ran twice keeps two rows,
each with its own window, because each execution is explained by its own log entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from forensics.testruns.model import FORMAT_PRECISION, ParsedReport, is_failure

_OVERLAP_SLACK = timedelta(seconds=2)
_ZONE_STEP_S = 15 * 60  # every UTC offset in use is a multiple of 15 minutes
_MAX_ZONE_STEPS = 14 * 4  # offsets run from -12:00 to +14:00
_DURATION_ABS_S = 0.0015  # JUnit's millisecond rounding, with room
_DURATION_REL = 0.001
_FINGERPRINT_SHARE = 0.8  # share of shared tests whose durations must agree


@dataclass
class Run:
    """One test session: rows in run order, and the reports they came from."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    reports: list[ParsedReport] = field(default_factory=list)

    @property
    def base(self) -> ParsedReport:
        return self.reports[0]

    def start(self) -> datetime | None:
        starts = [r["start"] for r in self.rows if r["start"] is not None]
        return min(starts) if starts else None


def _overlaps(
    a: tuple[datetime, datetime], b: tuple[datetime, datetime], shift_s: float = 0.0
) -> bool:
    shift = timedelta(seconds=shift_s)
    return a[0] + shift - _OVERLAP_SLACK <= b[1] and b[0] - _OVERLAP_SLACK <= a[1] + shift


def _clocks_agree(a: ParsedReport, b: ParsedReport) -> bool | None:
    """Whether two reports' windows can be the same session; None when the clocks cannot tell."""
    wa, wb = a.window(), b.window()
    if wa is None or wb is None:
        return None
    if a.clock == b.clock:
        return _overlaps(wa, wb)
    # A naive clock is the runner's local time: the same session appears shifted by whole zones.
    return any(
        _overlaps(wa, wb, k * _ZONE_STEP_S) for k in range(-_MAX_ZONE_STEPS, _MAX_ZONE_STEPS + 1)
    )


def _durations_agree(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two records of a test can be one execution, judged by pytest's durations."""
    da, db = a["duration_s"], b["duration_s"]
    if da is None or db is None:
        return False
    # Every format sums the same phase durations; JUnit rounds them to milliseconds.
    tolerance = _DURATION_ABS_S + _DURATION_REL * max(da, db)
    if abs(da - db) <= tolerance:
        return True
    # junit_duration_report = call writes the call phase alone: never more than the total.
    junit, other = (da, db) if a["source_format"] == "junit" else (db, da)
    return "junit" in (a["source_format"], b["source_format"]) and junit <= other + tolerance


def same_run(run: Run, report: ParsedReport) -> bool:
    """Whether ``report`` describes the session already held in ``run``.

    Both must share at least half of the smaller id set; failures must match test by test; the
    tests' durations must agree for 80% of the shared tests (every format writes pytest's own
    durations, which differ from one run to the next, so they fingerprint a session); and when
    both reports are timed their session windows must overlap (allowing a whole-zone shift when
    one clock is naive). Two jobs of a CI matrix running the same suite at the same moment thus
    stay two runs.
    """
    theirs = {r["test_id"]: r for r in report.rows}
    ours = {r["test_id"]: r for r in run.rows}
    common = ours.keys() & theirs.keys()
    if not common or len(common) * 2 < min(len(ours), len(theirs)):
        return False
    if any(is_failure(ours[t]["outcome"]) != is_failure(theirs[t]["outcome"]) for t in common):
        return False
    agreeing = sum(_durations_agree(ours[t], theirs[t]) for t in common)
    if agreeing < _FINGERPRINT_SHARE * len(common):
        return False
    return _clocks_agree(run.base, report) is not False


def _is_banner(line: str) -> bool:
    text = line.strip()
    return not text or text.startswith(("---", "===")) or text.strip("-= ") == ""


def richer_message(a: str | None, b: str | None) -> str | None:
    """The longer message, plus any line of the other that it lacks (trace ids must survive)."""
    if not a or not b:
        return a or b
    main, other = (a, b) if len(a) >= len(b) else (b, a)
    have = {line.strip() for line in main.splitlines()}
    extra = [
        line for line in other.splitlines() if not _is_banner(line) and line.strip() not in have
    ]
    return main + "\n\n--- also reported ---\n" + "\n".join(extra) if extra else main


def _merge_row(base: dict[str, Any], other: dict[str, Any]) -> None:
    if FORMAT_PRECISION[other["source_format"]] > FORMAT_PRECISION[base["source_format"]] or (
        base["start"] is None and other["start"] is not None
    ):
        for key in (
            "start",
            "stop",
            "window_uncertainty_s",
            "clock",
            "duration_s",
            "source_file",
            "source_format",
        ):
            base[key] = other[key]
    if is_failure(other["outcome"]) and not is_failure(base["outcome"]):
        base["outcome"] = other["outcome"]
    base["message"] = richer_message(base["message"], other["message"])


def group_runs(reports: list[ParsedReport]) -> tuple[list[Run], int]:
    """Runs made of the reports, in time order, and how many rows were merged away.

    Args:
        reports: every report read, in the order the user gave them.

    Returns:
        (runs, duplicates): each run's rows in run order; duplicates counts merged rows.
    """
    runs: list[Run] = []
    duplicates = 0
    # The most precise report of a session becomes its base, so its order and timing lead.
    for report in sorted(reports, key=lambda r: -FORMAT_PRECISION[r.source_format]):
        run = next((r for r in runs if same_run(r, report)), None)
        if run is None:
            runs.append(Run(rows=[dict(row) for row in report.rows], reports=[report]))
            continue
        run.reports.append(report)
        unmatched: dict[str, list[dict[str, Any]]] = {}
        for row in run.rows:
            unmatched.setdefault(row["test_id"], []).append(row)
        for row in report.rows:
            candidates = unmatched.get(row["test_id"])
            if candidates:
                _merge_row(candidates.pop(0), row)
                duplicates += 1
            else:
                run.rows.append(dict(row))
    # Runs in time order; a run without any clock keeps its place after the timed ones.
    runs.sort(key=lambda r: start.timestamp() if (start := r.start()) else float("inf"))
    return runs, duplicates
