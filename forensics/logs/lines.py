"""JSON lines of LogEntries -> a raw frame of typed fields, in polars, with bad lines counted.

The fast path hands the whole batch to ``polars.read_ndjson`` with a fixed schema (only the
fields the log frame needs; numbers that exports write as strings are read as strings and cast
later). Only when polars refuses a chunk do its lines go through Python one by one, to name the
bad ones ("not JSON", "not a LogEntry", ...) and to repair fields of an unexpected JSON type, so
damaged input costs time only where the damage is.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from forensics.exceptions import LogFormatError
from forensics.logs.stdout import looks_like_stdout, wrap_stdout_line
from forensics.result import Skipped

S = pl.String()
#: resource.labels the log frame uses (each field of a nested struct costs read time: keep few).
RESOURCE_LABELS = pl.Struct(
    dict.fromkeys(
        [
            "project_id",
            "service_name",
            "revision_name",
            "location",
            "region",
            "zone",
            "backend_service_name",
            "url_map_name",
            "function_name",
            "module_id",
            "version_id",
            "container_name",
            "namespace_name",
            "job_name",
            "instance_id",
        ],
        S,
    )
)

#: The LogEntry fields the log frame is built from; everything else stays in the JSON text.
RAW_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": S,
    "receiveTimestamp": S,
    "severity": S,
    "logName": S,
    "insertId": S,
    "trace": S,
    "spanId": S,
    "textPayload": S,
    "resource": pl.Struct({"type": S, "labels": RESOURCE_LABELS}),
    "httpRequest": pl.Struct(
        dict.fromkeys(
            [
                "requestMethod",
                "requestUrl",
                "status",
                "latency",
                "requestSize",
                "responseSize",
                "userAgent",
                "remoteIp",
                "protocol",
                "referer",
            ],
            S,
        )
    ),
    "labels": pl.Struct({"instanceId": S}),
    "jsonPayload": pl.Struct({"@type": S}),
    "protoPayload": pl.Struct(
        {
            "@type": S,
            "serviceName": S,
            "methodName": S,
            "resourceName": S,
            "status": pl.Struct({"code": S, "message": S}),
        }
    ),
}
_STRUCT_FIELDS = {k: v for k, v in RAW_SCHEMA.items() if isinstance(v, pl.Struct)}
#: Fields every export writes as JSON numbers: pyarrow reads them as such (it will not turn a
#: number into a string); polars, the second reader, takes either spelling.
_NUMBERS = {"status", "code"}


def _arrow_type(dtype: pl.DataType, name: str) -> pa.DataType:
    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow_type(f.dtype, f.name)) for f in dtype.fields])
    return pa.int64() if name in _NUMBERS else pa.string()


_ARROW_OPTIONS = pa_json.ParseOptions(
    explicit_schema=pa.schema([(k, _arrow_type(v, k)) for k, v in RAW_SCHEMA.items()]),
    unexpected_field_behavior="ignore",
)
#: A row with none of these is not a LogEntry (every export carries at least logName or a payload).
ENTRY_KEYS = [
    "logName",
    "insertId",
    "resource",
    "receiveTimestamp",
    "textPayload",
    "jsonPayload",
    "protoPayload",
]
CHUNK = 20_000


@dataclass
class RawLines:
    """Typed fields of each entry (``RAW_SCHEMA``) plus ``_text`` (its JSON) and ``source_line``."""

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)


def _split(data: bytes) -> pl.Series:
    """Every line of ``data`` (blank ones too, so row i is line i+1)."""
    try:
        # \x01 cannot occur raw in valid JSON, so each line is one field; multi-threaded and fast.
        lines = pl.read_csv(
            data, has_header=False, separator="\x01", quote_char=None,
            schema={"line": S}, eol_char="\n", raise_if_empty=False,
        )["line"]  # fmt: skip
        if len(lines) == data.count(b"\n") + (0 if data.endswith(b"\n") else 1):
            return lines
    except pl.exceptions.PolarsError:
        pass
    parts = data.decode("utf-8").split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return pl.Series("line", parts, dtype=S)


def _repair(value: dict[str, Any]) -> dict[str, Any]:
    """Coerce fields polars could not read into the types the LogEntry spec gives them."""
    fixed = dict(value)
    for key in _STRUCT_FIELDS:
        if key in fixed and not isinstance(fixed[key], dict):
            fixed.pop(key)
    http = fixed.get("httpRequest")
    if isinstance(http, dict):
        latency = http.get("latency")
        if isinstance(latency, dict):  # protobuf Duration as an object
            seconds = float(latency.get("seconds") or 0) + float(latency.get("nanos") or 0) / 1e9
            http = {**http, "latency": f"{seconds:.9f}s"}
        fixed["httpRequest"] = {
            k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in http.items()
        }
    for key in (
        "timestamp",
        "receiveTimestamp",
        "severity",
        "logName",
        "insertId",
        "trace",
        "spanId",
        "textPayload",
    ):
        if isinstance(fixed.get(key), (dict, list)):
            fixed[key] = json.dumps(fixed[key])
    for key, dtype in _STRUCT_FIELDS.items():
        inner = fixed.get(key)
        if isinstance(inner, dict):
            fixed[key] = _fit(inner, dtype)
    return fixed


def _fit(value: dict[str, Any], dtype: pl.Struct) -> dict[str, Any]:
    """Keep ``value``'s other keys for the JSON text, but make the schema's fields readable."""
    out = dict(value)
    for fld in dtype.fields:
        if fld.name not in out:
            continue
        got = out[fld.name]
        if isinstance(fld.dtype, pl.Struct):
            out[fld.name] = _fit(got, fld.dtype) if isinstance(got, dict) else None
        elif isinstance(got, (dict, list)):
            out[fld.name] = json.dumps(got)
    return out


def _classify(line: str) -> tuple[str | None, list[str]]:
    """(reason it is bad, or None) and the JSON lines to read in its place."""
    try:
        value = json.loads(line)
    except RecursionError:
        return "nested too deeply", []
    except ValueError:
        return "not JSON", []
    if not isinstance(value, dict):
        return "not a LogEntry", []
    if isinstance(value.get("entries"), list) and "logName" not in value:  # entries.list response
        values = [v for v in value["entries"] if isinstance(v, dict)]
        bad = None if len(values) == len(value["entries"]) else "not a LogEntry"
        return bad, [json.dumps(_repair(v), ensure_ascii=False) for v in values]
    if not any(k in value for k in ENTRY_KEYS):
        if looks_like_stdout(value):
            return None, [json.dumps(wrap_stdout_line(value), ensure_ascii=False)]
        return "not a LogEntry", []
    try:
        return None, [json.dumps(_repair(value), ensure_ascii=False)]
    except RecursionError:
        return "nested too deeply", []
    except (ValueError, TypeError):
        return "unreadable LogEntry fields", []


def _read_whole(data: bytes) -> pl.DataFrame:
    """All lines at once: pyarrow's reader first (the fastest here), polars' when types differ."""
    try:
        table = pa_json.read_json(io.BytesIO(data), parse_options=_ARROW_OPTIONS)
        return pl.from_arrow(table).cast(RAW_SCHEMA)  # type: ignore[union-attr]
    except (pa.ArrowException, pl.exceptions.PolarsError):
        return pl.read_ndjson(data, schema=RAW_SCHEMA)


def _read(text: pl.Series) -> pl.DataFrame:
    data = text.str.join("\n").item().encode("utf-8") if len(text) else b""
    frame = pl.read_ndjson(data, schema=RAW_SCHEMA) if data else pl.DataFrame(schema=RAW_SCHEMA)
    if frame.height != len(text):
        raise pl.exceptions.ComputeError("row count differs from line count")
    return frame


def _slow_chunk(
    text: pl.Series, lines: pl.Series, source: str, strict: bool, bad: dict[str, list[int]]
) -> pl.DataFrame:
    """Read a chunk polars refused line by line, naming each bad line."""
    good_text: list[str] = []
    good_lines: list[int] = []
    for line_text, line_no in zip(text.to_list(), lines.to_list(), strict=True):
        reason, replacement = _classify(line_text)
        if reason and strict:
            raise LogFormatError(reason, path=source, line=line_no)
        if reason:
            bad.setdefault(reason, []).append(line_no)
        good_text.extend(replacement)
        good_lines.extend([line_no] * len(replacement))
    chunk_text = pl.Series("_text", good_text, dtype=S)
    chunk_lines = pl.Series("source_line", good_lines, dtype=pl.Int64)
    try:
        frame = _read(chunk_text)
    except (pl.exceptions.PolarsError, ValueError):
        keep = []
        for i in range(len(chunk_text)):
            try:
                _read(chunk_text.slice(i, 1))
                keep.append(i)
            except (pl.exceptions.PolarsError, ValueError):
                if strict:
                    raise LogFormatError(
                        "nested too deeply", path=source, line=good_lines[i]
                    ) from None
                bad.setdefault("nested too deeply", []).append(good_lines[i])
        chunk_text, chunk_lines = chunk_text.gather(keep), chunk_lines.gather(keep)
        frame = _read(chunk_text)
    return frame.with_columns(chunk_text, chunk_lines)


def parse_lines(
    data: bytes, source: str, line_numbers: list[int] | None = None, strict: bool = False
) -> RawLines:
    """Read JSON lines of LogEntries into a ``RawLines`` frame, counting every line passed over."""
    lines = _split(data)
    blank = lines.is_null() | (lines.str.strip_chars().str.len_bytes() == 0)
    if line_numbers is None:
        numbers = pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True).filter(~blank)
    else:
        numbers = pl.Series(line_numbers, dtype=pl.Int64)
    text = lines.filter(~blank).rename("_text")
    numbers = numbers.rename("source_line")
    bad: dict[str, list[int]] = {}
    parts = []
    try:  # the fast path: the whole batch in one multi-threaded read
        whole = _read_whole(data)
        if whole.height != len(text):
            raise pl.exceptions.ComputeError("row count differs from line count")
        parts.append(_unwrap_non_entries(whole.with_columns(text, numbers), source, strict, bad))
    except (pl.exceptions.PolarsError, ValueError):
        for start in range(0, len(text), CHUNK):
            chunk, chunk_lines = text.slice(start, CHUNK), numbers.slice(start, CHUNK)
            try:
                frame = _read(chunk).with_columns(chunk, chunk_lines)
                frame = _unwrap_non_entries(frame, source, strict, bad)
            except (pl.exceptions.PolarsError, ValueError):
                frame = _slow_chunk(chunk, chunk_lines, source, strict, bad)
            parts.append(frame)
    frame = pl.concat(parts, how="vertical") if parts else pl.DataFrame()
    skipped = [Skipped(source, reason, len(at), min(at)) for reason, at in bad.items()]
    return RawLines(frame, skipped)


def _unwrap_non_entries(
    frame: pl.DataFrame, source: str, strict: bool, bad: dict[str, list[int]]
) -> pl.DataFrame:
    """Rows polars read that are not LogEntries: responses, container stdout lines, or junk."""
    odd = pl.all_horizontal([pl.col(k).is_null() for k in ENTRY_KEYS])
    if not frame.select(odd.any()).item():
        return frame
    others = frame.filter(odd)
    fixed = _slow_chunk(others["_text"], others["source_line"], source, strict, bad)
    return pl.concat([frame.filter(~odd), fixed], how="vertical").sort(
        "source_line", maintain_order=True
    )
