"""Frames around a triage: failure windows on Google time, filters, neighbourhoods, unexplained rows.

Each helper reads a ``TriageResult`` and returns a polars frame; the plots (``forensics.plot``)
and the notebooks build on them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import polars as pl

from forensics.explore.templates import mask
from forensics.labels import UNKNOWN
from forensics.logs.kinds import entry_kinds
from forensics.result import TriageResult
from forensics.schema import UTC_NS

WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "root_cause": pl.String(),
    "start": UTC_NS,  # the test's own start/stop on Google's clock (``Correlation.test_times``)
    "stop": UTC_NS,
    "lo": UTC_NS,  # the correlation's window, else start/stop widened by their uncertainty
    "hi": UTC_NS,
}


def clock_offset(result: TriageResult) -> tuple[float | None, float | None, str | None]:
    """The runner's clock offset (Google minus runner, s), its +- uncertainty and how it was found:
    the correlation's when the result carries one, else the run's (None when unknown)."""
    clock = result.correlation.clock if result.correlation is not None else result.clock
    if clock is None:
        return None, None, None
    return clock.offset_s, clock.uncertainty_s, clock.method


def annotate(logs: pl.DataFrame) -> pl.DataFrame:
    """``logs`` with ``role`` (request, edge, app, audit, other: as the rules see rows), ``layer``
    ("edge": written by a Google front end, "app": by the service) and ``status_class`` ("2xx" ..
    "5xx", or "no status")."""
    if "role" not in logs.columns:  # a frame built by hand: its kinds, as the loader decides them
        logs = entry_kinds(logs)
    status = pl.col("http_status")
    return logs.with_columns(
        layer=pl.when(pl.col("role").is_in(("request", "edge", "audit")))
        .then(pl.lit("edge"))
        .otherwise(pl.lit("app")),
        status_class=pl.when(status.is_between(100, 599))
        .then((status // 100).cast(pl.String) + pl.lit("xx"))
        .otherwise(pl.lit("no status")),
    )


#: Columns a person reads first, in reading order; others present (via, evidence, layer) follow.
_READABLE = (
    "timestamp",
    "service",
    "log_id",
    "severity",
    "http_status",
    "http_method",
    "http_path",
    "message",
)
_EXTRA = ("role", "layer", "evidence", "via", "strength", "trace", "insert_id")
_SCRUBBED = (
    "message",
    "http_path",
    "http_url",
    "http_user_agent",
    "http_referer",
    "payload",
    "labels",
)


def readable(
    result: TriageResult, logs: pl.DataFrame, *, extra: tuple[str, ...] = ()
) -> pl.DataFrame:
    """The columns of ``logs`` a person reads, secrets redacted, for showing in a notebook.

    Args:
        result: the triage the rows come from (its ``scrub`` decides redaction).
        logs: log rows (any frame with log-frame columns).
        extra: further columns to keep after the usual ones.
    """
    keep = [c for c in (*_READABLE, *_EXTRA, *extra) if c in logs.columns]
    frame = logs.select(keep)
    for column in _SCRUBBED:
        if column in frame.columns:
            frame = frame.with_columns(
                pl.col(column).map_elements(result.scrub, return_dtype=pl.String)
            )
    return frame


def _with_row(logs: pl.DataFrame) -> pl.DataFrame:
    return logs if "row" in logs.columns else logs.with_row_index("row")


def failure_windows(result: TriageResult) -> pl.DataFrame:
    """One row per verdict: the failed test's window on Google time (``WINDOW_SCHEMA``).

    ``start``/``stop`` are the test's own times as the correlation placed them on Google's clock
    (``Correlation.test_times``); ``lo``/``hi`` are the correlation's window for the test, else
    start/stop widened by their uncertainty. Tests without a start time (JUnit without per-test
    timestamps) get null times.
    """
    verdicts = pl.DataFrame(
        {
            "test_id": [v.test_id for v in result.verdicts],
            "root_cause": [v.root_cause for v in result.verdicts],
        },
        schema={"test_id": pl.String, "root_cause": pl.String},
    )
    frame = verdicts.join(
        result.test_times.select("test_id", "start", "stop", "uncertainty_s"),
        on="test_id",
        how="left",
        maintain_order="left",
    )
    widen = pl.duration(
        microseconds=(pl.col("uncertainty_s").fill_null(0.0) * 1e6).round().cast(pl.Int64)
    )
    frame = frame.with_columns(lo=pl.col("start") - widen, hi=pl.col("stop") + widen)
    windows = result.correlation.windows if result.correlation is not None else None
    if windows is not None and windows.height:
        own = windows.select("test_id", pl.col("lo").alias("_lo"), pl.col("hi").alias("_hi"))
        frame = frame.join(own, on="test_id", how="left", maintain_order="left").with_columns(
            lo=pl.coalesce("_lo", "lo"), hi=pl.coalesce("_hi", "hi")
        )
    return frame.select(list(WINDOW_SCHEMA)).cast(WINDOW_SCHEMA)  # type: ignore[arg-type]


def linked_rows(result: TriageResult, test_id: str) -> pl.DataFrame:
    """The log rows tied to one failed test: the correlation's links when it looked for the test's
    rows (it has a window for it), else the rows in the test's window."""
    logs = _with_row(result.logs)
    corr = result.correlation
    links = corr.links if corr is not None else None
    looked = corr is not None and test_id in corr.windows.get_column("test_id")
    if links is not None and {"test_id", "row"} <= set(links.columns):
        mine = links.filter(pl.col("test_id") == test_id).select(
            pl.col("row").cast(pl.UInt32), *[c for c in ("via", "strength") if c in links.columns]
        )
        if looked or not mine.is_empty():
            rows = mine.join(
                logs.with_columns(pl.col("row").cast(pl.UInt32)), on="row", how="inner"
            )
            return rows.sort("timestamp")
    window = failure_windows(result).filter(pl.col("test_id") == test_id)
    if window.is_empty() or window.item(0, "lo") is None:
        return logs.clear()
    return logs.filter(
        pl.col("timestamp").is_between(window.item(0, "lo"), window.item(0, "hi"))
    ).sort("timestamp")


