"""LogEntry dicts written into DuckDB tables the way Cloud Logging writes them into BigQuery.

- ``load_sink``: a sink dataset, one table per log (``run_googleapis_com_requests``), date-sharded
  (``..._20260115``, by UTC date) or one partitioned table per log; LogEntry fields are camelCase
  columns, ``httpRequest``/``jsonPayload``/``labels`` are RECORDs, and the keys inside them have
  every character but letters, digits and ``_`` written as ``_``, as a sink names columns.
- ``load_log_analytics``: a linked dataset's ``_AllLogs``: snake_case columns, ``json_payload``,
  ``proto_payload``, ``labels`` and ``resource.labels`` JSON, ``http_request`` a STRUCT.

Each table is one DuckDB table named ``"PROJECT.DATASET.TABLE"`` (the local BigQuery server
rewrites table names in the SQL to these). Types are inferred from every row, as a sink's schema
grows; text that looks like a time stays text, and a key whose values differ in type is JSON.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

Entry = dict[str, Any]
_NOT_COLUMN = re.compile(r"[^A-Za-z0-9_]")
_LA_COLUMNS = {
    "logName": "log_name",
    "timestamp": "timestamp",
    "receiveTimestamp": "receive_timestamp",
    "severity": "severity",
    "insertId": "insert_id",
    "trace": "trace",
    "spanId": "span_id",
    "traceSampled": "trace_sampled",
    "textPayload": "text_payload",
    "operation": "operation",
    "sourceLocation": "source_location",
}
_NO_TIME_DETECTION = "timestampformat='%Y-never', dateformat='%Y-never'"


def table_of_log(log_name: str) -> str:
    """The sink table of a log: ``projects/p/logs/run.googleapis.com%2Frequests`` -> ``run_googleapis_com_requests``."""
    from urllib.parse import unquote

    log_id = unquote(log_name.rsplit("/logs/", 1)[-1]) or "log"
    return _NOT_COLUMN.sub("_", log_id)


def load_sink(
    con: Any, project: str, dataset: str, entries: Iterable[Entry], *, sharded: bool = True
) -> dict[str, int]:
    """Write ``entries`` as a sink dataset; returns each table's name and its size in bytes."""
    tables: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        table = table_of_log(str(entry.get("logName", "")))
        if sharded:
            table += "_" + _utc(entry).strftime("%Y%m%d")
        tables[table].append(_sink_row(entry))
    return {
        name: _create(con, f"{project}.{dataset}.{name}", rows, _SINK_SELECT)
        for name, rows in tables.items()
    }


def load_log_analytics(
    con: Any, project: str, dataset: str, entries: Iterable[Entry]
) -> dict[str, int]:
    """Write ``entries`` as a linked dataset's ``_AllLogs``; returns its name and size in bytes."""
    rows = [_log_analytics_row(e) for e in entries]
    return {"_AllLogs": _create(con, f"{project}.{dataset}._AllLogs", rows, _LA_SELECT)}


_SINK_SELECT = "* REPLACE (CAST(timestamp AS TIMESTAMPTZ) AS timestamp{receive})"
_LA_SELECT = (
    "* EXCLUDE (resource_type, resource_labels, json_payload, proto_payload, labels{receive_x}) "
    "REPLACE (CAST(timestamp AS TIMESTAMPTZ) AS timestamp), "
    "{{'type': resource_type, 'labels': CAST(resource_labels AS JSON)}} AS resource, "
    "CAST(json_payload AS JSON) AS json_payload, CAST(proto_payload AS JSON) AS proto_payload, "
    "CAST(labels AS JSON) AS labels{receive_col}"
)


def _create(con: Any, name: str, rows: list[Entry], select: str) -> int:
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        has_receive = any("receiveTimestamp" in r or "receive_timestamp" in r for r in rows)
        column = "receiveTimestamp" if "{receive}" in select else "receive_timestamp"
        chosen = select.format(
            receive=f", CAST({column} AS TIMESTAMPTZ) AS {column}" if has_receive else "",
            receive_x=", receive_timestamp" if has_receive else "",
            receive_col=", CAST(receive_timestamp AS TIMESTAMPTZ) AS receive_timestamp"
            if has_receive
            else "",
        )
        quoted = '"' + name.replace('"', '""') + '"'
        con.execute(
            f"CREATE OR REPLACE TABLE {quoted} AS SELECT {chosen} FROM read_json(?, "
            f"format='newline_delimited', sample_size=-1, {_NO_TIME_DETECTION})",
            [path],
        )
    finally:
        os.unlink(path)
    return len(text.encode("utf-8"))


def _sink_row(entry: Entry) -> Entry:
    row = {
        k: v
        for k, v in entry.items()
        if k not in ("jsonPayload", "protoPayload", "labels", "resource")
    }
    for key in ("jsonPayload", "labels"):
        if isinstance(entry.get(key), dict) and entry[key]:
            row[key] = _column_names(entry[key])
    proto = entry.get("protoPayload")
    if isinstance(proto, dict) and proto:  # a sink names the column after the payload's type
        kind = str(proto.get("@type", "")).rsplit(".", 1)[-1].lower() or "any"
        row[f"protopayload_{kind}"] = _column_names(
            {k: v for k, v in proto.items() if k != "@type"}
        )
    resource = entry.get("resource") or {}
    row["resource"] = {
        "type": resource.get("type"),
        "labels": _column_names(resource.get("labels") or {}),
    }
    row["timestamp"] = _utc(entry).isoformat()
    return row


def _log_analytics_row(entry: Entry) -> Entry:
    row: Entry = {column: entry[field] for field, column in _LA_COLUMNS.items() if field in entry}
    resource = entry.get("resource") or {}
    row["resource_type"] = resource.get("type")
    row["resource_labels"] = json.dumps(resource.get("labels") or {})
    for field, column in (
        ("jsonPayload", "json_payload"),
        ("protoPayload", "proto_payload"),
        ("labels", "labels"),
    ):
        row[column] = json.dumps(entry[field]) if field in entry else None
    if isinstance(entry.get("httpRequest"), dict):
        row["http_request"] = {_snake(k): v for k, v in entry["httpRequest"].items()}
    if isinstance(entry.get("sourceLocation"), dict):
        row["source_location"] = {_snake(k): v for k, v in entry["sourceLocation"].items()}
    row["timestamp"] = _utc(entry).isoformat()
    row["log_id"] = table_of_log(str(entry.get("logName", "")))
    return row


def _column_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {_NOT_COLUMN.sub("_", k) or "_": _column_names(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_column_names(v) for v in value]
    return value


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _utc(entry: Entry) -> datetime:
    from forensics.emulator.filter import entry_timestamp_ns

    ns = entry_timestamp_ns(entry) or 0
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
