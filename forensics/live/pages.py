"""``entries.list`` pages as JSON text per entry, and JSON text to the log frame, with no per-entry objects kept.

A page is split with the C JSON scanner (``JSONDecoder.raw_decode``), which reports where each entry
ends, so each entry's exact text is sliced out of the response instead of re-encoded later. Those
texts feed the cache, ``pull --out`` and the polars reader directly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl

from forensics.logs import LoadedLogs
from forensics.logs.lines import parse_lines
from forensics.logs.load import dedupe_entries
from forensics.logs.normalize import normalize
from forensics.result import Skipped

_DECODER = json.JSONDecoder()
_WS = " \t\r\n"


class PageFormatError(ValueError):
    """The response is not an ``entries.list`` JSON object."""


def split_page(raw: bytes | str) -> tuple[list[str], str | None]:
    """The JSON text of each entry of a page, and its ``nextPageToken`` (None when absent or "").

    Raises:
        PageFormatError: the body is not a JSON object of the ``entries.list`` shape.
    """
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        return _scan(text)
    except (ValueError, IndexError) as err:
        raise PageFormatError(f"not an entries.list response ({err})") from None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _scan(text: str) -> tuple[list[str], str | None]:
    pos = _skip(text, 0)
    if text[pos] != "{":
        raise ValueError("expected a JSON object")
    texts: list[str] = []
    token: str | None = None
    pos = _skip(text, pos + 1)
    while text[pos] != "}":
        key, pos = _DECODER.raw_decode(text, pos)
        pos = _skip(text, pos)
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos = _skip(text, pos + 1)
        if key == "entries":
            if text[pos] != "[":
                raise ValueError("'entries' is not an array")
            pos = _entries(text, pos, texts)
        else:
            value, pos = _DECODER.raw_decode(text, pos)
            if key == "nextPageToken":
                token = value if isinstance(value, str) and value else None
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos] != "}":
            raise ValueError("expected ',' or '}'")
    if _skip(text, pos + 1) != len(text):
        raise ValueError("text after the JSON object")
    return texts, token


def _entries(text: str, pos: int, out: list[str]) -> int:
    pos = _skip(text, pos + 1)
    while text[pos] != "]":
        end = _DECODER.raw_decode(text, pos)[1]
        entry = text[pos:end]
        if "\n" in entry:  # pretty-printed response: JSON lines need one entry per line
            entry = json.dumps(json.loads(entry), separators=(",", ":"), ensure_ascii=False)
        out.append(entry)
        pos = _skip(text, end)
        if text[pos] == ",":
            pos = _skip(text, pos + 1)
        elif text[pos] != "]":
            raise ValueError("expected ',' or ']'")
    return pos + 1


def texts_to_frame(texts: Sequence[str], source: str) -> pl.DataFrame:
    """Entry JSON texts -> the log frame (``forensics.schema.LOG_SCHEMA``), via polars' JSON reader."""
    return _normalize(texts, source)[0]


def texts_to_logs(texts: Sequence[str], source: str) -> LoadedLogs:
    """Entry JSON texts -> ``LoadedLogs`` as ``read_logs`` gives for a file: skipped entries counted,
    duplicates (same logName, insertId and timestamp: the API may repeat an entry) dropped, time order."""
    frame, skipped = _normalize(texts, source)
    kept, duplicates, without = dedupe_entries(frame)
    kept = kept.sort("timestamp", maintain_order=True)
    return LoadedLogs(frame=kept, skipped=skipped, duplicates=duplicates, files=[source], without_insert_id=without)


def _normalize(texts: Sequence[str], source: str) -> tuple[pl.DataFrame, list[Skipped]]:
    return normalize(parse_lines("\n".join(texts).encode("utf-8"), source), source)
