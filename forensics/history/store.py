"""The history folder: one Parquet file per run, written in one step, read as one table.

``DIR/<run_id>.parquet`` holds one run's rows (``HISTORY_SCHEMA``). A file is written beside its
target and moved over it (``forensics.atomic``), so a reader never sees half a run, two CI jobs
recording at once each add their own file, and recording the same run again replaces its file
(the same run counts once). Nothing else lives in the folder, so ``pl.scan_parquet("DIR/*.parquet")``
and DuckDB's ``FROM 'DIR/*.parquet'`` read it without forensics.

Reading skips a damaged file with a one-line warning and keeps the rest; a file written by a
newer schema is an error that says so (its columns may mean something else).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from forensics.atomic import atomic_file
from forensics.exceptions import HistoryError
from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION

log = logging.getLogger(__name__)

#: Where ``triage --history`` records when no folder is given (under the current directory).
DEFAULT_DIR = Path(".forensics") / "history"
#: The environment variable naming the history folder (overrides the default, not ``--history``).
ENV_VAR = "FORENSICS_HISTORY"
SUFFIX = ".parquet"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def history_dir(given: str | Path | None = None) -> Path:
    """The history folder: ``given``, else ``$FORENSICS_HISTORY``, else ``.forensics/history``."""
    if given:
        return Path(given)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def partition_path(folder: Path, run_id: str) -> Path:
    """The file of one run; a run id that is not a plain file name is refused."""
    if not _SAFE_ID.match(run_id):
        raise HistoryError(f"run id {run_id!r} is not a plain name (letters, digits, . _ -)")
    return folder / f"{run_id}{SUFFIX}"


def write_run(frame: pl.DataFrame, folder: str | Path) -> Path:
    """Write one run's rows as its partition, replacing an earlier recording of the same run.

    Raises:
        HistoryError: the rows hold no run, or several, or the folder cannot be written.
    """
    run_ids = frame.get_column("run_id").unique().to_list() if frame.height else []
    if len(run_ids) != 1:
        raise HistoryError(f"a partition holds exactly one run, not {len(run_ids)}")
    folder = Path(folder)
    path = partition_path(folder, run_ids[0])
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, "wb") as f:
            frame.write_parquet(f, statistics=True)
    except OSError as err:
        raise HistoryError(f"cannot record the run: {err.strerror or err}", path=path) from err
    return path


@dataclass(frozen=True)
class Damaged:
    """A partition that could not be read, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class StoredHistory:
    """Every readable row of a history folder, and the partitions skipped."""

    frame: pl.DataFrame
    damaged: tuple[Damaged, ...] = field(default_factory=tuple)


def partitions(folder: Path) -> list[Path]:
    """The run files of a history folder (temporary files of a write in progress left out)."""
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.glob(f"*{SUFFIX}") if p.is_file() and not p.name.startswith(".")
    )


def empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


def read_history(folder: str | Path, columns: Sequence[str] | None = None) -> StoredHistory:
    """Read every partition of ``folder`` into one frame (``HISTORY_SCHEMA`` columns first).

    Args:
        folder: the history folder.
        columns: read only these columns (of ``HISTORY_SCHEMA``); default all.

    Raises:
        HistoryError: the folder is missing, or a partition was written by a newer schema.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise HistoryError(
            "no history here: record a run first (triage --history, or `record`)", path=folder
        )
    files = partitions(folder)
    if not files:
        return StoredHistory(empty_history())
    wanted = list(dict.fromkeys(["schema_version", *columns])) if columns else None
    try:  # one scan is the fast path; any problem sends us file by file to find the culprit
        scan = pl.scan_parquet(files)
        frame = (scan.select(wanted) if wanted else scan).collect()
        _check_version(frame, folder)
        return StoredHistory(_conform(frame, wanted))
    except HistoryError:
        raise
    except Exception:
        pass
    frames, damaged = [], []
    for path in files:
        try:
            one = pl.read_parquet(path)
            if "run_id" not in one.columns or "schema_version" not in one.columns:
                raise ValueError("not a forensics history partition (no run_id or schema_version)")
        except Exception as err:
            reason = " ".join(f"{type(err).__name__}: {err}".split())[:200]
            log.warning("history: skipped damaged partition %s (%s)", path.name, reason)
            damaged.append(Damaged(path, reason))
            continue
        _check_version(one, path)
        frames.append(_conform(one, wanted))
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else empty_history()
    return StoredHistory(frame, tuple(damaged))


def _check_version(frame: pl.DataFrame, where: Path) -> None:
    if "schema_version" not in frame.columns or not frame.height:
        return
    newest = frame.get_column("schema_version").max()
    if isinstance(newest, int) and newest > SCHEMA_VERSION:
        raise HistoryError(
            f"written by a newer forensics (history schema {newest}; this one reads up to "
            f"{SCHEMA_VERSION}): upgrade forensics to read it",
            path=where,
        )


def _conform(frame: pl.DataFrame, wanted: list[str] | None = None) -> pl.DataFrame:
    """The known columns in schema order and type (an older partition's missing ones as null),
    then any extra columns a later version of the same schema added; only ``wanted`` if given."""
    names = [n for n in HISTORY_SCHEMA if wanted is None or n in wanted]
    known = [
        (
            pl.col(n).cast(HISTORY_SCHEMA[n])
            if n in frame.columns
            else pl.lit(None, dtype=HISTORY_SCHEMA[n])
        ).alias(n)
        for n in names
    ]
    extra = [c for c in frame.columns if c not in HISTORY_SCHEMA] if wanted is None else []
    return frame.select(*known, *extra)
