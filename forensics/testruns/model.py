"""The shape every report reader hands to the loader: rows of one run, and what was passed over."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from forensics.exceptions import TestReportError
from forensics.result import Skipped
from forensics.schema import FAILED_OUTCOMES

#: Latest epoch second a test frame can hold (its nanosecond datetimes end in 2262); a larger
#: time field in a report is damage, not a moment.
LATEST_EPOCH_S = 7e9
#: How precise each format's timing is; the loader keeps the most precise one of a merged test.
FORMAT_PRECISION = {"reportlog": 3, "json-report": 2, "junit": 1}


@dataclass
class ParsedReport:
    """One report file read into rows (TEST_SCHEMA columns except ``order``), in run order."""

    path: str
    source_format: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, list[int | None]] = field(default_factory=dict)

    def skip(self, reason: str, line: int | None, *, strict: bool) -> None:
        """Count one passed-over line or entry, or fail on it when ``strict``."""
        if strict:
            raise TestReportError(reason, path=self.path, line=line)
        self.skipped.setdefault(reason, []).append(line)

    def skipped_list(self) -> list[Skipped]:
        """The passed-over input as ``Skipped`` records, one per reason."""
        return [
            Skipped(source=self.path, reason=reason, count=len(lines), first_line=lines[0])
            for reason, lines in self.skipped.items()
        ]

    def window(self) -> tuple[datetime, datetime] | None:
        """Earliest start and latest stop of the rows (widened by their uncertainty), if timed."""
        starts = [r["start"] for r in self.rows if r["start"] is not None]
        if not starts:
            return None
        slack = max((r["window_uncertainty_s"] or 0.0) for r in self.rows)
        lo = min(starts).timestamp() - slack
        hi = (
            max(r["stop"] or r["start"] for r in self.rows if r["start"] is not None).timestamp()
            + slack
        )
        return datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC)

    @property
    def clock(self) -> str:
        """The clock of the report: the first timed row's, else ``"none"``."""
        return next((r["clock"] for r in self.rows if r["clock"] != "none"), "none")


def make_row(
    test_id: str,
    outcome: str,
    *,
    report: ParsedReport,
    message: str | None,
    duration_s: float | None,
    start: datetime | None = None,
    stop: datetime | None = None,
    uncertainty_s: float | None = None,
    clock: str = "none",
) -> dict[str, Any]:
    """A test-frame row (without ``order``) from one report."""
    return {
        "test_id": test_id,
        "outcome": outcome,
        "start": start,
        "stop": stop,
        "duration_s": duration_s,
        "window_uncertainty_s": uncertainty_s,
        "clock": clock,
        "message": message or None,
        "source_file": report.path,
        "source_format": report.source_format,
    }


def is_failure(outcome: str) -> bool:
    """Whether an outcome counts as a failed test."""
    return outcome in FAILED_OUTCOMES


def join_message(*parts: str | None) -> str | None:
    """Non-empty parts joined by blank lines; ``None`` when nothing is left."""
    kept = [p.strip("\n") for p in parts if p and p.strip()]
    return "\n\n".join(kept) if kept else None


#: Which outcome a test keeps when one report lists it twice (a call failure plus a teardown
#: error): a failure of the test body outranks an error around it, any failure outranks the rest.
_OUTCOME_RANK = {"failed": 5, "error": 4, "xpassed": 3, "xfailed": 2, "skipped": 1, "passed": 0}


def worse_outcome(a: str, b: str) -> str:
    """The outcome to keep when two records of one test execution disagree."""
    return a if _OUTCOME_RANK.get(a, 0) >= _OUTCOME_RANK.get(b, 0) else b
