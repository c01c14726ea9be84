"""Find the LogEntries in one file, whatever export shape it has, as JSON lines.

Shapes are told apart by content, never by file name: gzip by its magic bytes; UTF-16 (what a
PowerShell redirect writes) by its byte order mark; JSON Lines when one-line objects outnumber
pretty-printed key lines; anything else that starts with ``[`` or ``{`` is pretty JSON
(``gcloud logging read --format=json`` arrays, Logs Explorer copies, ``entries.list`` responses).
Every shape comes out as ``JsonLines`` batches, so one fast path (``lines.parse_lines``)
normalizes them all.

A file is read as a stream (``files.InputFile``: gunzipped on the fly, refused past
``InputLimits``) and cut into batches of about ``InputLimits.batch_bytes``: JSON Lines after a
newline, an indented array between two elements, pretty objects between two objects. So memory
follows the frame being built, not the file's text. Shapes that cannot be cut exactly (one
compact array on one line, one ``entries.list`` response) are read whole, within the limits.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from forensics.exceptions import InputError, LogFormatError
from forensics.logs.files import ChunkReader, InputFile, read_chunks
from forensics.logs.limits import InputLimits, MiB
from forensics.logs.lines import dump
from forensics.logs.pretty import INDENTED_ARRAY, scan_values, split_indented_array
from forensics.redact import shorten
from forensics.result import Skipped

#: Text looked at to tell the shape: whole lines up to this much (longer if the line is).
_HEAD = 1 * MiB
_UTF8_BOM = b"\xef\xbb\xbf"
_NOT_SPACE = re.compile(rb"[^ \t\n\r\x0b\x0c]")
_TABLE_HEADER = re.compile(r"^\s*(LEVEL|SEVERITY)\s+\S.*\b(TIME|TIMESTAMP|TIME_UTC)\b")
_CONSOLE_LINE = re.compile(
    r"^(\[?\d{4}-\d\d-\d\d|(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b:?|\w+(\.\w+)+: )"
)


@dataclass
class JsonLines:
    """One file's candidate entries as UTF-8 JSON lines, and what reading already passed over.

    Attributes:
        source: the file, as the user named or the walk found it.
        data: one JSON value per line (blank lines allowed).
        line_numbers: the source line of each non-blank line of ``data``; None when ``data`` is
            a run of the file's own lines (then its line numbers count from ``first_line``).
        skipped: what was passed over while finding the entries.
        first_line: the file's line number of the first line of ``data`` (with ``line_numbers``
            None).
    """

    source: str
    data: bytes
    line_numbers: list[int] | None = None
    skipped: list[Skipped] = field(default_factory=list)
    first_line: int = 1


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and controls / len(head) > 0.05


def _decode(raw: bytes, source: str) -> tuple[str | None, bytes, list[Skipped]]:
    """Text (None when valid: decoded later only if needed) and UTF-8 bytes of ``raw``.

    Invalid UTF-8 is replaced with U+FFFD and counted (lines counted from 1), never fatal.
    """
    if raw.isascii():
        return None, raw, []
    try:
        raw.decode("utf-8")
        return None, raw, []
    except UnicodeDecodeError as err:
        text = raw.decode("utf-8", errors="replace")
        first = raw.count(b"\n", 0, err.start) + 1
        bad = sum(1 for line in text.split("\n") if "\ufffd" in line)
        note = Skipped(source, "invalid UTF-8 (replaced with U+FFFD, entries kept)", bad, first)
        return text, text.encode("utf-8"), [note]


def describe_text(text: str) -> str:
    """Why a text file is not a log export, in words that tell the user what to do instead."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    preview = shorten(first.strip(), 60)
    if _TABLE_HEADER.match(first):
        return (
            "a gcloud table (LEVEL/NAME/TIME columns), not LogEntries; "
            "re-run the gcloud command with --format=json"
        )
    head = text[:4000]
    if first.strip() == "---" or re.search(
        r"^(insertId|logName|timestamp|receiveTimestamp):", head, re.M
    ):
        return "YAML output of gcloud, not JSON; re-run the gcloud command with --format=json"
    if re.match(r"^\W?(timestamp|insertId|severity|logName)\W?,", first.strip(), re.I):
        return "a CSV download of log entries; download them from Logs Explorer as JSON instead"
    if _CONSOLE_LINE.match(first.strip()):
        return (
            f"plain-text console output ({preview!r}), not Cloud Logging LogEntries; "
            "export the entries with `gcloud logging read --format=json`"
        )
    return (
        f"not a Cloud Logging export: line 1 is not JSON ({preview!r}); "
        "expected LogEntries as JSON (gcloud logging read --format=json, JSONL, or a sink file)"
    )