def evidence_rows(result: TriageResult, test_id: str) -> pl.DataFrame:
    """The log rows a verdict cites as evidence, in time order."""
    ids = [e.insert_id for v in result.verdicts if v.test_id == test_id for e in v.evidence]
    return _with_row(result.logs).filter(pl.col("insert_id").is_in(ids)).sort("timestamp")


def request_behind(result: TriageResult, insert_id: str, seconds: float = 1.0) -> pl.DataFrame:
    """Every entry of the request an entry belongs to: same trace, or else the same service's
    entries within ``seconds`` of it (app logs often carry no trace id)."""
    logs = _with_row(result.logs)
    entry = logs.filter(pl.col("insert_id") == insert_id)
    if entry.is_empty():
        return logs.clear()
    trace = entry.item(0, "trace")
    if trace:
        return logs.filter(pl.col("trace") == trace).sort("timestamp")
    at: datetime = entry.item(0, "timestamp")
    near = pl.col("timestamp").is_between(
        at - timedelta(seconds=seconds), at + timedelta(seconds=seconds)
    )
    same_service = (
        pl.col("service") == entry.item(0, "service") if entry.item(0, "service") else pl.lit(True)
    )
    return logs.filter(near & same_service).sort("timestamp")


def filter_logs(
    logs: pl.DataFrame,
    *,
    service: str | list[str] | None = None,
    status: int | str | list[int | str] | None = None,
    layer: str | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    text: str | None = None,
) -> pl.DataFrame:
    """The log rows that match every filter given.

    Args:
        logs: a log frame (``result.logs``).
        service: one service name or several.
        status: HTTP statuses as numbers (403) or classes ("4xx"); several allowed.
        layer: "edge" (front-end request logs) or "app" (the service's own logs).
        start: keep rows at or after this UTC time (datetime or ISO text).
        end: keep rows at or before this UTC time.
        text: a case-insensitive regular expression the message must match.
    """
    frame = annotate(logs)
    if service is not None:
        frame = frame.filter(
            pl.col("service").is_in([service] if isinstance(service, str) else service)
        )
    if status is not None:
        wanted = status if isinstance(status, list) else [status]
        codes = [int(s) for s in wanted if str(s).isdigit()]
        classes = [str(s) for s in wanted if not str(s).isdigit()]
        frame = frame.filter(
            pl.col("http_status").is_in(codes) | pl.col("status_class").is_in(classes)
        )
    if layer is not None:
        frame = frame.filter(pl.col("layer") == layer)
    for bound, keep in ((start, pl.Expr.__ge__), (end, pl.Expr.__le__)):
        if bound is not None:
            moment = (
                datetime.fromisoformat(bound.replace("Z", "+00:00"))
                if isinstance(bound, str)
                else bound
            )
            frame = frame.filter(keep(pl.col("timestamp"), pl.lit(moment).cast(UTC_NS)))
    if text:
        frame = frame.filter(pl.col("message").str.contains("(?i)" + text).fill_null(False))
    return frame


