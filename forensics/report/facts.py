"""Facts every report format states the same way: times in UTC, failure times, causes in order.

The text, JSON and markdown reports read a ``TriageResult`` through these helpers so that they
agree on what a timestamp looks like and which failures belong to which cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl

from forensics.labels import LABELS, UNKNOWN
from forensics.oneline import clip as clip  # re-exported: the report modules cut text with it
from forensics.result import Evidence, TriageResult, Verdict

_RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$")
_FRACTION = re.compile(r"(\.\d+)")


def rfc3339(value: Any) -> str | None:
    """``value`` (string, datetime or None) as RFC 3339 in UTC with a ``Z``, or None.

    Cloud Logging timestamps keep their nanoseconds (``...12.123456789Z``); strings with an
    offset are moved to UTC; a string without a zone is taken as UTC (log entries are UTC).
    Text that is not a time is returned unchanged rather than dropped.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")
    text = str(value).strip()
    if _RFC3339_Z.match(text):
        return text
    m = _FRACTION.search(text)
    nanos = m.group(1)[1:] if m else ""
    try:
        dt = datetime.fromisoformat(
            _FRACTION.sub(lambda f: f.group(1)[:7], text, count=1).replace(" ", "T", 1)
        )
    except ValueError:
        return text
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{nanos}Z" if nanos.strip("0") else f"{base}Z"


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime (microseconds) for a timestamp string or datetime; None if not one."""
    text = rfc3339(value)
    if text is None:
        return None
    try:
        return datetime.fromisoformat(
            _FRACTION.sub(lambda f: f.group(1)[:7], text, count=1).replace("Z", "+00:00")
        )
    except ValueError:
        return None


def short_time(value: Any) -> str:
    """``2025-09-07 09:00:01.234Z``: a readable UTC time for tables (milliseconds)."""
    dt = parse_time(value)
    if dt is None:
        return str(value) if value is not None else "-"
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


# C0/C1 controls (ESC starts terminal escape sequences) and bidi overrides that reorder what a
# reader sees; tab and newline are left to each format's own line handling
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with control and bidi-override characters shown as ``\\xNN`` / ``\\uNNNN``.

    Log lines are untrusted: an ESC in one must not recolour or rewrite the user's terminal.
    """
    return _UNPRINTABLE.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def causes_in_order(result: TriageResult) -> list[tuple[str, list[Verdict]]]:
    """(cause, verdicts) for each cause found: most tests first, then TAXONOMY order; unknown last."""
    groups: dict[str, list[Verdict]] = {}
    for v in result.verdicts:
        groups.setdefault(v.root_cause, []).append(v)
    order = {label: i for i, label in enumerate(LABELS)}
    return sorted(
        groups.items(), key=lambda kv: (kv[0] == UNKNOWN, -len(kv[1]), order.get(kv[0], 99))
    )


def unique_evidence(verdicts: list[Verdict]) -> list[Evidence]:
    """The evidence of ``verdicts``, each entry once (by insertId), in time order."""
    seen: dict[tuple[str, str], Evidence] = {}
    for v in verdicts:
        for e in v.evidence:
            seen.setdefault((e.insert_id, e.log_id), e)
    return sorted(
        seen.values(),
        key=lambda e: (parse_time(e.timestamp) or datetime.max.replace(tzinfo=UTC), e.insert_id),
    )


@dataclass(frozen=True)
class FailureTime:
    """When a failed test ran, on Google's clock (``Correlation.test_times``)."""

    test_id: str
    start: datetime | None
    stop: datetime | None
    uncertainty_s: float = 0.0  # +- seconds on start and stop

    @property
    def at(self) -> datetime | None:
        """The moment the failure was seen: the stop time, else the start time."""
        return self.stop or self.start


def failure_times(result: TriageResult) -> dict[str, FailureTime]:
    """Each failed test's start/stop on Google's clock, as the correlation placed them."""
    times = result.test_times
    failed = [v.test_id for v in result.verdicts]
    out: dict[str, FailureTime] = {}
    for row in times.filter(pl.col("test_id").is_in(failed)).iter_rows(named=True):
        out[row["test_id"]] = FailureTime(
            row["test_id"], row["start"], row["stop"], row["uncertainty_s"] or 0.0
        )
    return out


def skipped_lines(result: TriageResult) -> list[str]:
    """One scrubbed line per skipped input: ``file: reason (N skipped, first at line L)``."""
    lines = []
    for s in result.skipped:
        where = f", first at line {s.first_line}" if s.first_line is not None else ""
        lines.append(
            f"{result.scrub(s.source)}: {result.scrub(s.reason)} ({s.count} skipped{where})"
        )
    return lines
