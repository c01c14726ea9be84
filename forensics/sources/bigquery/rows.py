"""A BigQuery row (its ``TO_JSON_STRING`` text) back in the LogEntry shape of ``entries.list``.

The mapping, next to the log frame's (``docs/live-pull.md``):

=====================  ==============================  =====================================
LogEntry field         sink table column               Log Analytics ``_AllLogs`` column
=====================  ==============================  =====================================
logName                logName                         log_name
resource.type/labels   resource.type / .labels RECORD  resource.type / resource.labels JSON
timestamp              timestamp                       timestamp
receiveTimestamp       receiveTimestamp                receive_timestamp
severity               severity                        severity
insertId               insertId                        insert_id
trace, spanId          trace, spanId                   trace, span_id
traceSampled           traceSampled                    trace_sampled
labels                 labels RECORD                   labels JSON
httpRequest            httpRequest RECORD (camelCase)  http_request STRUCT (snake_case)
jsonPayload            jsonPayload RECORD              json_payload JSON
textPayload            textPayload                     text_payload
protoPayload           protopayload_auditlog RECORD    proto_payload JSON
                       (``@type`` from the name)
operation              operation RECORD                operation STRUCT
sourceLocation         sourceLocation RECORD           source_location STRUCT
=====================  ==============================  =====================================

NULL columns are dropped (BigQuery gives every column of every row; an export names only the
fields an entry has). Times become RFC 3339 UTC text with a ``Z``. A sink writes the keys of
``jsonPayload`` with every character but letters, digits and ``_`` as ``_`` (``@type`` is
``_type``); those keys come back as BigQuery wrote them. BigQuery keeps microseconds, so an
entry's nanoseconds are gone.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

Entry = dict[str, Any]

#: Log Analytics column -> LogEntry field (columns not named here are dropped: ``log_id``,
#: ``severity_number``, ``split``, ``error_groups``, ...).
LOG_ANALYTICS_FIELDS = {
    "log_name": "logName",
    "resource": "resource",
    "timestamp": "timestamp",
    "receive_timestamp": "receiveTimestamp",
    "severity": "severity",
    "insert_id": "insertId",
    "trace": "trace",
    "span_id": "spanId",
    "trace_sampled": "traceSampled",
    "labels": "labels",
    "http_request": "httpRequest",
    "json_payload": "jsonPayload",
    "text_payload": "textPayload",
    "proto_payload": "protoPayload",
    "operation": "operation",
    "source_location": "sourceLocation",
}
#: LogEntry fields of a sink table (its columns carry the LogEntry names).
SINK_FIELDS = {name: name for name in LOG_ANALYTICS_FIELDS.values()}
_TIMES = ("timestamp", "receiveTimestamp")
#: A sink's ``protopayload_<type>`` column -> the ``@type`` of the ``protoPayload`` it holds.
PROTO_TYPES = {
    "protopayload_auditlog": "type.googleapis.com/google.cloud.audit.AuditLog",
    "protopayload_requestlog": "type.googleapis.com/google.appengine.logging.v1.RequestLog",
}
_ZONE = re.compile(r"([+-]\d\d)$")
#: BigQuery's INTERVAL as JSON text: ``Y-M D H:M:S[.F]`` (``0-0 0 0:0:0.25``).
_INTERVAL = re.compile(r"^0-0 (?P<d>\d+) (?P<h>\d+):(?P<m>\d+):(?P<s>\d+(?:\.\d+)?)$")


def to_entry(row_json: str, shape: str) -> Entry:
    """The LogEntry dict of one row's JSON text; ``shape`` is ``"sink"`` or ``"log-analytics"``."""
    row = json.loads(row_json)
    fields = SINK_FIELDS if shape == "sink" else LOG_ANALYTICS_FIELDS
    entry: Entry = {}
    for column, name in fields.items():
        value = _drop_nulls(row.get(column))
        if value is None or value == {}:
            continue
        if name == "httpRequest" and shape != "sink":
            value = {_camel(k): v for k, v in value.items()}
        if name == "sourceLocation" and shape != "sink":
            value = {_camel(k): v for k, v in value.items()}
        if name == "httpRequest":
            value = _http_request(value)
        entry[name] = value
    if shape == "sink" and "protoPayload" not in entry:
        entry.update(_proto_payload(row))
    for name in _TIMES:
        if isinstance(entry.get(name), str):
            entry[name] = rfc3339(entry[name])
    return entry


def rfc3339(text: str) -> str:
    """A BigQuery TIMESTAMP as JSON text (``2026-01-15 10:00:00.5+00`` or ISO) as ``...Z`` text."""
    cleaned = _ZONE.sub(r"\1:00", text.strip().replace("Z", "+00:00"))
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _proto_payload(row: Entry) -> Entry:
    """A sink's ``protopayload_<type>`` column as ``protoPayload`` with its ``@type`` back."""
    for column, value in row.items():
        payload = _drop_nulls(value) if column.startswith("protopayload_") else None
        if payload:
            kind = PROTO_TYPES.get(
                column, "type.googleapis.com/" + column.removeprefix("protopayload_")
            )
            return {"protoPayload": {"@type": kind, **payload}}
    return {}


def _http_request(value: Entry) -> Entry:
    latency = value.get("latency")
    seconds: float | None = None
    if isinstance(latency, dict):  # a Duration written as a STRUCT<seconds, nanos>
        seconds = float(latency.get("seconds") or 0) + float(latency.get("nanos") or 0) / 1e9
    elif isinstance(latency, (int, float)):
        seconds = float(latency)
    elif isinstance(latency, str) and (interval := _INTERVAL.match(latency)):  # an INTERVAL
        days, hours, minutes, secs = (float(interval[n]) for n in ("d", "h", "m", "s"))
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds is not None:
        value["latency"] = f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"
    for size in ("requestSize", "responseSize", "cacheFillBytes"):
        if isinstance(value.get(size), int):  # int64 fields are strings in LogEntry JSON
            value[size] = str(value[size])
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _drop_nulls(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in kept.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
