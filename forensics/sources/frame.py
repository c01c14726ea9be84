"""Pulled entry texts -> the log frame, through the normalizer of ``forensics.logs``, in one polars read.

The texts of each origin (the one of a remote source, or each file of a file source) are read at
once by polars' JSON reader, so a pull of 100,000 entries is one read, not 100 pages of reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from forensics.logs import LoadedLogs
from forensics.logs.lines import parse_lines
from forensics.logs.load import dedupe_entries
from forensics.logs.normalize import normalize
from forensics.result import Skipped
from forensics.schema import LOG_SCHEMA


@dataclass
class Part:
    """Consecutive entries of a pull that share an origin.

    Attributes:
        origin: their rows' ``source_file``.
        count: how many entries.
        lines: the line each starts at in ``origin``; None numbers them by their place in the part.
        skipped: what the source passed over in ``origin``.
    """

    origin: str
    count: int = 0
    lines: list[int] | None = None
    skipped: list[Skipped] = field(default_factory=list)


def texts_to_frame(texts: Sequence[str], source: str) -> pl.DataFrame:
    """Entry JSON texts -> the log frame (``forensics.schema.LOG_SCHEMA``), via polars' JSON reader."""
    return _normalize(texts, Part(source, len(texts)))[0]


def texts_to_logs(texts: Sequence[str], source: str) -> LoadedLogs:
    """Entry JSON texts -> ``LoadedLogs`` as ``read_logs`` gives for a file: skipped entries counted,
    duplicates (same logName, insertId and timestamp: the API may repeat an entry) dropped, time order."""
    return parts_to_logs(texts, [Part(source, len(texts))])


def parts_to_frame(
    texts: Sequence[str], parts: Sequence[Part]
) -> tuple[pl.DataFrame, list[Skipped]]:
    """The log frame of every part, in pull order (not deduplicated, not sorted), and what was skipped."""
    frames: list[pl.DataFrame] = []
    skipped: list[Skipped] = []
    start = 0
    for part in parts:
        skipped += part.skipped
        if part.count:
            frame, more = _normalize(texts[start : start + part.count], part)
            frames.append(frame)
            skipped += more
        start += part.count
    if not frames:
        return pl.DataFrame(schema=LOG_SCHEMA), skipped
    return (pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]), skipped


def parts_to_logs(texts: Sequence[str], parts: Sequence[Part]) -> LoadedLogs:
    """``LoadedLogs`` of a pull: skipped entries counted, duplicates dropped, time order, every origin
    in ``files``."""
    frame, skipped = parts_to_frame(texts, parts)
    kept, duplicates, without = dedupe_entries(frame)
    kept = kept.sort("timestamp", maintain_order=True).cast(pl.Schema(LOG_SCHEMA))
    files = list(dict.fromkeys(part.origin for part in parts))
    return LoadedLogs(
        frame=kept, skipped=skipped, duplicates=duplicates, files=files, without_insert_id=without
    )


def _normalize(texts: Sequence[str], part: Part) -> tuple[pl.DataFrame, list[Skipped]]:
    data = "\n".join(texts).encode("utf-8", errors="surrogateescape")
    return normalize(parse_lines(data, part.origin, part.lines), part.origin)