def _is_jsonl(text: str) -> bool:
    """JSON Lines when whole one-line objects are at least as common as pretty-printed key lines.

    Pretty JSON (a gcloud array, a Logs Explorer copy) is mostly ``"key": value`` lines; JSON
    Lines is mostly ``{...}`` lines. Counting both over the first lines keeps a damaged first
    line (a stray ``{``, a cut-off entry, a header) from deciding the shape.
    """
    sample = [line.strip() for line in text.split("\n", 200)[:200] if line.strip()]
    whole = sum(1 for line in sample if line.startswith("{") and line.endswith("}"))
    keys = sum(1 for line in sample if line.startswith('"'))
    return whole > 0 and whole >= keys


def _from_pretty(text: str, source: str, skipped: list[Skipped]) -> JsonLines:
    fast = split_indented_array(text)
    if fast is not None:  # the common gcloud shape: cut into lines without parsing in Python
        lines, numbers = fast
        data = "\n".join(lines).encode("utf-8", errors="replace")
        return JsonLines(source, data, numbers, skipped)
    found = scan_values(text)
    problems: dict[str, list[int]] = {}
    for line, reason in found.problems:
        problems.setdefault(reason, []).append(line)
    out, numbers = [], []
    for line, value in found.entries:
        try:
            out.append(dump(value))
        except (RecursionError, ValueError):
            problems.setdefault("nested too deeply", []).append(line)
            continue
        numbers.append(line)
    for reason, lines in problems.items():
        skipped.append(Skipped(source, reason, len(lines), min(lines)))
    return JsonLines(source, "\n".join(out).encode("utf-8"), numbers, skipped)


def shifted(skipped: Iterable[Skipped], lines: int) -> list[Skipped]:
    """``skipped`` with each first line moved ``lines`` further down the file."""
    return [replace(s, first_line=s.first_line + lines) if s.first_line else s for s in skipped]


def merged(skipped: Iterable[Skipped]) -> list[Skipped]:
    """One ``Skipped`` per (source, reason): counts added, the first line the earliest."""
    out: dict[tuple[str, str], Skipped] = {}
    for s in skipped:
        seen = out.setdefault((s.source, s.reason), s)
        if seen is not s:
            lines = [n for n in (seen.first_line, s.first_line) if n is not None]
            first = min(lines) if lines else None
            out[(s.source, s.reason)] = replace(seen, count=seen.count + s.count, first_line=first)
    return list(out.values())


