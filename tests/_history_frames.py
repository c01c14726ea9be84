"""History rows built by hand: runs with chosen revisions, commits, outcomes and causes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION

T0 = datetime(2025, 9, 8, 9, 0, tzinfo=UTC)

#: A test's result in one run: "passed", or (outcome, cause) / (outcome, cause, deciding line).
Result = str | tuple[Any, ...]


def run_rows(
    n: int,
    results: dict[str, Result],
    *,
    revisions: tuple[str, ...] = ("svc-00001-abc",),
    commit: str | None = None,
    run_id: str | None = None,
) -> pl.DataFrame:
    """The history rows of run ``n`` (started ``n`` hours after T0), one per test in ``results``."""
    started = T0 + timedelta(hours=n)
    rows = []
    for i, (test_id, res) in enumerate(results.items()):
        outcome, cause, line = (res, None, None) if isinstance(res, str) else (*res, None)[:3]
        failed = outcome in ("failed", "error")
        template = None
        if failed and line:
            from forensics.explore.templates import mask_one

            template = mask_one(line)
        rows.append(
            {
                "schema_version": SCHEMA_VERSION,
                "run_id": run_id or f"run{n:04d}",
                "started": started,
                "ended": started + timedelta(minutes=5),
                "recorded_at": started + timedelta(minutes=6),
                "revisions": list(revisions),
                "services": ["svc"],
                "revisions_method": "runner requests (remote IP and user agent)",
                "commit": commit,
                "test_id": test_id,
                "outcome": outcome,
                "start": started + timedelta(seconds=i),
                "stop": started + timedelta(seconds=i + 1),
                "duration_s": 1.0,
                "root_cause": (cause or "unknown") if failed else None,
                "deciding_line": line if failed else None,
                "template": template,
                "evidence": [],
                "test_files": ["junit.xml"],
            }
        )
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA)


def history(*runs: pl.DataFrame) -> pl.DataFrame:
    """Several runs' rows as one history frame."""
    return pl.concat(runs, how="vertical")
