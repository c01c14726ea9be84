"""Find the LogEntries in pretty-printed JSON: arrays, concatenated objects, entries.list responses.

``gcloud logging read --format=json`` prints one indented array; the Logs Explorer "copy" pastes
indented objects one after another; the API answers ``{"entries": [...], "nextPageToken": ...}``.
An indented array is cut at its element boundaries without parsing (``split_indented_array``);
everything else is walked with ``json.JSONDecoder.raw_decode`` one value at a time
(``scan_values``), so the line where every entry starts is known and one broken entry costs
that entry, not the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\r\n\ufeff]*")
_ENTRIES_KEY = re.compile(r'"entries"\s*:\s*\[')


@dataclass
class Found:
    """What a scan found: entries with their start lines, and what it could not read."""

    entries: list[tuple[int, Any]] = field(default_factory=list)  # (line, decoded value)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


class _Lines:
    """Line numbers of character offsets, counted incrementally (offsets only grow)."""

    def __init__(self, text: str):
        self.text = text
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        if offset < self.offset:  # rare: a nested scan went back; recount from the start
            self.offset, self.line = 0, 1
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def _skip_space(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _decode_at(text: str, pos: int) -> tuple[Any, int] | tuple[None, str]:
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as err:
        return None, "truncated" if err.pos >= len(text.rstrip()) else "not JSON"
    except RecursionError:
        return None, "nested too deeply"


def _resume_point(text: str, pos: int, indent: str) -> int | None:
    """The next line that starts a value at ``indent``: where a scan can pick up after damage."""
    match = re.compile(r"\n" + re.escape(indent) + r"[{\[]").search(text, pos + 1)
    return match.start() + 1 + len(indent) if match else None


def _indent_of(text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    return text[start:pos] if not text[start:pos].strip() else ""


def scan_array(text: str, pos: int, lines: _Lines, found: Found) -> int:
    """Read the array whose ``[`` is at ``pos``; return where it ends (or len(text))."""
    pos = _skip_space(text, pos + 1)
    while pos < len(text):
        if text[pos] == "]":
            return pos + 1
        value, end = _decode_at(text, pos)
        if value is None and isinstance(end, str):
            line = lines.at(pos)
            resume = _resume_point(text, pos, _indent_of(text, pos))
            if resume is None:  # nothing readable follows: the array was cut off here
                cut = end != "nested too deeply" and not text.rstrip().endswith("]")
                found.problems.append((line, "truncated array" if cut else end))
                return len(text)
            found.problems.append((line, end if end != "truncated" else "not JSON"))
            pos = resume
            continue
        found.entries.append((lines.at(pos), value))
        pos = _skip_space(text, end)  # type: ignore[arg-type]
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
        elif pos >= len(text):
            found.problems.append((lines.at(pos), "truncated array"))
    return len(text)


def _expand_response(
    text: str, start: int, end: int, value: dict, lines: _Lines, found: Found
) -> None:
    """An entries.list response: each of its entries, at the line where it starts."""
    entries = value["entries"]
    match = _ENTRIES_KEY.search(text, start, end)
    if match:
        inner = Found()
        scan_array(text, match.end() - 1, _Lines(text), inner)
        if len(inner.entries) == len(entries) and not inner.problems:
            found.entries.extend(inner.entries)
            return
    line = lines.at(start)
    found.entries.extend((line, entry) for entry in entries)


def scan_values(text: str) -> Found:
    """Every top-level JSON value in ``text`` (one array, or objects one after another)."""
    found = Found()
    lines = _Lines(text)
    pos = _skip_space(text, 0)
    while pos < len(text):
        if text[pos] == "[":
            pos = _skip_space(text, scan_array(text, pos, lines, found))
            continue
        value, end = _decode_at(text, pos)
        if value is None and isinstance(end, str):
            line = lines.at(pos)
            resume = _resume_point(text, pos, "")
            found.problems.append(
                (line, end if resume is not None or end != "truncated" else "truncated object")
            )
            if resume is None:
                break
            pos = resume
            continue
        if (
            isinstance(value, dict)
            and isinstance(value.get("entries"), list)
            and "logName" not in value
        ):
            _expand_response(text, pos, end, value, lines, found)  # type: ignore[arg-type]
        else:
            found.entries.append((lines.at(pos), value))
        pos = _skip_space(text, end)  # type: ignore[arg-type]
    return found


#: The start of an indented array of objects: its newline and the elements' indent.
INDENTED_ARRAY = re.compile(r"\A[\ufeff \t\r\n]*\[(\r?\n)([ \t]+)\{\r?\n")


def split_indented_array(text: str) -> tuple[list[str], list[int]] | None:
    """Entries of an indented array (``gcloud --format=json``, ``jq``) as one-line JSON, unparsed.

    Elements of an array printed with an indent are separated by exactly
    ``\n<indent>},\n<indent>{``: deeper lines are indented further and a JSON string never holds
    a raw newline, so cutting there and joining each element's lines is exact. Returns the
    lines and the line where each element starts, or None when the text is not shaped so (then
    ``scan_values`` reads it value by value).
    """
    match = INDENTED_ARRAY.match(text)
    if match is None:
        return None
    nl, indent = match.group(1), match.group(2)
    first = match.end() - len(nl) - 1  # the first element's "{"
    end = text.rstrip().rfind(nl + indent + "}" + nl + "]")
    if not text.rstrip().endswith("]") or end < first:
        return None
    pieces = text[first : end + len(nl) + len(indent) + 1].split(
        nl + indent + "}," + nl + indent + "{"
    )
    lines, numbers = [], []
    line = text.count("\n", 0, first) + 1
    closing = nl + indent + "}"
    for i, piece in enumerate(pieces):
        element = ("{" if i else "") + piece + (closing if i < len(pieces) - 1 else "")
        lines.append(element.replace(nl, " "))
        numbers.append(line)
        line += piece.count("\n") + 2
    return lines, numbers