def neighbourhood(result: TriageResult, test_id: str, seconds: float = 5.0) -> pl.DataFrame:
    """Every log row from ``seconds`` before a failed test's window to ``seconds`` after it, with
    ``layer``, ``status_class`` and ``evidence`` (cited by the verdict) columns."""
    window = failure_windows(result).filter(pl.col("test_id") == test_id)
    if window.is_empty():
        raise KeyError(f"{test_id!r} is not a failed test of this result")
    cited = evidence_rows(result, test_id).get_column("insert_id").to_list()
    frame = annotate(_with_row(result.logs)).with_columns(evidence=pl.col("insert_id").is_in(cited))
    lo, hi = window.item(0, "lo"), window.item(0, "hi")
    if lo is None:  # no window: centre on the verdict's own evidence instead
        return frame.filter(pl.col("evidence")).sort("timestamp")
    pad = timedelta(seconds=seconds)
    return frame.filter(pl.col("timestamp").is_between(lo - pad, hi + pad)).sort("timestamp")


# An app's own access-log line for a request that succeeded ("GET /health HTTP/1.1" 200 OK, Express
# "GET /health 200 3.1 ms", Go "GET /health -> 204"): the app serving a request is not a failure.
_OK_ACCESS_LINE = r"\b(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+/\S*(?:\s+HTTP/[\d.]+)?\"?\s*(?:->|returned|status[=:]?)?\s*[23]\d\d\b"


def unexplained(result: TriageResult, *, include_ok: bool = False) -> pl.DataFrame:
    """Entries near failures that no verdict cites: what a new rule might explain.

    For every failed test, the rows tied to it (``linked_rows``) that are not evidence of a decided
    verdict. Successful requests (HTTP < 400, and app access-log lines
    reporting a 2xx/3xx) are left out unless ``include_ok``. Messages are
    redacted as the result's other output is.

    Returns:
        A frame with ``test_id``, ``root_cause`` (``unknown`` for failures no rule decided), the
        log columns a reader needs, and ``template`` (the masked message), in time order.
    """
    decided = {e.insert_id for v in result.verdicts if v.root_cause != UNKNOWN for e in v.evidence}
    parts: list[pl.DataFrame] = []
    for verdict in result.verdicts:
        rows = linked_rows(result, verdict.test_id)
        if rows.is_empty():
            continue
        rows = rows.filter(~pl.col("insert_id").is_in(list(decided)).fill_null(False))
        if not include_ok:
            ok_line = pl.col("message").str.contains(_OK_ACCESS_LINE).fill_null(False)
            rows = rows.filter(
                (pl.col("http_status").is_null() & ~ok_line) | (pl.col("http_status") >= 400)
            )
        parts.append(
            rows.select(
                pl.lit(result.scrub(verdict.test_id)).alias("test_id"),
                pl.lit(verdict.root_cause).alias("root_cause"),
                "timestamp",
                "service",
                "log_id",
                pl.col("severity").cast(pl.String),
                "http_status",
                "http_path",
                "message",
                "insert_id",
                "row",
            ).with_columns(pl.col("row").cast(pl.UInt32))
        )
    if not parts:
        return _empty_unexplained()
    frame = pl.concat(parts, how="vertical_relaxed").sort("timestamp", "test_id")
    frame = frame.with_columns(pl.col("message").map_elements(result.scrub, return_dtype=pl.String))
    return frame.with_columns(template=mask(frame.get_column("message")))


def _empty_unexplained() -> pl.DataFrame:
    schema: dict[str, Any] = {
        "test_id": pl.String,
        "root_cause": pl.String,
        "timestamp": UTC_NS,
        "service": pl.String,
        "log_id": pl.String,
        "severity": pl.String,
        "http_status": pl.Int32,
        "http_path": pl.String,
        "message": pl.String,
        "insert_id": pl.String,
        "row": pl.UInt32,
        "template": pl.String,
    }
    return pl.DataFrame(schema=schema)
