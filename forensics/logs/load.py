"""Read log exports from files and folders into one deduplicated log frame.

Files are untrusted: each is read as a stream, a batch at a time, under ``InputLimits``; a file
refused partway leaves nothing of itself in the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics.exceptions import InputError, LogFormatError
from forensics.logs.files import input_kind, walk
from forensics.logs.limits import InputLimits
from forensics.logs.lines import parse_lines
from forensics.logs.normalize import normalize
from forensics.logs.readers import JsonLines, merged, read_batches
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


def walk_folder(path: Path, follow_links: bool = False) -> list[Path]:
    """Regular files under a folder, in a stable order (``files.walk`` without its notes)."""
    return walk(path, follow_links)[0]


def _entries(batch: JsonLines, strict: bool) -> tuple[pl.DataFrame, list[list[Skipped]]]:
    """The frame of a batch of one file's entries, and what each stage of reading passed over
    (finding the entries, reading their lines, placing them in time); with ``strict`` the first
    bad line raises."""
    if strict and batch.skipped:
        first = min(batch.skipped, key=lambda s: s.first_line or 0)
        raise LogFormatError(first.reason, path=batch.source, line=first.first_line)
    raw = parse_lines(
        batch.data, batch.source, batch.line_numbers, strict=strict, first_line=batch.first_line
    )
    frame, skipped = normalize(raw, batch.source)
    if strict and skipped:
        raise LogFormatError(skipped[0].reason, path=batch.source, line=skipped[0].first_line)
    read = len(raw.skipped)  # normalize lists the lines' skips first, then its own
    return frame, [batch.skipped, skipped[:read], skipped[read:]]


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
    keep = frame.select(~has_id | first).to_series()
    if keep.all():  # the usual case: no copy of the frame
        return frame, 0, without
    kept = frame.filter(keep)
    return kept, frame.height - kept.height, without


def _read_export(
    path: Path, strict: bool, limits: InputLimits, named: bool
) -> tuple[pl.DataFrame | None, list[Skipped]]:
    """One file's frame (None when it is not usable) and what was passed over, a batch at a time.

    A file named directly must be an export: it raises instead. A file found in a folder that
    cannot be read, is refused or holds no entry is one ``not a log file`` note, and nothing of
    it is kept. Bad lines are fatal with ``strict`` either way.
    """
    frames: list[pl.DataFrame] = []
    stages: list[list[Skipped]] = [[], [], []]
    batches = read_batches(path, limits)
    while True:
        try:
            batch = next(batches, None)
        except InputError as err:
            if named:
                raise
            return None, [Skipped(str(path), f"not a log file: {err.message}", 1, err.line)]
        if batch is None:
            break
        frame, more = _entries(batch, strict)
        for stage, found in zip(stages, more, strict=True):
            stage += found
        if not frame.is_empty():
            frames.append(frame)
    # Counted per reason over the batches, in the order one read of the whole file gives.
    skipped = [s for stage in stages for s in merged(stage)]
    if not frames:
        if named:
            raise LogFormatError(_nothing_usable(skipped), path=path)
        return None, [Skipped(str(path), f"not a log file: {_nothing_usable(skipped)}", 1)]
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0], skipped


def _nothing_found(paths: tuple[str | Path, ...], passed: list[Skipped]) -> LogFormatError:
    """No file held an entry: say so, with the first file passed over and why."""
    where = paths[0] if len(paths) == 1 else ", ".join(map(str, paths))
    why = f" ({len(passed)} passed over; first: {passed[0].source}: {passed[0].reason})"
    return LogFormatError(
        f"no Cloud Logging entries found in any file{why if passed else ''}", path=where
    )


def read_logs(
    *paths: str | Path,
    strict: bool = False,
    limits: InputLimits | None = None,
    follow_links: bool = False,
) -> LoadedLogs:
    """Read every export under ``paths`` (files or folders) into one frame.

    Files named directly must be log exports; in a folder, files that are not (a README, an
    image, ``.DS_Store``, a FIFO, a file refused by ``limits``) are recorded in ``skipped`` and
    the walk goes on.

    Args:
        paths: files or folders; folders are walked (Cloud Storage sink trees included).
        strict: raise ``LogFormatError`` on the first bad line instead of skipping it.
        limits: how much one file may hold (default ``InputLimits()``: a quarter of memory,
            and a gzip may not expand more than 100:1 past its first 16 MiB).
        follow_links: in folders, also read links that point out of the folder.

    Returns:
        The frame sorted by timestamp, deduplicated on (log_name, insert_id) across files.

    Raises:
        InputError: a path is missing, empty, unreadable, a symlink loop or not a regular file.
        InputTooLargeError: a file named directly passes ``limits``.
        LogFormatError: a file is not a log export (or, with ``strict``, has a bad line).
    """
    if not paths:
        raise InputError("no log files given")
    limits = limits or InputLimits()
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    passed: list[Skipped] = []  # whole files passed over in folders
    files: list[str] = []
    for given in map(Path, paths):
        if input_kind(given) == "file":
            frame, more = _read_export(given, strict, limits, named=True)  # raises if unusable
            frames += [frame] if frame is not None else []
            skipped += more
            files.append(str(given))
            continue
        walked, not_files = walk(given, follow_links)
        if not walked and not not_files:
            raise InputError("folder holds no files", path=given)
        passed += not_files
        skipped += not_files
        for path in walked:
            # In a folder, a file that is not an export is noted and passed over, even with
            # strict: strict is about bad lines inside exports.
            files.append(str(path))
            if path.name in _NOT_LOGS:
                more, frame = [Skipped(str(path), "not a log file", 1)], None
            else:
                frame, more = _read_export(path, strict, limits, named=False)
            skipped += more
            if frame is None:
                passed += more
            else:
                frames.append(frame)
    if not frames:
        raise _nothing_found(paths, passed)
    frame = pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]
    frame, duplicates, without = dedupe_entries(frame)
    if not frame["timestamp"].is_sorted():  # sink files and JSONL exports often already are
        frame = frame.sort("timestamp", maintain_order=True)
    return LoadedLogs(frame.cast(LOG_SCHEMA), skipped, duplicates, files, without)


def load_logs(
    *paths: str | Path,
    strict: bool = False,
    limits: InputLimits | None = None,
    follow_links: bool = False,
) -> pl.DataFrame:
    """The log frame of ``read_logs`` alone."""
    return read_logs(*paths, strict=strict, limits=limits, follow_links=follow_links).frame
