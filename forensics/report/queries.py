"""Find the evidence again: a Cloud Logging query and a Logs Explorer link per set of entries.

A postmortem claim is only as good as the reader's ability to open the entries behind it. For a
set of ``Evidence`` this builds the query language filter (``insertId`` list, the time range, the
logName when known) and the Logs Explorer URL that opens it in the project the entries came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import polars as pl

from forensics.report.facts import parse_time, rfc3339
from forensics.result import Evidence

EXPLORER = "https://console.cloud.google.com/logs/query"
#: Seconds added on each side of the evidence's time range, so entries at its edges are inside.
MARGIN_S = 1.0

_PROJECT = re.compile(r"^projects/([^/]+)/logs/")


@dataclass(frozen=True)
class LogQuery:
    """A Cloud Logging filter for some evidence, and where to open it."""

    project: str | None
    filter: str
    start: str | None  # RFC 3339 UTC, second precision
    end: str | None

    @property
    def url(self) -> str:
        """The Logs Explorer link: query and time range url-encoded, ``?project=`` when known."""
        link = f"{EXPLORER};query={quote(self.filter, safe='')}"
        if self.start and self.end:
            link += f";timeRange={quote(self.start, safe=':')}%2F{quote(self.end, safe=':')}"
        if self.project:
            link += f"?project={quote(self.project, safe='')}"
        return link


def _instant(value: datetime) -> str:
    """A datetime as RFC 3339 (never None: it is a datetime)."""
    return rfc3339(value) or value.isoformat()


def _q(value: str) -> str:
    """A string literal of the logging query language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def project_of(log_name: str | None) -> str | None:
    """The project id in a logName ``projects/P/logs/ID``, else None."""
    m = _PROJECT.match(log_name or "")
    return m.group(1) if m else None


def log_names_by_insert_id(logs: pl.DataFrame | None) -> dict[str, str]:
    """insertId -> logName from the log frame, for evidence that did not carry its logName."""
    if logs is None or logs.height == 0 or not {"insert_id", "log_name"} <= set(logs.columns):
        return {}
    pairs = (
        logs.select("insert_id", "log_name").drop_nulls().unique(subset="insert_id", keep="first")
    )
    return dict(pairs.iter_rows())


def queries_for(
    evidence: Iterable[Evidence], known_log_names: dict[str, str] | None = None
) -> list[LogQuery]:
    """One ``LogQuery`` per project the evidence comes from (one without a project if unknown).

    Args:
        evidence: the entries to find again.
        known_log_names: insertId -> logName, used when an ``Evidence`` has no ``log_name``.

    Returns:
        Queries in project order; empty when there is no evidence.
    """
    known = known_log_names or {}
    by_project: dict[str | None, list[tuple[Evidence, str | None]]] = {}
    for e in evidence:
        name = e.log_name or known.get(e.insert_id)
        by_project.setdefault(project_of(name), []).append((e, name))
    out = []
    for project in sorted(by_project, key=lambda p: (p is None, p or "")):
        items = by_project[project]
        ids = sorted({e.insert_id for e, _ in items if e.insert_id})
        names = sorted({n for _, n in items if n})
        times = [t for t in (parse_time(e.timestamp) for e, _ in items) if t is not None]
        clauses = []
        if ids:
            clauses.append(" OR ".join(f"insertId={_q(i)}" for i in ids))
        if names:
            clauses.append(" OR ".join(f"logName={_q(n)}" for n in names))
        start = end = None
        if times:
            start = _instant(min(times).replace(microsecond=0) - timedelta(seconds=MARGIN_S))
            end = _instant(max(times).replace(microsecond=0) + timedelta(seconds=MARGIN_S + 1))
            clauses.append(f"timestamp>={_q(start)} AND timestamp<={_q(end)}")
        text = "\n".join(f"({c})" if " OR " in c and len(clauses) > 1 else c for c in clauses)
        out.append(LogQuery(project=project, filter=text, start=start, end=end))
    return out


def window_query(project: str | None, start: datetime, end: datetime) -> LogQuery:
    """Everything logged between ``start`` and ``end`` (whole seconds, widened outward)."""
    lo = _instant(start.replace(microsecond=0))
    hi = _instant(end.replace(microsecond=0) + timedelta(seconds=1 if end.microsecond else 0))
    return LogQuery(
        project=project, filter=f"timestamp>={_q(lo)} AND timestamp<={_q(hi)}", start=lo, end=hi
    )


def main_project(logs: pl.DataFrame | None) -> str | None:
    """The project most log rows come from (``project`` column, else from ``log_name``), or None."""
    if logs is None or logs.height == 0:
        return None
    for col in ("project", "log_name"):
        if col in logs.columns:
            values = logs.get_column(col).drop_nulls()
            if values.len():
                top = values.mode().sort()[0]
                return top if col == "project" else project_of(top)
    return None
