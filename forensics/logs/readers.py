"""Find the LogEntries in one file, whatever export shape it has, as JSON lines.

Shapes are told apart by content, never by file name: gzip by its magic bytes; UTF-16 (what a
PowerShell redirect writes) by its byte order mark; JSON Lines when one-line objects outnumber
pretty-printed key lines; anything else that starts with ``[`` or ``{`` is pretty JSON
(``gcloud logging read --format=json`` arrays, Logs Explorer copies, ``entries.list`` responses).
Every shape comes out as one ``JsonLines`` batch, so one fast path (``lines.parse_lines``)
normalizes them all.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from forensics.exceptions import InputError, LogFormatError
from forensics.logs.lines import dump
from forensics.logs.pretty import scan_values, split_indented_array
from forensics.redact import shorten
from forensics.result import Skipped

GZIP_MAGIC = b"\x1f\x8b"
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
            the file itself (its own line numbers are right).
        skipped: what was passed over while finding the entries.
    """

    source: str
    data: bytes
    line_numbers: list[int] | None = None
    skipped: list[Skipped] = field(default_factory=list)


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return bool(head) and controls / len(head) > 0.05


def _gunzip(raw: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        raise InputError(f"not a readable gzip file ({err})", path=path) from None


def _decode(raw: bytes, source: str) -> tuple[str | None, bytes, list[Skipped]]:
    """Text (None when valid: decoded later only if needed) and UTF-8 bytes of ``raw``.

    Invalid UTF-8 is replaced with U+FFFD and counted, never fatal.
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


def read_file(path: Path) -> JsonLines:
    """The entries of one file as JSON lines.

    Raises:
        InputError: the file cannot be read, is empty, or is a broken gzip.
        LogFormatError: the file holds no JSON at all (binary, plain text, a gcloud table).
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", path=path) from None
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(raw, path)
        if not raw or raw.isspace():
            raise InputError("empty file (the gzip holds no data)", path=path)
    if not raw or raw.isspace():
        raise InputError("empty file", path=path)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with BOM: PowerShell's `>` writes it
        raw = raw.decode("utf-16", errors="replace").encode("utf-8")
    if _looks_binary(raw[:65536]):
        hint = " (named .gz but not gzip data)" if path.suffix == ".gz" else ""
        raise LogFormatError(f"binary data, not a log export{hint}", path=path)
    text, data, skipped = _decode(raw, source)
    end = data.find(b"\n", 1_000_000)  # whole lines only: a long first line must end in "}"
    head = data[: end if end != -1 else len(data)].decode("utf-8", errors="replace")
    start = head.lstrip("\ufeff \t\r\n")[:1]
    if _is_jsonl(head.lstrip("\ufeff")):
        if data.startswith(b"\xef\xbb\xbf"):
            data = b"   " + data[3:]  # keep byte offsets and line numbers; a BOM is not JSON
        return JsonLines(source, data, None, skipped)
    if start in ("{", "["):
        return _from_pretty(text if text is not None else data.decode("utf-8"), source, skipped)
    raise LogFormatError(describe_text(head), path=path, line=1)
