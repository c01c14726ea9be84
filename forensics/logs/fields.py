"""How each column of the log frame is read out of a LogEntry: small polars expressions.

Every function here returns an expression (or a Series computed only on the rows that need it)
over the raw frame of ``lines.parse_lines``; ``normalize`` chains them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

import polars as pl

from forensics.schema import SEVERITIES, UTC_NS

_LOG_NAME = re.compile(r"^(projects|organizations|folders|billingAccounts)/([^/]+)/logs/(.+)$")
_RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"
#: Numeric LogSeverity values and the spellings agents and apps use for the named ones.
SEVERITY_ALIASES = {
    **{str(i * 100): name for i, name in enumerate(SEVERITIES)},
    **{name: name for name in SEVERITIES},
    "WARN": "WARNING", "ERR": "ERROR", "CRIT": "CRITICAL", "FATAL": "CRITICAL",
    "EMERG": "EMERGENCY", "TRACE": "DEBUG", "INFORMATION": "INFO",
}  # fmt: skip
GRPC_CODES = [
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
]  # fmt: skip
#: jsonPayload keys that hold the human message, in the order apps and frameworks use them;
#: ``statusDetails`` is what a load balancer entry says instead.
MESSAGE_KEYS = ("message", "msg", "error", "event", "err", "text", "log", "statusDetails")
FALLBACK_CHARS = 500
_LABEL_KEYS = ["project_id", "service_name", "revision_name", "location", "region", "zone"]
_LABEL_KEYS += ["backend_service_name", "url_map_name", "function_name", "module_id"]
_LABEL_KEYS += ["version_id", "container_name", "namespace_name", "job_name", "instance_id"]
#: resource as the log frame reads it: its type and the labels that name service and place.
RESOURCE = pl.Struct(
    {"type": pl.String, "labels": pl.Struct(dict.fromkeys(_LABEL_KEYS, pl.String))}
)
#: The proto payload fields its one-line summary uses.
_PROTO = pl.Struct(
    {
        "@type": pl.String, "serviceName": pl.String, "methodName": pl.String,
        "resourceName": pl.String, "status": pl.Struct({"code": pl.String, "message": pl.String}),
    }
)  # fmt: skip
_PROTO_PATHS = {
    "type": "$['@type']",
    "service": "$.serviceName",
    "method": "$.methodName",
    "resource": "$.resourceName",
    "code": "$.status.code",
    "status": "$.status.message",
}


def nonempty(expr: pl.Expr) -> pl.Expr:
    """``expr`` with empty strings as null (exports write "" for absent labels)."""
    return pl.when(expr.str.len_bytes() > 0).then(expr)


def parse_time(raw: pl.Series) -> pl.Series:
    """RFC 3339 with a zone (Z or offset), 0-9 fractional digits; ``t``/``z``/space spellings too.

    A time without a zone stays null: guessing its zone could move it by hours. The lenient
    spellings are tried only on the values the strict format refused.
    """
    parsed = raw.str.to_datetime(_RFC3339, time_unit="ns", time_zone="UTC", strict=False)
    retry = parsed.is_null() & raw.is_not_null()
    if retry.any():
        idx = retry.arg_true()
        again = (
            raw.gather(idx)
            .str.to_uppercase()
            .str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T")
            .str.to_datetime(_RFC3339, time_unit="ns", time_zone="UTC", strict=False)
        )
        parsed = parsed.scatter(idx, again)
    return parsed.cast(UTC_NS)


def severity() -> pl.Expr:
    """Named or numeric severity, any case; missing or unknown is DEFAULT (as Cloud Logging)."""
    return (
        pl.col("severity")
        .str.strip_chars()
        .str.to_uppercase()
        .replace_strict(SEVERITY_ALIASES, default="DEFAULT")
        .fill_null("DEFAULT")
    )


def decoded_log_names(names: pl.Series) -> tuple[dict[str, str], dict[str, str]]:
    """logName -> log id, and logName -> project, once per distinct logName."""
    log_ids, projects = {}, {}
    for name in names.drop_nulls().unique().to_list():
        match = _LOG_NAME.match(name)
        log_ids[name] = unquote(match[3]) if match else unquote(name)
        if match and match[1] == "projects":
            projects[name] = match[2]
    return log_ids, projects


def resource(frame: pl.DataFrame) -> pl.Series:
    """The resource's type and labels, decoded once per distinct resource JSON text."""
    text = frame["resource"]
    distinct = text.drop_nulls().unique()
    try:
        decoded = distinct.str.json_decode(RESOURCE)
    except pl.exceptions.PolarsError:  # a label value that is an object: look up key by key
        labels = distinct.str.json_path_match("$.labels")
        parts = [labels.str.json_path_match(f"$['{k}']").alias(k) for k in _LABEL_KEYS]
        typ = distinct.str.json_path_match("$.type").alias("type")
        decoded = pl.select(pl.struct(typ, pl.struct(parts).alias("labels"))).to_series()
    table = pl.DataFrame({"resource": distinct, "_res": decoded})
    joined = text.to_frame("resource").join(table, on="resource", how="left", maintain_order="left")
    return joined["_res"]


