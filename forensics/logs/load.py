"""Read log exports from files and folders into one deduplicated log frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics.result import Skipped


@dataclass
class LoadedLogs:
    """The log frame and an account of what did not make it into it.

    Attributes:
        frame: one row per distinct entry (``forensics.schema.LOG_SCHEMA``), sorted by timestamp.
        skipped: lines/entries passed over, counted by file and reason.
        duplicates: entries dropped because another file already had the same (logName, insertId).
        files: every file read.
    """

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    files: list[str] = field(default_factory=list)


def read_logs(*paths: str | Path, strict: bool = False) -> LoadedLogs:
    """Read every export under ``paths`` (files or folders) into one frame.

    Args:
        paths: files or folders; folders are walked (Cloud Storage sink trees included).
        strict: raise ``LogFormatError`` on the first bad line instead of skipping it.

    Raises:
        InputError: a path is missing, empty or unreadable.
        LogFormatError: a file is not a log export (or, with ``strict``, has a bad line).
    """
    raise NotImplementedError


def load_logs(*paths: str | Path, strict: bool = False) -> pl.DataFrame:
    """The log frame of ``read_logs`` alone."""
    return read_logs(*paths, strict=strict).frame
