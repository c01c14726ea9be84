"""LogEntry JSON text -> the typed log frame, as a chain of polars steps.

``lines.parse_lines`` reads the typed fields of every entry; the steps here turn them into the
columns of ``forensics.schema.LOG_SCHEMA`` (each column's reading lives in ``fields``):

1. ``_exact_text``: payload/labels/resource text the fast reader could not write exactly is
   taken from the entry's own JSON instead.
2. ``_decoded``: timestamps, resource labels, instance id, message of JSON and proto payloads,
   each read only on the rows that have them, side by side on threads.
3. ``_times``: entries that cannot be placed in time are counted and dropped.
4. ``_columns``: the frame itself.
5. ``kinds.entry_kinds``: what each row is (``layer``, ``role``, ``client_kind``), decided once
   per distinct log id, resource type and user agent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import partial
from typing import Any

import polars as pl

from forensics.logs import fields as F
from forensics.logs.kinds import entry_kinds
from forensics.logs.lines import TEXT_FIELDS, RawLines, parse_lines
from forensics.result import Skipped
from forensics.schema import LOG_SCHEMA, Severity

#: A control character or backslash in text polars wrote from an object means the text is not
#: exact JSON (polars does not escape them when it turns an object into a string).
_INEXACT = r"(?-u)[\x00-\x1f\\]"


def _in_parallel(*jobs: Callable[[], pl.Series]) -> list[pl.Series]:
    """Run independent column computations on threads: polars releases the GIL while it works,
    so single-threaded string kernels on different columns use different cores."""
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        return [f.result() for f in [pool.submit(job) for job in jobs]]


def _inexact_rows(frame: pl.DataFrame, column: str) -> pl.Series:
    """Rows whose text in ``column`` may not be exact JSON; checked once per distinct text."""
    text = frame[column]
    if column == "resource":  # few distinct resources: check those, then map back
        distinct = text.drop_nulls().unique()
        bad = distinct.filter(distinct.str.contains(_INEXACT))
        return text.is_in(bad.implode()).fill_null(False)
    return text.str.contains(_INEXACT).fill_null(False)


def _exact_text(raw: RawLines) -> pl.DataFrame:
    """Replace inexact JSON text of payloads, labels and resource with the exact one."""
    frame = raw.frame
    if raw.lines is not None and b"\\" not in raw.lines.data:
        return frame  # no escape anywhere in the input: nothing can have been lost
    checks = _in_parallel(*(partial(_inexact_rows, frame, c) for c in TEXT_FIELDS))
    rows = pl.select(pl.any_horizontal(checks)).to_series()
    if not rows.any():
        return frame
    idx = rows.arg_true()
    text = raw.texts(frame.gather(idx))
    updates = [frame[c].scatter(idx, text.str.json_path_match(f"$.{c}")) for c in TEXT_FIELDS]
    return frame.with_columns(updates)


def _decoded(frame: pl.DataFrame) -> pl.DataFrame:
    """Timestamps, resource, instance, messages: each from its own fields, side by side."""
    ts, rts, res, instance, message, proto = _in_parallel(
        partial(F.parse_time, frame["timestamp"]),
        partial(F.parse_time, frame["receiveTimestamp"]),
        partial(F.resource, frame),
        partial(F.instance_id, frame),
        partial(F.json_message, frame["jsonPayload"]),
        partial(F.proto_summary, frame["protoPayload"]),
    )
    return frame.with_columns(
        ts.alias("_ts"),
        rts.alias("_rts"),
        res.alias("_res"),
        instance.alias("_instance"),
        message.alias("_message"),
        proto.alias("_proto_line"),
    )


def _times(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Skipped]]:
    """A missing timestamp falls back to receiveTimestamp; an unusable one is skipped, counted."""
    given, ts, rts = frame["timestamp"].is_not_null(), frame["_ts"], frame["_rts"]
    invalid = given & ts.is_null()
    missing = ~given & rts.is_null()
    skipped = []
    reasons = [("invalid timestamp (no zone or not RFC 3339)", invalid), ("no timestamp", missing)]
    for reason, rows in reasons:
        if rows.any():  # only then is a filter (a copy of every column) worth its cost
            lines = frame["source_line"].filter(rows)
            skipped.append(Skipped(source, reason, len(lines), lines.min()))
    if skipped:
        frame = frame.filter(~invalid & ~missing)
    if frame["_ts"].null_count():
        frame = frame.with_columns(_ts=pl.coalesce("_ts", "_rts"))
    return frame, skipped


def _columns(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    log_ids, projects = F.decoded_log_names(frame["logName"])
    res = pl.col("_res").struct.field("labels")
    http = pl.col("httpRequest").struct.field
    url = http("requestUrl")

    def lab(name: str) -> pl.Expr:
        return F.nonempty(res.struct.field(name))

    kind = (
        pl.when(pl.col("textPayload").is_not_null()).then(pl.lit("text"))
        .when(pl.col("jsonPayload").is_not_null()).then(pl.lit("json"))
        .when(pl.col("protoPayload").is_not_null()).then(pl.lit("proto"))
    )  # fmt: skip

    def by_name(mapping: dict[str, str]) -> pl.Expr:
        return pl.col("logName").replace_strict(mapping, default=None, return_dtype=pl.String)

    return frame.select(
        timestamp=pl.col("_ts"),
        receive_timestamp=pl.col("_rts"),
        severity=F.severity().cast(Severity),
        log_name=pl.col("logName"),
        log_id=by_name(log_ids),
        project=pl.coalesce(by_name(projects), lab("project_id")),
        resource_type=pl.col("_res").struct.field("type"),
        service=pl.coalesce(
            lab("service_name"),
            lab("function_name"),
            lab("module_id"),
            lab("job_name"),
            lab("backend_service_name"),
            lab("url_map_name"),
            lab("container_name"),
            lab("namespace_name"),
        ),
        revision=pl.coalesce(lab("revision_name"), lab("version_id")),
        location=pl.coalesce(lab("location"), lab("region"), lab("zone")),
        instance_id=pl.coalesce(F.nonempty(pl.col("_instance")), lab("instance_id")),
        insert_id=F.nonempty(pl.col("insertId")),
        trace=F.nonempty(pl.col("trace").str.replace(r"^projects/[^/]*/traces/", "")),
        span_id=F.nonempty(pl.col("spanId")),
        http_method=http("requestMethod"),
        http_url=url,
        http_path=F.http_path(url),
        http_status=http("status").cast(pl.Int32, strict=False),
        http_latency_s=F.latency_seconds(http("latency")),
        http_user_agent=http("userAgent"),
        http_remote_ip=http("remoteIp"),
        http_protocol=http("protocol"),
        http_request_size=http("requestSize").cast(pl.Int64, strict=False),
        http_response_size=http("responseSize").cast(pl.Int64, strict=False),
        http_referer=http("referer"),
        payload_kind=kind,
        message=pl.coalesce("textPayload", "_message", "_proto_line"),
        payload=pl.coalesce("jsonPayload", "protoPayload"),
        labels=pl.col("labels"),
        source_file=pl.lit(source, dtype=pl.String),
        source_line=pl.col("source_line"),
    )


def normalize(raw: RawLines, source: str) -> tuple[pl.DataFrame, list[Skipped]]:
    """The log frame of one batch of raw lines, plus the entries skipped for their timestamps."""
    if raw.frame.is_empty():
        return entry_kinds(pl.DataFrame(schema=LOG_SCHEMA)), list(raw.skipped)
    frame, skipped = _times(_decoded(_exact_text(raw)), source)
    frame = _columns(frame, source).cast(LOG_SCHEMA)  # type: ignore[arg-type]
    return entry_kinds(frame), raw.skipped + skipped


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return str(value)


def entries_to_json_lines(entries: Iterable[dict[str, Any]]) -> bytes:
    """Already parsed LogEntry dicts as JSON lines (one C-accelerated ``json.dumps`` each)."""
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default).encode
    # errors="replace": a lone surrogate in a Python string has no UTF-8 form
    return "\n".join(map(dumps, entries)).encode("utf-8", errors="replace")


def entries_to_frame(entries: Iterable[dict[str, Any]], source: str) -> pl.DataFrame:
    """Normalize already-parsed LogEntry dicts (API ``entries.list`` shape) into the log frame.

    Args:
        entries: LogEntry dicts with camelCase keys, as ``entries.list`` returns them; a
            ``datetime`` in them is written as RFC 3339.
        source: what ``source_file`` says for these rows, e.g. ``"cloud-logging:PROJECT"``.

    Returns:
        The log frame, in the order given (``source_line`` is the 1-based position). Entries
        that cannot be placed in time or are not LogEntries are left out.
    """
    frame, _ = normalize(parse_lines(entries_to_json_lines(entries), source), source)
    return frame