class _Stream:
    """The bytes of a file read on demand into one buffer that is reused from batch to batch.

    The bytes not taken yet are ``_mem[_lo:_hi]``; ``line`` is the file line of the first one.
    """

    def __init__(self, readinto: Callable[[memoryview], int]):
        self._readinto = readinto
        self._mem = bytearray()
        self._lo = self._hi = 0
        self.eof = False
        self.line = 1

    def __len__(self) -> int:
        return self._hi - self._lo

    def fill(self, size: int) -> None:
        """Read until ``size`` bytes are buffered or the file ends."""
        while len(self) < size and not self.eof:
            if self._lo + size > len(self._mem):
                self._make_room(size)
            with memoryview(self._mem) as view:
                got = self._readinto(view[self._hi : self._lo + size])
            self._hi += got
            self.eof = got == 0

    def _make_room(self, size: int) -> None:
        """Move what is left to the front, in a buffer of at least ``size`` bytes."""
        rest = self._mem[self._lo : self._hi]  # after a cut: the start of one entry
        if len(self._mem) < size:
            self._mem = bytearray(max(size, 2 * len(self._mem)))
        self._mem[: len(rest)] = rest
        self._lo, self._hi = 0, len(rest)

    def take(self, size: int) -> bytes:
        """The next ``size`` bytes, gone from the buffer (the line count follows)."""
        with memoryview(self._mem) as view:
            out = view[self._lo : self._lo + size].tobytes()
        self._lo += len(out)
        self.line += out.count(b"\n")
        return out

    def peek(self, size: int) -> bytes:
        """The next ``size`` bytes (fewer at the end), left in the buffer."""
        return bytes(self._mem[self._lo : min(self._lo + size, self._hi)])

    def find(self, sub: bytes, start: int, end: int | None = None) -> int:
        """Where ``sub`` first is in the buffered bytes, from ``start`` (-1: nowhere)."""
        stop = self._hi if end is None else min(self._lo + end, self._hi)
        at = self._mem.find(sub, self._lo + start, stop)
        return at - self._lo if at != -1 else -1

    def rfind(self, sub: bytes, start: int, end: int) -> int:
        """Where ``sub`` last is in the buffered bytes ``[start, end)`` (-1: nowhere)."""
        at = self._mem.rfind(sub, self._lo + start, min(self._lo + end, self._hi))
        return at - self._lo if at != -1 else -1

    def skip_space(self) -> bool:
        """Pass over leading whitespace (counting its lines); False if nothing else follows."""
        while True:
            self.fill(_HEAD)
            text = _NOT_SPACE.search(self._mem, self._lo, self._hi)
            if text is not None:
                self.take(text.start() - self._lo)
                return True
            self.take(len(self))
            if self.eof:
                return False

    def head(self) -> bytes:
        """The first whole lines, at least ``_HEAD`` bytes of them when the file is that long."""
        self.fill(_HEAD)
        while not self.eof and self.find(b"\n", _HEAD - 1) == -1:
            self.fill(len(self) + _HEAD)
        end = self.find(b"\n", _HEAD - 1)
        return self.peek(end if end != -1 else len(self))

    def cut(self, batch: int, separator: bytes | None, keep: int = 0) -> bytes | None:
        """The bytes up to the last ``separator`` in the next ``batch`` bytes (or the first one
        after, when an entry is longer than that), plus the first ``keep`` bytes of it; all that
        is left when no separator follows (at the end, or in a shape that cannot be cut); None
        when nothing is left.
        """
        self.fill(batch)
        while True:
            if separator is not None:
                at = self.rfind(separator, 1, batch)
                at = at if at != -1 else self.find(separator, 1)
                if at != -1:
                    return self.take(at + keep)
            if self.eof:
                return self.take(len(self)) if len(self) else None
            self.fill(len(self) + batch)


