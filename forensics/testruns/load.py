"""Read test reports of any supported format into one test frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics.result import Skipped


@dataclass
class LoadedTests:
    """The test frame and an account of what was merged or skipped."""

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0
    files: list[str] = field(default_factory=list)


def read_tests(*paths: str | Path, strict: bool = False) -> LoadedTests:
    """Read test reports; the format is detected from content, not the file name."""
    raise NotImplementedError


def load_tests(*paths: str | Path, strict: bool = False) -> pl.DataFrame:
    """The test frame of ``read_tests`` alone."""
    return read_tests(*paths, strict=strict).frame
