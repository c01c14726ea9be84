"""From the correlation to one ``TestContext`` per failed test: its linked rows and their roles.

The best link per (test, row) is kept; each row gets its role (correlate's ``links.role``, or
the log frame's ``role`` when the link has none; an audit entry is always "audit"), the request
entry correlate tied it to, and how many failed tests share that request
(``Correlation.requests.shared``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from forensics.classify.context import TestContext
from forensics.classify.paths import names_response
from forensics.classify.rows import LinkedRow
from forensics.correlate import Correlation
from forensics.logs.kinds import ROLES


def shared_counts(correlation: Correlation) -> dict[int, int]:
    """Request row -> how many failed tests correlate divided it among (only rows it marked shared)."""
    requests = getattr(correlation, "requests", None)
    if (
        not isinstance(requests, pl.DataFrame)
        or "shared" not in requests.columns
        or requests.is_empty()
    ):
        return {}
    counts = (
        requests.filter(pl.col("shared").fill_null(False))
        .group_by("row")
        .agg(pl.col("test_id").n_unique())
    )
    return {int(r): int(k) for r, k in counts.iter_rows()}


def build_contexts(
    failed: pl.DataFrame,
    logs: pl.DataFrame,
    links: pl.DataFrame,
    shared: dict[int, int] | None = None,
    app_logs_kept: bool = True,
) -> list[TestContext]:
    """A ``TestContext`` per failed test: its linked rows, best link per row, grouped by request.

    ``app_logs_kept``: whether the export keeps the app's lines below WARNING (``app_logs_kept``).
    """
    ids = failed.get_column("test_id").to_list()
    messages = (
        failed.get_column("message").to_list() if "message" in failed.columns else [None] * len(ids)
    )
    best: dict[str, dict[int, dict[str, Any]]] = {t: {} for t in ids}
    if links.height:
        for link in links.filter(pl.col("test_id").is_in(ids)).iter_rows(named=True):
            if link.get("row") is None:
                continue
            seen = best[link["test_id"]].get(int(link["row"]))
            if seen is None or (link.get("strength") or 0.0) > (seen.get("strength") or 0.0):
                best[link["test_id"]][int(link["row"])] = link
    wanted = {r for per in best.values() for r in per}
    by_row: dict[int, dict[str, Any]] = {}
    if wanted and "row" in logs.columns:
        for data in logs.filter(pl.col("row").is_in(list(wanted))).iter_rows(named=True):
            by_row[int(data["row"])] = data
    contexts = []
    memo: dict[tuple[int, int], bool] = {}
    for test_id, message in zip(ids, messages, strict=True):
        rows = [
            _linked(by_row[r], link, shared or {})
            for r, link in sorted(best[test_id].items())
            if r in by_row
        ]
        for row in rows:
            # not for an entry correlate judged another's (a failed request unlike this failure,
            # or the same call made at once by another client): its strength says so
            if (
                row.is_request
                and row.strength > DEMOTED
                and names_response(message, row.get("http_status"), row.get("http_path"))
            ):
                row.strength = max(row.strength, MATCHES_FAILURE)
        contexts.append(TestContext(test_id, rows, message, memo, app_logs_kept))
    return contexts


#: How much a request entry counts when the test's own failure names its status and path
#: (correlate's strength for a runner request that matches the failure). Correlate does not
#: count a 3xx as failing; a test that failed on an IAP sign-in redirect did.
MATCHES_FAILURE = 0.75
#: Correlate's strength for a request it judged not this test's failure (context at most).
DEMOTED = 0.15


#: Severities an export filtered to warnings leaves out.
_QUIET_SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE")


#: An export whose app lines are at least this many and all WARNING or above was filtered so.
FILTERED_MIN_LINES = 10


def app_logs_kept(logs: pl.DataFrame) -> bool:
    """Whether the export keeps the app's quieter lines: False when it holds many app lines
    (``FILTERED_MIN_LINES``) and none below WARNING (an export filtered to
    ``severity>=WARNING``), where a request without app lines may well have had some."""
    if logs.is_empty() or "role" not in logs.columns:
        return True
    app = logs.filter(pl.col("role") == "app")
    if app.height < FILTERED_MIN_LINES:
        return True
    quiet = pl.col("severity").is_null() | pl.col("severity").cast(pl.String).is_in(
        _QUIET_SEVERITIES
    )
    return bool(app.select(quiet.any()).item())


def _linked(data: dict[str, Any], link: dict[str, Any], shared: dict[int, int]) -> LinkedRow:
    own = data["role"]
    role = link.get("role") or own
    if own == "audit" or role not in ROLES:
        role = own
    request_row = link.get("request_row")
    key = int(request_row) if request_row is not None else int(data["row"])
    return LinkedRow(
        data=data,
        strength=float(min(max(link.get("strength") or 0.0, 0.0), 1.0)),
        via=link.get("via") or "",
        role=role,
        request_row=int(request_row) if request_row is not None else None,
        share=shared.get(key, 1),
    )