def _on_rows(values: pl.Series, fn: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """``fn`` applied only to the non-null ``values``, scattered back in place."""
    idx = values.is_not_null().arg_true()
    out = pl.Series(values.name, [None] * len(values), dtype=pl.String)
    return out.scatter(idx, fn(values.gather(idx))) if len(idx) else out


def instance_id(frame: pl.DataFrame) -> pl.Series:
    """labels.instanceId: the Cloud Run / App Engine container instance."""
    return _on_rows(frame["labels"], lambda s: s.str.json_path_match("$.instanceId"))


def json_message(payload: pl.Series) -> pl.Series:
    """jsonPayload.message (or msg, error, ...), each key looked up only where earlier ones were missing.

    A payload with none of them is summarized by its JSON text, cut at ``FALLBACK_CHARS``.
    """
    message = pl.Series("_message", [None] * len(payload), dtype=pl.String)
    todo = payload.is_not_null()
    for key in MESSAGE_KEYS:
        idx = todo.arg_true()
        if not len(idx):
            break
        texts = payload.gather(idx)
        # a literal search is far cheaper than a JSON lookup: look up only where the key may be
        maybe = texts.str.contains(f'"{key}"', literal=True)
        idx, texts = idx.filter(maybe), texts.filter(maybe)
        found = texts.str.json_path_match(f"$['{key}']")
        hit = found.is_not_null() & (found != "")
        message = message.scatter(idx.filter(hit), found.filter(hit))
        todo = todo.scatter(idx.filter(hit), False)
    idx = todo.arg_true()
    if len(idx):
        message = message.scatter(idx, payload.gather(idx).str.slice(0, FALLBACK_CHARS))
    return message


def proto_summary(payload: pl.Series) -> pl.Series:
    """One line per audit (or other proto) payload: type, service, method, status, resource.

    ``AuditLog iap.googleapis.com AuthorizeUser: PERMISSION_DENIED on projects/1/iap_web/...``
    """

    def summarize(texts: pl.Series) -> pl.Series:
        try:
            got = (
                texts.str.json_decode(_PROTO)
                .struct.unnest()
                .select(
                    type="@type",
                    service="serviceName",
                    method="methodName",
                    resource="resourceName",
                    code=pl.col("status").struct.field("code"),
                    status=pl.col("status").struct.field("message"),
                )
            )
        except pl.exceptions.PolarsError:  # a field of an unexpected type: look up one by one
            got = pl.DataFrame({k: texts.str.json_path_match(p) for k, p in _PROTO_PATHS.items()})
        parts = got.with_columns(
            code=pl.col("code").cast(pl.Int64, strict=False)
            .replace_strict(dict(enumerate(GRPC_CODES)), default=None, return_dtype=pl.String)
        )  # fmt: skip
        status_msg = nonempty(pl.col("status"))
        status = pl.concat_str(
            [pl.col("code"), pl.when(status_msg != pl.col("code").fill_null("")).then(status_msg)],
            separator=" ",
            ignore_nulls=True,
        )
        head = pl.concat_str(
            [pl.col("type").str.extract(r"([^./]+)$"), pl.col("service"), pl.col("method")],
            separator=" ",
            ignore_nulls=True,
        )
        line = pl.concat_str(
            [
                head,
                pl.when(status.str.len_bytes() > 0).then(pl.lit(": ") + status),
                pl.when(nonempty(pl.col("resource")).is_not_null()).then(
                    pl.lit(" on ") + pl.col("resource")
                ),
            ],
            ignore_nulls=True,
        )
        return parts.select(line).to_series()

    return _on_rows(payload, summarize)


def latency_seconds(latency: pl.Expr) -> pl.Expr:
    """ "0.102951s" -> 0.102951; a protobuf Duration object {"seconds": .., "nanos": ..} too."""
    as_string = latency.str.strip_chars().str.strip_suffix("s").cast(pl.Float64, strict=False)
    obj = pl.when(latency.str.starts_with("{")).then(latency)

    def part(name: str) -> pl.Expr:
        return obj.str.json_path_match(f"$.{name}").cast(pl.Float64, strict=False).fill_null(0)

    return pl.coalesce(
        as_string, pl.when(obj.is_not_null()).then(part("seconds") + part("nanos") / 1e9)
    )


def http_path(url: pl.Expr) -> pl.Expr:
    """The path of a request URL, without scheme, host, query or fragment ("/" when empty)."""
    path = url.str.extract(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://[^/?#]*)?([^?#]*)")
    return pl.when(url.is_not_null()).then(pl.when(path == "").then(pl.lit("/")).otherwise(path))
