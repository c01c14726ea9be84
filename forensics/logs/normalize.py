"""LogEntry JSON text -> the typed log frame, as a chain of polars steps.

``lines.parse_lines`` reads the typed fields of every entry; the steps here turn them into the
columns of ``forensics.schema.LOG_SCHEMA``: timestamps, severity, where the entry came from
(log id, project, resource), the HTTP request, and what it says (message, payload). Values that
repeat (logName, severity) are decoded once per distinct value, not once per row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

import polars as pl

from forensics.logs.lines import RawLines, parse_lines
from forensics.result import Skipped
from forensics.schema import LOG_SCHEMA, SEVERITIES, UTC_NS, Severity

_LOG_NAME = re.compile(r"^(projects|organizations|folders|billingAccounts)/([^/]+)/logs/(.+)$")
_RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"
#: Numeric LogSeverity values and the spellings agents and apps use for the named ones.
_SEVERITY_ALIASES = {
    **{str(i * 100): name for i, name in enumerate(SEVERITIES)},
    **{name: name for name in SEVERITIES},
    "WARN": "WARNING", "ERR": "ERROR", "CRIT": "CRITICAL", "FATAL": "CRITICAL",
    "EMERG": "EMERGENCY", "TRACE": "DEBUG", "INFORMATION": "INFO",
}  # fmt: skip
_GRPC_CODES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]  # fmt: skip
#: jsonPayload keys that hold the human message, in the order apps and frameworks use them.
MESSAGE_KEYS = ("message", "msg", "error", "event", "err", "text", "log", "statusDetails")
_FALLBACK_CHARS = 500


def _nonempty(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_bytes() > 0).then(expr)


def _parse_time(col: str) -> pl.Expr:
    """RFC 3339 with a zone (Z or offset), 0-9 fractional digits; ``t``/``z``/space spellings too."""
    raw = pl.col(col)
    strict = raw.str.to_datetime(_RFC3339, time_unit="ns", time_zone="UTC", strict=False)
    lenient = (
        pl.when(strict.is_null())
        .then(raw)
        .str.to_uppercase()
        .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
        .str.to_datetime(_RFC3339, time_unit="ns", time_zone="UTC", strict=False)
    )
    return pl.coalesce(strict, lenient).cast(UTC_NS)


def _decoded_log_names(names: pl.Series) -> tuple[dict[str, str], dict[str, str]]:
    """logName -> log id and logName -> project, once per distinct logName."""
    log_ids, projects = {}, {}
    for name in names.drop_nulls().unique().to_list():
        match = _LOG_NAME.match(name)
        log_ids[name] = unquote(match[3]) if match else unquote(name)
        if match and match[1] == "projects":
            projects[name] = match[2]
    return log_ids, projects


def _times(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Skipped]]:
    """Parse both timestamps; a missing one falls back to receiveTimestamp, a broken one is skipped."""
    invalid = pl.col("timestamp").is_not_null() & pl.col("_ts").is_null()
    missing = pl.col("timestamp").is_null() & pl.col("_rts").is_null()
    skipped = []
    for reason, cond in (
        ("invalid timestamp (no zone or not RFC 3339)", invalid),
        ("no timestamp", missing),
    ):
        lines = frame.filter(cond)["source_line"]
        if len(lines):
            skipped.append(Skipped(source, reason, len(lines), lines.min()))
    frame = frame.filter(~invalid & ~missing).with_columns(_ts=pl.coalesce("_ts", "_rts"))
    return frame, skipped


def _payload_text(frame: pl.DataFrame) -> pl.DataFrame:
    """JSON text of payloads and labels, and both timestamps, in one step polars runs in parallel.

    Each JSON lookup reads only the rows that have the field (the others are null, and cost nothing).
    """
    text = pl.col("_text")
    return frame.with_columns(
        _json=pl.when(pl.col("jsonPayload").is_not_null())
        .then(text)
        .str.json_path_match("$.jsonPayload"),
        _proto=pl.when(pl.col("protoPayload").is_not_null())
        .then(text)
        .str.json_path_match("$.protoPayload"),
        _labels=pl.when(pl.col("labels").is_not_null()).then(text).str.json_path_match("$.labels"),
        _ts=_parse_time("timestamp"),
        _rts=_parse_time("receiveTimestamp"),
    )


def _json_message(frame: pl.DataFrame) -> pl.Series:
    """jsonPayload.message (or msg, error, ...), each key looked up only where the earlier ones were missing."""
    payload = frame["_json"]
    message = pl.Series("message", [None] * len(payload), dtype=pl.String)
    todo = payload.is_not_null()
    for key in MESSAGE_KEYS:
        idx = todo.arg_true()
        if not len(idx):
            break
        found = payload.gather(idx).str.json_path_match(f"$['{key}']")
        hit = found.is_not_null()
        message = message.scatter(idx.filter(hit), found.filter(hit))
        todo = todo.scatter(idx.filter(hit), False)
    idx = todo.arg_true()
    if len(idx):
        message = message.scatter(idx, payload.gather(idx).str.slice(0, _FALLBACK_CHARS))
    return message


def _proto_summary() -> pl.Expr:
    """One line for an audit (or other proto) payload: type, service, method, status, resource."""
    proto = pl.col("protoPayload")
    code = proto.struct.field("status").struct.field("code").cast(pl.Int64, strict=False)
    code_name = code.replace_strict(
        dict(enumerate(_GRPC_CODES)), default=None, return_dtype=pl.String
    )
    status_msg = _nonempty(proto.struct.field("status").struct.field("message"))
    status = pl.concat_str(
        [code_name, pl.when(status_msg != code_name.fill_null("")).then(status_msg)],
        separator=" ",
        ignore_nulls=True,
    )
    head = pl.concat_str(
        [
            proto.struct.field("@type").str.extract(r"([^./]+)$"),
            proto.struct.field("serviceName"),
            proto.struct.field("methodName"),
        ],
        separator=" ",
        ignore_nulls=True,
    )
    return pl.concat_str(
        [
            head,
            pl.when(status.str.len_bytes() > 0).then(pl.lit(": ") + status),
            pl.when(_nonempty(proto.struct.field("resourceName")).is_not_null()).then(
                pl.lit(" on ") + proto.struct.field("resourceName")
            ),
        ],
        ignore_nulls=True,
    )


def _columns(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    log_ids, projects = _decoded_log_names(frame["logName"])
    res = pl.col("resource").struct.field("labels")
    http = pl.col("httpRequest")
    url = http.struct.field("requestUrl")
    lab = lambda name: _nonempty(res.struct.field(name))  # noqa: E731
    kind = (
        pl.when(pl.col("textPayload").is_not_null()).then(pl.lit("text"))
        .when(pl.col("jsonPayload").is_not_null()).then(pl.lit("json"))
        .when(pl.col("protoPayload").is_not_null()).then(pl.lit("proto"))
    )  # fmt: skip
    return frame.select(
        timestamp=pl.col("_ts"),
        receive_timestamp=pl.col("_rts"),
        severity=pl.col("severity")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(_SEVERITY_ALIASES, default="DEFAULT")
        .fill_null("DEFAULT")
        .cast(Severity),
        log_name=pl.col("logName"),
        log_id=pl.col("logName").replace_strict(log_ids, default=None, return_dtype=pl.String),
        project=pl.coalesce(
            pl.col("logName").replace_strict(projects, default=None, return_dtype=pl.String),
            lab("project_id"),
        ),
        resource_type=pl.col("resource").struct.field("type"),
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
        instance_id=pl.coalesce(
            _nonempty(pl.col("labels").struct.field("instanceId")), lab("instance_id")
        ),
        insert_id=_nonempty(pl.col("insertId")),
        trace=_nonempty(pl.col("trace").str.replace(r"^projects/[^/]*/traces/", "")),
        span_id=_nonempty(pl.col("spanId")),
        http_method=http.struct.field("requestMethod"),
        http_url=url,
        http_path=pl.when(url.is_not_null()).then(
            url.str.extract(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*)?([^?#]*)").replace("", "/")
        ),
        http_status=http.struct.field("status").cast(pl.Int32, strict=False),
        http_latency_s=http.struct.field("latency")
        .str.strip_chars()
        .str.strip_suffix("s")
        .cast(pl.Float64, strict=False),
        http_user_agent=http.struct.field("userAgent"),
        http_remote_ip=http.struct.field("remoteIp"),
        http_protocol=http.struct.field("protocol"),
        http_request_size=http.struct.field("requestSize").cast(pl.Int64, strict=False),
        http_response_size=http.struct.field("responseSize").cast(pl.Int64, strict=False),
        http_referer=http.struct.field("referer"),
        payload_kind=kind,
        message=pl.coalesce(
            pl.col("textPayload"),
            pl.col("_message"),
            pl.when(kind == "proto").then(_proto_summary()),
        ),
        payload=pl.coalesce(pl.col("_json"), pl.col("_proto")),
        labels=pl.col("_labels"),
        source_file=pl.lit(source, dtype=pl.String),
        source_line=pl.col("source_line"),
    )


def normalize(raw: RawLines, source: str) -> tuple[pl.DataFrame, list[Skipped]]:
    """The log frame of one batch of raw lines, plus the entries skipped for their timestamps."""
    if raw.frame.is_empty():
        return pl.DataFrame(schema=LOG_SCHEMA), list(raw.skipped)
    frame, skipped = _times(_payload_text(raw.frame), source)
    frame = frame.with_columns(_message=_json_message(frame))
    return _columns(frame, source).cast(LOG_SCHEMA), raw.skipped + skipped


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    return str(value)


def entries_to_json_lines(entries: Iterable[dict[str, Any]]) -> bytes:
    """Already parsed LogEntry dicts as JSON lines (one ``json.dumps`` each, C-accelerated)."""
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default).encode
    return "\n".join(map(dumps, entries)).encode("utf-8")


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
