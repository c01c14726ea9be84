"""Run history: record every triaged run, then ask what changed, which deploy did it, and what
keeps coming back.

    >>> from forensics import history
    >>> history.record(result, ".forensics/history")   # or: triage ... --history DIR
    >>> history.load(".forensics/history")              # one row per (run, test), polars
    >>> history.compare(".forensics/history", last=2)   # statuses, deploys, signatures

The store is a folder of Parquet files, one per run (``DIR/<run_id>.parquet``), readable without
forensics: ``pl.scan_parquet("DIR/*.parquet")``. See docs/history.md.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from forensics.history.ci import CiFacts, ci_facts
from forensics.history.compare import compare
from forensics.history.model import STATUSES, Comparison, Deploy, RunSummary, Signature, TestStatus
from forensics.history.record import record, record_path
from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION
from forensics.history.store import history_dir, read_history


def load(history: str | Path | None = None) -> pl.DataFrame:
    """Every recorded (run, test) as one polars frame (``HISTORY_SCHEMA``), oldest run first.

    A damaged partition is skipped with a one-line warning; a newer schema raises ``HistoryError``.
    """
    frame = read_history(history_dir(history)).frame
    return frame.sort("started", "run_id", "test_id")


__all__ = [
    "HISTORY_SCHEMA",
    "SCHEMA_VERSION",
    "STATUSES",
    "CiFacts",
    "Comparison",
    "Deploy",
    "RunSummary",
    "Signature",
    "TestStatus",
    "ci_facts",
    "compare",
    "history_dir",
    "load",
    "record",
    "record_path",
]
