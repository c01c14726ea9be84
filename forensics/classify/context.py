"""One failed test's linked rows, grouped by the request each belongs to.

Rules ask structural questions through a ``TestContext``: which rows belong to the same request
as this one, is there an app line for that request, what is the failing request entry, and how
much a row counts (its link, plus what an app line borrows from its failing request).
"""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from typing import Any

from forensics.classify.paths import names_other_path
from forensics.classify.rows import LinkedRow

#: What a time-joined app line that names another request's path still counts for.
DETACHED_FACTOR = 0.25

# An app line is tied to a request entry by time when neither trace nor correlate says so:
# it may be written a little before the platform stamps the request, and up to a few seconds
# after the request ended (flush delay of stdout).
_BEFORE = timedelta(seconds=1)
_AFTER = timedelta(seconds=2)


class TestContext:
    """Every row linked to one failed test, grouped by the request each belongs to."""

    __test__ = False  # not a pytest class

    def __init__(
        self,
        test_id: str,
        rows: list[LinkedRow],
        test_message: str | None = None,
        memo: dict[tuple[int, int], bool] | None = None,
        app_logs_kept: bool = True,
    ):
        self.test_id = test_id
        self.rows = rows
        self.test_message = test_message
        # whether the export keeps the app's quieter lines (below WARNING): when it was filtered
        # to warnings, a request without app lines says nothing of whether the container saw it
        self.app_logs_kept = app_logs_kept
        # Results of row-only conditions (text, fields) by (condition, log row): a row linked to
        # several tests is searched once.
        self.memo: dict[tuple[int, int], bool] = {} if memo is None else memo
        self._group()

    @property
    def requests(self) -> list[LinkedRow]:
        return [r for r in self.rows if r.is_request]

    @property
    def app_rows(self) -> list[LinkedRow]:
        return [r for r in self.rows if r.role == "app"]

    def same_request(self, row: LinkedRow) -> list[LinkedRow]:
        """Rows (other than ``row``) that belong to the same request as ``row``."""
        return row.same

    def effective_strength(self, row: LinkedRow, undivided: bool = False) -> float:
        """How much a row counts: its link, and for an app line also its failing request's link.

        An app line tied to a rejected/failed request entry is as believable as half that entry.
        """
        own = row.undivided if undivided else row.strength
        if row.detached:  # it names another path: about a request this test is not known to make
            return own * DETACHED_FACTOR
        if row.role != "app":
            return own
        # the request's entry, or, when the export has no request log, the app's access line
        # for it ("GET /ws" 403) stands in
        failing = [
            (r.undivided if undivided else r.strength)
            for r in [*self.request_of(row), *(r for r in row.same if r.role == "app")]
            if (r.get("http_status") or r.access_status or 0) >= 400
        ]
        if not failing:
            return own
        return 1.0 - (1.0 - own) * (1.0 - 0.5 * max(failing))

    def request_of(self, row: LinkedRow) -> list[LinkedRow]:
        """The request entries of ``row``'s request (``row`` itself when it is one)."""
        own = [row] if row.is_request else []
        return own + [r for r in row.same if r.is_request]

    def _detach_lines_about_other_paths(self) -> None:
        """Untie a time-joined app line that names another path than its request's."""
        by_row = {r.row: r for r in self.rows}
        for r in self.rows:
            if r.role != "app" or r.get("trace") or r.request_row is None:
                continue
            req = by_row.get(r.request_row)
            if req is not None and names_other_path(r.get("message"), req.get("http_path")):
                r.request_row = None
                r.detached = True

    def _group(self) -> None:
        """Tie rows of one request together.

        Rows sharing correlate's ``request_row`` or a trace id form one group (a load-balancer
        entry, the Cloud Run entry and the app lines of one call). An app line that neither ties
        is given to the one request entry it falls in by time, when correlate did not decide.
        """
        parent = list(range(len(self.rows)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i: int, j: int) -> None:
            parent[find(i)] = find(j)

        self._detach_lines_about_other_paths()
        first: dict[tuple[str, Any], int] = {}
        for i, r in enumerate(self.rows):
            for key in (("req", _request_key(r)), ("trace", r.get("trace"))):
                if key[1] is None or key[1] == "":
                    continue
                if key in first:
                    union(i, first[key])
                else:
                    first[key] = i
        requests = sorted(
            (
                i
                for i, r in enumerate(self.rows)
                if r.is_request and isinstance(r.get("timestamp"), datetime)
            ),
            key=lambda i: self.rows[i].get("timestamp"),
        )
        starts = [self.rows[j].get("timestamp") for j in requests]
        longest = timedelta(
            seconds=max(
                (float(self.rows[j].get("http_latency_s") or 0.0) for j in requests), default=0.0
            )
        )
        for i, r in enumerate(self.rows):
            at = r.get("timestamp")
            if (
                r.role != "app"
                or r.request_row is not None
                or r.via.startswith("app_join")
                or r.get("trace")
                or r.detached
            ):
                continue
            if not isinstance(at, datetime):
                continue
            lo = bisect.bisect_left(starts, at - longest - _AFTER)
            hi = bisect.bisect_right(starts, at + _BEFORE)
            near = [j for j in requests[lo:hi] if _within(self.rows[j], r)]
            if near:  # the last request started before the line, else the first one after it
                before = [j for j in near if self.rows[j].get("timestamp") <= at]
                union(i, before[-1] if before else near[0])
        groups: dict[int, list[LinkedRow]] = {}
        for i, r in enumerate(self.rows):
            groups.setdefault(find(i), []).append(r)
        for members in groups.values():
            for r in members:
                r.same = [m for m in members if m is not r]


def _request_key(row: LinkedRow) -> int | None:
    if row.request_row is not None:
        return row.request_row
    return row.row if row.is_request else None


def _within(req: LinkedRow, app: LinkedRow) -> bool:
    start, at = req.get("timestamp"), app.get("timestamp")
    if not isinstance(start, datetime) or not isinstance(at, datetime):
        return False
    latency = req.get("http_latency_s") or 0.0
    return start - _BEFORE <= at <= start + timedelta(seconds=float(latency)) + _AFTER
