"""Read log exports from files and folders into one deduplicated log frame."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics.exceptions import InputError, LogFormatError, MissingInputError
from forensics.logs.lines import parse_lines
from forensics.logs.normalize import normalize
from forensics.logs.readers import JsonLines, read_file
from forensics.result import Skipped
from forensics.schema import LOG_SCHEMA

#: Files a folder walk passes over without reading: never log exports.
_NOT_LOGS = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class LoadedLogs:
    """The log frame and an account of what did not make it into it.

    Attributes:
        frame: one row per distinct entry (``forensics.schema.LOG_SCHEMA`` then ``KIND_SCHEMA``),
            sorted by timestamp.
        skipped: lines/entries passed over, counted by file and reason.
        duplicates: entries dropped because another file already had the same (logName, insertId).
        files: every file read.
        without_insert_id: rows that have no insertId, so could never be deduplicated.
    """

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    files: list[str] = field(default_factory=list)
    without_insert_id: int = 0


def walk_folder(path: Path) -> list[Path]:
    """Files under a folder, in a stable order; hidden folders (.git, ...) are not entered."""
    found = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files))
    return found


def _entries(batch: JsonLines, strict: bool) -> tuple[pl.DataFrame, list[Skipped]]:
    """The frame of one file's entries; with ``strict`` the first bad line raises."""
    if strict and batch.skipped:
        first = min(batch.skipped, key=lambda s: s.first_line or 0)
        raise LogFormatError(first.reason, path=batch.source, line=first.first_line)
    raw = parse_lines(batch.data, batch.source, batch.line_numbers, strict=strict)
    frame, skipped = normalize(raw, batch.source)
    if strict and skipped:
        raise LogFormatError(skipped[0].reason, path=batch.source, line=skipped[0].first_line)
    return frame, batch.skipped + skipped


def _nothing_usable(skipped: list[Skipped]) -> str:
    reasons = "; ".join(f"{s.count} {s.reason} (first at line {s.first_line})" for s in skipped)
    if not reasons:  # `gcloud logging read` prints [] when the filter matched nothing
        return "the export holds no entries (did the filter or time window match nothing?)"
    return f"no usable LogEntry in the file: {reasons}"


def dedupe_entries(frame: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Keep the first of each (log_name, insert_id, timestamp); entries without insertId are all kept.

    Returns:
        (kept rows, rows dropped as duplicates, kept rows without an insertId).
    """
    has_id = pl.col("insert_id").is_not_null()
    without = frame.select((~has_id).sum()).item()
    first = pl.struct("log_name", "insert_id", "timestamp").is_first_distinct()
    keep = frame.filter(~has_id | first)
    return keep, frame.height - keep.height, without


def read_logs(*paths: str | Path, strict: bool = False) -> LoadedLogs:
    """Read every export under ``paths`` (files or folders) into one frame.

    Files named directly must be log exports; in a folder, files that are not (a README, an
    image, ``.DS_Store``) are recorded in ``skipped`` and the walk goes on.

    Args:
        paths: files or folders; folders are walked (Cloud Storage sink trees included).
        strict: raise ``LogFormatError`` on the first bad line instead of skipping it.

    Returns:
        The frame sorted by timestamp, deduplicated on (log_name, insert_id) across files.

    Raises:
        InputError: a path is missing, empty or unreadable.
        LogFormatError: a file is not a log export (or, with ``strict``, has a bad line).
    """
    if not paths:
        raise InputError("no log files given")
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    files: list[str] = []
    for given in map(Path, paths):
        if not given.exists():
            raise MissingInputError("no such file or folder", path=given)
        if given.is_file():
            frame, more = _entries(read_file(given), strict)
            if frame.is_empty():
                raise LogFormatError(_nothing_usable(more), path=given)
            frames.append(frame)
            skipped += more
            files.append(str(given))
            continue
        walked = walk_folder(given)
        if not walked:
            raise InputError("folder holds no files", path=given)
        for path in walked:
            # In a folder, a file that is not an export is noted and passed over, even with
            # strict: strict is about bad lines inside exports.
            files.append(str(path))
            if path.name in _NOT_LOGS:
                skipped.append(Skipped(str(path), "not a log file", 1))
                continue
            try:
                batch = read_file(path)
            except InputError as err:
                skipped.append(Skipped(str(path), f"not a log file: {err.message}", 1, err.line))
                continue
            frame, more = _entries(batch, strict)
            if frame.is_empty():
                skipped.append(Skipped(str(path), f"not a log file: {_nothing_usable(more)}", 1))
                continue
            frames.append(frame)
            skipped += more
    if not frames:
        where = paths[0] if len(paths) == 1 else ", ".join(map(str, paths))
        raise LogFormatError("no Cloud Logging entries found in any file", path=where)
    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    frame, duplicates, without = dedupe_entries(frame)
    if not frame["timestamp"].is_sorted():  # sink files and JSONL exports often already are
        frame = frame.sort("timestamp", maintain_order=True)
    return LoadedLogs(frame.cast(LOG_SCHEMA), skipped, duplicates, files, without)


def load_logs(*paths: str | Path, strict: bool = False) -> pl.DataFrame:
    """The log frame of ``read_logs`` alone."""
    return read_logs(*paths, strict=strict).frame
