"""Container stdout JSON lines -> LogEntries, the way Cloud Logging's agents wrap them.

Cloud Run, GKE and Cloud Functions turn each JSON line an app prints into a LogEntry whose
``jsonPayload`` is the line, lifting the special fields out of it (the "structured logging"
contract of ``google.cloud.logging.handlers.StructuredLogHandler`` and friends):
``severity``, ``logging.googleapis.com/{labels,trace,spanId,trace_sampled,sourceLocation,
insertId,operation}``, ``httpRequest``, and the time (``time``, ``timestamp``, or
``timestampSeconds`` + ``timestampNanos``). A saved stdout capture has no logName and, when
the app did not print a time, no timestamp: such lines are counted as "no timestamp".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_PREFIX = "logging.googleapis.com/"
_LIFTED = {
    _PREFIX + "labels": "labels",
    _PREFIX + "trace": "trace",
    _PREFIX + "spanId": "spanId",
    _PREFIX + "trace_sampled": "traceSampled",
    _PREFIX + "sourceLocation": "sourceLocation",
    _PREFIX + "insertId": "insertId",
    _PREFIX + "operation": "operation",
}


def looks_like_stdout(value: dict[str, Any]) -> bool:
    """A JSON object an app printed for the logging agent (not an arbitrary JSON document)."""
    return any(k.startswith(_PREFIX) for k in value) or (
        "severity" in value and any(k in value for k in ("message", "msg"))
    )


def _time_of(value: dict[str, Any]) -> str | None:
    for key in ("time", "timestamp"):
        got = value.pop(key, None)
        if isinstance(got, str) and got:
            return got
    seconds = value.pop("timestampSeconds", None)
    nanos = value.pop("timestampNanos", 0)
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        whole = datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{whole}.{int(nanos or 0):09d}Z"
    return None


def wrap_stdout_line(value: dict[str, Any]) -> dict[str, Any]:
    """The LogEntry Cloud Logging would store for one structured stdout line."""
    payload = dict(value)
    entry: dict[str, Any] = {}
    if (ts := _time_of(payload)) is not None:
        entry["timestamp"] = ts
    if "severity" in payload:
        entry["severity"] = payload.pop("severity")
    for key, field in _LIFTED.items():
        got = payload.pop(key, None)
        if got not in (None, "", {}):
            entry[field] = got
    http = payload.pop("httpRequest", None)
    if isinstance(http, dict) and http:
        entry["httpRequest"] = http
    entry["jsonPayload"] = payload
    return entry
