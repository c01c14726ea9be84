"""JSON lines of LogEntries -> a raw frame of typed fields, in polars, with bad lines counted.

The fast path hands the whole batch to ``polars.read_ndjson`` with a fixed schema (only the
fields the log frame needs; numbers that exports write as strings are read as strings and cast
later). An object read into a String field comes back as JSON text, which is how payloads,
labels and the resource are kept without a second parse. Only when polars refuses the batch do
its lines go through Python one by one (a chunk at a time), to name the bad ones ("not JSON",
"not a LogEntry", ...), so damaged input costs time only where the damage is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.exceptions import LogFormatError
from forensics.logs.stdout import looks_like_stdout, wrap_stdout_line
from forensics.result import Skipped

S = pl.String()
_HTTP_FIELDS = ["requestMethod", "requestUrl", "status", "latency", "requestSize", "responseSize"]
_HTTP_FIELDS += ["userAgent", "remoteIp", "protocol", "referer"]

#: The LogEntry fields the log frame is built from; everything else stays in the JSON text.
#: Objects typed String here are read as their JSON text.
RAW_SCHEMA: dict[str, pl.DataType] = {
    "timestamp": S,
    "receiveTimestamp": S,
    "severity": S,
    "logName": S,
    "insertId": S,
    "trace": S,
    "spanId": S,
    "textPayload": S,
    "resource": S,
    "httpRequest": pl.Struct(dict.fromkeys(_HTTP_FIELDS, S)),
    "labels": S,
    "jsonPayload": S,
    "protoPayload": S,
}
#: Fields kept as JSON text (``normalize`` checks the text the fast reader wrote for them).
TEXT_FIELDS = ("resource", "labels", "jsonPayload", "protoPayload")
#: A row with none of these is not a LogEntry (every export carries at least logName or a payload).
ENTRY_KEYS = ["logName", "insertId", "resource", "receiveTimestamp", "textPayload"]
ENTRY_KEYS += ["jsonPayload", "protoPayload"]
CHUNK = 20_000


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


def _nonblank(lines: pl.Series) -> pl.Series:
    return lines.is_not_null() & lines.str.contains(r"\S")


class _LazyLines:
    """The non-blank lines of a batch, split only if some row needs its own JSON text."""

    def __init__(self, data: bytes):
        self.data = data
        self._lines: pl.Series | None = None

    def get(self) -> pl.Series:
        if self._lines is None:
            lines = _split(self.data)
            self._lines = lines.filter(_nonblank(lines)).rename("_text")
        return self._lines


@dataclass
class RawLines:
    """Typed fields of each entry (``RAW_SCHEMA``) plus where each came from.

    ``frame`` has ``source_line``, and either ``_text`` (the entry's JSON, for entries read one
    by one) or ``_pos`` (its index among the batch's non-blank lines, for the fast path).
    """

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    lines: _LazyLines | None = None

    def texts(self, frame: pl.DataFrame) -> pl.Series:
        """The JSON text of each row of ``frame`` (rows of ``self.frame``)."""
        text = frame["_text"]
        missing = text.is_null() & frame["_pos"].is_not_null()
        if self.lines is not None and missing.any():
            idx = missing.arg_true()
            text = text.scatter(idx, self.lines.get().gather(frame["_pos"].gather(idx)))
        return text


def _repair(value: dict[str, Any]) -> dict[str, Any]:
    """Drop an httpRequest that is not an object (polars cannot read it as one)."""
    if "httpRequest" in value and not isinstance(value["httpRequest"], dict):
        return {k: v for k, v in value.items() if k != "httpRequest"}
    return value


def dump(value: Any) -> str:
    """One JSON line; lone surrogates (valid JSON escapes, invalid UTF-8) become U+FFFD."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")
    return text


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
        return bad, [dump(_repair(v)) for v in values]
    if not any(k in value for k in ENTRY_KEYS):
        if looks_like_stdout(value):
            return None, [dump(wrap_stdout_line(value))]
        return "not a LogEntry", []
    try:
        return None, [dump(_repair(value))]
    except RecursionError:
        return "nested too deeply", []


def _read(text: pl.Series) -> pl.DataFrame:
    data = text.str.join("\n").item().encode("utf-8") if len(text) else b""
    frame = pl.read_ndjson(data, schema=RAW_SCHEMA) if data else pl.DataFrame(schema=RAW_SCHEMA)
    if frame.height != len(text):
        raise pl.exceptions.ComputeError("row count differs from line count")
    return frame


