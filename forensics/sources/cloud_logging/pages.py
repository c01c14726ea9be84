"""``entries.list`` responses split into the JSON text of each entry, with no per-entry objects kept.

A page is split with the C JSON scanner (``JSONDecoder.raw_decode``), which reports where each entry
ends, so each entry's exact text is sliced out of the response instead of re-encoded later. Those
texts feed the cache, ``pull --out`` and the polars reader directly.
"""

from __future__ import annotations

import json

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
