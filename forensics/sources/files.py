"""Log exports on disk as a source: one page per file, found and read as ``read_logs`` finds and reads them.

Files named directly must be exports; in a folder, files that are not (a README, ``.DS_Store``) are
noted in the page's ``skipped`` and the walk goes on. Each page's entries are the file's JSON lines
as ``forensics.logs.readers`` finds them in any export shape (gcloud arrays, JSONL, pretty objects,
gzip), with their line numbers, so ``pull(FileSource(path), Query()).to_logs()`` is the frame
``read_logs(path)`` gives. A query with a filter or window keeps the LogEntries that match it, as
the local Cloud Logging server would serve them from the same files.

Files are read where they are, so a file source is never cached (``cache_identity`` is None).
Unlike ``read_logs``, a file without one usable entry is counted in ``skipped``, not refused, and
there is no strict mode.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from forensics.exceptions import InputError
from forensics.logs.files import input_kind
from forensics.logs.load import _NOT_LOGS, walk_folder  # the same files read_logs passes over
from forensics.logs.readers import JsonLines, read_file
from forensics.result import Skipped
from forensics.sources.local import entry_text, matcher
from forensics.sources.protocol import Page, Query

_NON_BLANK = re.compile(r"\S")


class FileSource:
    """Export files and folders (walked: Cloud Storage sink trees too), one page per file."""

    cache_identity: tuple[str, ...] | None = None

    def __init__(self, *paths: str | Path):
        """
        Raises:
            InputError: no path, a path that does not exist (or is a symlink loop, a FIFO, a
                device), or a folder without files.
        """
        if not paths:
            raise InputError("no log files given")
        self.files: list[tuple[Path, bool]] = []  # each file, and whether the user named it
        for given in map(Path, paths):
            if input_kind(given) == "file":  # a FIFO, a device or a symlink loop is refused
                self.files.append((given, True))
                continue
            walked = walk_folder(given)
            if not walked:
                raise InputError("folder holds no files", path=given)
            self.files.extend((path, False) for path in walked)
        self.where = ", ".join(str(p) for p in paths)
        self.origin = str(paths[0])

    def page(self, query: Query, token: str | None) -> Page:
        """The entries of the file ``token`` names (None: the first file).

        Raises:
            InputError: a file named directly cannot be read or is not an export.
        """
        index = int(token) if token else 0
        path, named = self.files[index]
        next_token = str(index + 1) if index + 1 < len(self.files) else None
        origin = str(path)
        if not named and path.name in _NOT_LOGS:
            return Page([], next_token, origin, [], [Skipped(origin, "not a log file", 1)])
        try:
            batch = read_file(path)
        except InputError as err:
            if named:
                raise
            return Page(
                [],
                next_token,
                origin,
                [],
                [Skipped(origin, f"not a log file: {err.message}", 1, err.line)],
            )
        texts, lines = _json_lines(batch)
        if not query.everything:
            texts, lines = _matching(texts, lines, matcher(query))
        return Page(texts, next_token, origin, lines, list(batch.skipped))


def _json_lines(batch: JsonLines) -> tuple[list[str], list[int]]:
    """The non-blank lines of a batch and the line of the file each comes from."""
    raw = batch.data.decode("utf-8", errors="surrogateescape").split("\n")
    if batch.line_numbers is None:
        kept = [(n, line) for n, line in enumerate(raw, 1) if _NON_BLANK.search(line)]
        return [line for _, line in kept], [n for n, _ in kept]
    texts = [line for line in raw if _NON_BLANK.search(line)]
    return texts, list(batch.line_numbers)


def _matching(
    texts: list[str], lines: list[int], keep: Callable[[dict[str, Any]], bool]
) -> tuple[list[str], list[int]]:
    """The LogEntries among the lines that the query keeps (entries of a saved response one by one)."""
    out: list[str] = []
    numbers: list[int] = []
    for text, number in zip(texts, lines, strict=True):
        try:
            value = json.loads(text)
        except ValueError:
            continue  # not JSON: nothing a filter can match
        if isinstance(value, dict) and isinstance(value.get("entries"), list):
            value = value["entries"]  # an entries.list response saved to a file
        if isinstance(value, dict):
            if keep(value):
                out.append(text)
                numbers.append(number)
            continue
        for item in value if isinstance(value, list) else ():
            if isinstance(item, dict) and keep(item):
                out.append(entry_text(item))
                numbers.append(number)
    return out, numbers