def _with_origin(frame: pl.DataFrame, text: pl.Series | None, lines: pl.Series) -> pl.DataFrame:
    n = frame.height
    if text is None:
        return frame.with_columns(
            pl.lit(None, dtype=S).alias("_text"),
            pl.int_range(0, n, dtype=pl.Int64, eager=True).alias("_pos"),
            lines.rename("source_line"),
        )
    return frame.with_columns(
        text.rename("_text"),
        pl.lit(None, dtype=pl.Int64).alias("_pos"),
        lines.rename("source_line"),
    )


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
        for i in range(len(chunk_text)):  # what json reads but polars refuses: too deep for it
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
    return _with_origin(frame, chunk_text, chunk_lines)


def _line_numbers(data: bytes, rows: int, given: list[int] | None, first: int) -> pl.Series:
    """Source line of each row the fast read produced; raise when rows and lines disagree."""
    if given is not None:
        if rows != len(given):
            raise pl.exceptions.ComputeError("row count differs from line count")
        return pl.Series("source_line", given, dtype=pl.Int64)
    if rows == data.count(b"\n") + (0 if data.endswith(b"\n") else 1):
        return pl.int_range(first, first + rows, dtype=pl.Int64, eager=True)  # no blank line
    numbers = _file_lines(data, first)
    if len(numbers) != rows:
        raise pl.exceptions.ComputeError("row count differs from line count")
    return numbers


def _file_lines(data: bytes, first: int) -> pl.Series:
    """The line number of each non-blank line of ``data``, whose first line is ``first``."""
    lines = _split(data)
    every = pl.int_range(first, first + len(lines), dtype=pl.Int64, eager=True)
    return every.filter(_nonblank(lines))


def _unwrap_non_entries(
    frame: pl.DataFrame, lazy: _LazyLines, source: str, strict: bool, bad: dict[str, list[int]]
) -> pl.DataFrame:
    """Rows polars read that are not LogEntries: responses, container stdout lines, or junk."""
    odd = pl.all_horizontal([pl.col(k).is_null() for k in ENTRY_KEYS])
    if not frame.select(odd.any()).item():
        return frame
    others = frame.filter(odd)
    text = RawLines(others, lines=lazy).texts(others)
    fixed = _slow_chunk(text, others["source_line"], source, strict, bad)
    both = pl.concat([frame.filter(~odd), fixed], how="vertical")
    return both.sort("source_line", maintain_order=True)


def parse_lines(
    data: bytes,
    source: str,
    line_numbers: list[int] | None = None,
    strict: bool = False,
    first_line: int = 1,
) -> RawLines:
    """Read JSON lines of LogEntries into a ``RawLines`` frame, counting every line passed over.

    Args:
        data: UTF-8 JSON lines (blank lines allowed).
        source: the file they came from, for ``source_file`` and error messages.
        line_numbers: the source line of each non-blank line, when ``data`` is not a run of the
            file's own lines.
        strict: raise ``LogFormatError`` at the first bad line instead of counting it.
        first_line: the file line of the first line of ``data`` (without ``line_numbers``).
    """
    lazy = _LazyLines(data)
    bad: dict[str, list[int]] = {}
    try:  # the fast path: the whole batch in one multi-threaded read
        whole = pl.read_ndjson(data, schema=RAW_SCHEMA)
        numbers = _line_numbers(data, whole.height, line_numbers, first_line)
        parts = [_unwrap_non_entries(_with_origin(whole, None, numbers), lazy, source, strict, bad)]
    except (pl.exceptions.PolarsError, ValueError):
        bad.clear()
        parts = []
        text = lazy.get()
        if line_numbers is None:
            numbers = _file_lines(data, first_line)
        else:
            numbers = pl.Series(line_numbers, dtype=pl.Int64)
        for start in range(0, len(text), CHUNK):
            chunk, chunk_lines = text.slice(start, CHUNK), numbers.slice(start, CHUNK)
            try:
                frame = _with_origin(_read(chunk), chunk, chunk_lines)
                frame = _unwrap_non_entries(frame, lazy, source, strict, bad)
            except (pl.exceptions.PolarsError, ValueError):
                frame = _slow_chunk(chunk, chunk_lines, source, strict, bad)
            parts.append(frame)
    frame = pl.concat(parts, how="vertical") if parts else pl.DataFrame()
    skipped = [Skipped(source, reason, len(at), min(at)) for reason, at in bad.items()]
    return RawLines(frame, skipped, lazy)