def _utf16_as_utf8(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """UTF-16 text (with its byte order mark) as UTF-8, chunk by chunk."""
    decoder = codecs.getincrementaldecoder("utf-16")(errors="replace")
    for chunk in chunks:
        yield decoder.decode(chunk).encode("utf-8", errors="replace")
    yield decoder.decode(b"", final=True).encode("utf-8", errors="replace")


def _opened(source: InputFile) -> _Stream:
    """The file as a stream of bytes (UTF-16 turned into UTF-8), past a BOM and leading space.

    Raises:
        InputError: it cannot be read, is empty or only whitespace, or is a broken gzip.
        InputTooLargeError: it passes its limits.
    """
    stream = _Stream(source.readinto)
    stream.fill(3)
    if stream.peek(2) in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with BOM: PowerShell's `>` writes it
        chunks = itertools.chain([stream.take(len(stream))], read_chunks(source.readinto))
        stream = _Stream(ChunkReader(_utf16_as_utf8(chunks)).readinto)
    elif stream.peek(3) == _UTF8_BOM:  # a BOM is not JSON
        stream.take(len(_UTF8_BOM))
    if not stream.skip_space():
        note = " (the gzip holds no data)" if source.gzipped else ""
        raise InputError(f"empty file{note}", path=source.path)
    return stream


@dataclass(frozen=True)
class _Cut:
    """Where pretty JSON can be cut between two entries, and how each piece is made whole.

    A piece ends with the first ``keep`` bytes of ``separator`` plus ``closing``; the next one
    starts with ``opening`` and then the rest of the separator's last line.
    """

    separator: bytes
    keep: int
    opening: bytes = b""
    closing: bytes = b""


def _cut_of(head: str) -> _Cut | None:
    """How to cut pretty JSON shaped like ``head`` (None: it cannot be cut exactly).

    An indented array is cut inside ``\n  },\n  {`` (exact: deeper lines are indented further
    and a JSON string holds no raw newline); pretty objects one after another inside
    ``\n}\n{``.
    """
    array = INDENTED_ARRAY.match(head)
    if array is not None:
        nl, indent = array.group(1), array.group(2)
        end = nl + indent + "}"
        return _Cut(
            (end + "," + nl + indent + "{").encode(),
            len(end.encode()),
            ("[" + nl + indent).encode(),
            (nl + "]").encode(),
        )
    if head.startswith("{"):
        nl = "\r\n" if "\r\n" in head else "\n"
        return _Cut((nl + "}" + nl + "{").encode(), len(nl) + 1)
    return None


def _jsonl_batches(stream: _Stream, source: str, limits: InputLimits) -> Iterator[JsonLines]:
    """Runs of whole lines, about ``batch_bytes`` each."""
    while True:
        first = stream.line
        data = stream.cut(limits.batch_bytes, b"\n", keep=1)
        if data is None:
            return
        if data.isspace():
            continue
        _, data, skipped = _decode(data, source)
        yield JsonLines(source, data, None, shifted(skipped, first - 1), first)


def _pretty_batches(
    stream: _Stream, head: str, source: str, limits: InputLimits
) -> Iterator[JsonLines]:
    """Pieces of pretty JSON cut between entries, each read as a whole small file would be."""
    cut = _cut_of(head)
    opening = b""
    while True:
        first = stream.line - opening.count(b"\n")  # the file line of the piece's line 1
        body = stream.cut(
            limits.batch_bytes, cut.separator if cut else None, cut.keep if cut else 0
        )
        if body is None:
            return
        piece = opening + body
        if cut is not None and len(stream):  # cut between two entries: close this piece
            piece += cut.closing
            stream.take(len(cut.separator) - cut.keep - 1)  # up to the next entry's "{"
            opening = cut.opening
        text, data, skipped = _decode(piece, source)
        found = _from_pretty(text if text is not None else data.decode("utf-8"), source, [])
        numbers = [n + first - 1 for n in found.line_numbers or []]
        skipped = shifted(skipped + found.skipped, first - 1)
        yield JsonLines(source, found.data, numbers, skipped)


def read_batches(path: Path, limits: InputLimits | None = None) -> Iterator[JsonLines]:
    """The entries of one file as JSON lines, a batch of about ``limits.batch_bytes`` at a time.

    Raises (when the batches are read, so possibly after some were given):
        InputError: the file cannot be read, is not a regular file, is empty, or is a broken gzip.
        InputTooLargeError: it passes ``limits`` (default ``InputLimits()``).
        LogFormatError: the file holds no JSON at all (binary, plain text, a gcloud table).
    """
    limits = limits or InputLimits()
    source = str(path)
    with InputFile(path, limits) as opened:
        stream = _opened(opened)
        if _looks_binary(stream.peek(65536)):
            hint = " (named .gz but not gzip data)" if path.suffix == ".gz" else ""
            raise LogFormatError(f"binary data, not a log export{hint}", path=path)
        head = stream.head().decode("utf-8", errors="replace")
        if _is_jsonl(head):
            yield from _jsonl_batches(stream, source, limits)
        elif head[:1] in ("{", "["):
            yield from _pretty_batches(stream, head, source, limits)
        else:
            raise LogFormatError(describe_text(head), path=path, line=1)


def read_file(path: Path, limits: InputLimits | None = None) -> JsonLines:
    """The entries of one file as JSON lines, in one batch (for readers that need it whole).

    Raises what ``read_batches`` raises.
    """
    data, numbers, skipped = bytearray(), [], []
    line = 1
    for batch in read_batches(path, limits):
        skipped += batch.skipped
        if batch.line_numbers is not None:
            data += (b"\n" if data else b"") + batch.data
            numbers += batch.line_numbers
            continue
        data += b"\n" * (batch.first_line - line) + batch.data  # blank lines keep the numbering
        line = batch.first_line + batch.data.count(b"\n")
    return JsonLines(str(path), bytes(data), numbers or None, merged(skipped))
