"""Compare recorded runs: each test's status now, the deploys between runs, recurring failures.

All of it is computed on the history frame with polars (no per-row Python), so a thousand runs of
five hundred tests compare in well under two seconds.

How a test's status is decided, from the runs where it passed or failed (skipped and absent runs
say nothing): the latest such run against the one before it gives ``fixed`` (failed, now passes),
``new`` (passed or first seen, now fails), ``persistent`` (same cause), ``cause_changed``
(another cause) or ``passing``. A test that passed and failed with nothing changed between
(same revisions serving the runner, same commit when both are known) is ``flaky`` instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl

from forensics.exceptions import UsageError
from forensics.history.model import (
    STATUSES,
    Comparison,
    Deploy,
    RunSummary,
    Signature,
    TestStatus,
)
from forensics.history.schema import OUTCOME_KIND
from forensics.history.store import history_dir, read_history
from forensics.labels import LABELS, UNKNOWN

NO_LINE = "(no deciding line)"
RUN_COLUMNS = ("run_id", "started", "ended", "revisions", "services", "commit", "branch", "job_url")
#: The columns a comparison reads (``Comparison.rows`` holds these; ``load`` gives every column).
COMPARE_COLUMNS = (*RUN_COLUMNS, "test_id", "outcome", "root_cause", "deciding_line", "template")


def as_time(value: datetime | date | str | None, *, end_of_day: bool = False) -> datetime | None:
    """A UTC datetime from a date, a datetime or ISO text (``2025-09-07``, ``...T10:00Z``).

    A bare date means its first moment, or with ``end_of_day`` its last (``--until 2025-09-07``
    keeps that day's runs).
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                date.fromisoformat(text)
                if len(text) == 10
                else datetime.fromisoformat(text.replace("Z", "+00:00"))
            )
        except ValueError as err:
            raise UsageError(
                f"{text!r} is not a date or time (use 2025-09-07 or 2025-09-07T10:00Z)"
            ) from err
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return start + timedelta(days=1, microseconds=-1) if end_of_day else start


def select_runs(
    rows: pl.DataFrame,
    *,
    last: int | None = None,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
) -> pl.DataFrame:
    """The rows of the runs to compare, each with its run's 1-based ``run_index`` (oldest first)
    and ``failed``: True for a failure, False for a pass, null when the test did not run."""
    runs = (
        rows.filter(pl.col("run_id").is_first_distinct())
        .select("run_id", "started")
        .sort("started", "run_id")
    )
    total = runs.height
    lo, hi = as_time(since), as_time(until, end_of_day=True)
    if lo is not None:
        runs = runs.filter(pl.col("started") >= lo)
    if hi is not None:
        runs = runs.filter(pl.col("started") <= hi)
    if last is not None:
        if last < 1:
            raise UsageError(f"--last {last}: compare at least one run")
        runs = runs.tail(last)
    runs = runs.with_row_index("run_index", offset=1).select(
        "run_id", pl.col("run_index").cast(pl.Int32)
    )
    chosen = (
        rows
        if runs.height == total
        else rows.filter(pl.col("run_id").is_in(runs["run_id"].to_list()))
    )
    kind = pl.col("outcome").replace_strict(OUTCOME_KIND, default=None, return_dtype=pl.String)
    return chosen.join(runs, on="run_id", how="left", maintain_order="left").with_columns(
        (kind == "fail").alias("failed")
    )


def _epochs(runs: pl.DataFrame) -> dict[int, int]:
    """Per run index, a counter that moves whenever the revisions or the (known) commit change."""
    key = pl.col("revisions").list.sort().list.join(",")
    prev_key, prev_commit = key.shift(1), pl.col("commit").shift(1)
    changed = (key != prev_key) | (
        pl.col("commit").is_not_null()
        & prev_commit.is_not_null()
        & (pl.col("commit") != prev_commit)
    )
    epochs = runs.sort("run_index").select(
        "run_index", changed.fill_null(False).cast(pl.Int32).cum_sum().alias("epoch")
    )
    return dict(epochs.iter_rows())


def _effective(rows: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """Rows where the test passed or failed, by test then run, each with the same test's row
    before it (``prev_*``, null for its first) and the epochs of both runs."""
    epochs = _epochs(runs)
    eff = (
        rows.filter(pl.col("failed").is_not_null())
        .select(
            pl.col("test_id").cast(pl.Categorical).to_physical().alias("test_key"),
            "run_index",
            "failed",
            pl.col("root_cause").fill_null(UNKNOWN).cast(pl.Enum(LABELS), strict=False),
        )
        # one 64-bit key sorts faster than two columns
        .sort(pl.col("test_key").cast(pl.UInt64) * 2**32 + pl.col("run_index").cast(pl.UInt64))
    )
    same = pl.col("test_key") == pl.col("test_key").shift(1)
    prev = {
        c: pl.when(same).then(pl.col(c).shift(1)) for c in ("failed", "root_cause", "run_index")
    }
    return eff.with_columns(
        pl.col("run_index").replace_strict(epochs, return_dtype=pl.Int32).alias("epoch"),
        prev["failed"].alias("prev_failed"),
        prev["root_cause"].alias("prev_cause"),
        prev["run_index"].alias("prev_run"),
    ).with_columns(
        pl.col("prev_run")
        .replace_strict(epochs, default=None, return_dtype=pl.Int32)
        .alias("prev_epoch")
    )


def _statuses(eff: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    flip = (pl.col("failed") != pl.col("prev_failed")) & (pl.col("epoch") == pl.col("prev_epoch"))
    per = eff.group_by("test_key").agg(
        pl.col("failed").last(),
        pl.col("root_cause").last(),
        pl.col("prev_failed").last(),
        pl.col("prev_cause").last(),
        flip.fill_null(False).any().alias("flaky"),
        pl.col("failed").sum().cast(pl.Int64).alias("runs_failed"),
    )
    fail, was_fail = pl.col("failed"), pl.col("prev_failed").fill_null(False)
    status = (
        pl.when(pl.col("flaky")).then(pl.lit("flaky"))
        .when(fail & was_fail & (pl.col("root_cause") == pl.col("prev_cause"))).then(pl.lit("persistent"))
        .when(fail & was_fail).then(pl.lit("cause_changed"))
        .when(fail).then(pl.lit("new"))
        .when(was_fail).then(pl.lit("fixed"))
        .otherwise(pl.lit("passing"))
    )  # fmt: skip
    per = per.with_columns(
        status.alias("status"),
        pl.when(fail).then(pl.col("root_cause").cast(pl.String)).alias("cause_now"),
        pl.when(was_fail).then(pl.col("prev_cause").cast(pl.String)).alias("cause_before"),
    )
    tests = rows.filter(pl.col("test_id").is_first_distinct()).select(
        "test_id", pl.col("test_id").cast(pl.Categorical).to_physical().alias("test_key")
    )
    order = {s: i for i, s in enumerate(STATUSES)}
    return (
        tests.join(per, on="test_key", how="left")
        .with_columns(pl.col("status").fill_null("skipped"), pl.col("runs_failed").fill_null(0))
        .sort(pl.col("status").replace_strict(order, return_dtype=pl.Int32), "test_id")
    )


def _transitions(eff: pl.DataFrame) -> pl.DataFrame:
    """Per run (from the second), how its tests moved since the run just before it."""
    was, now = pl.col("prev_failed"), pl.col("failed")
    same = pl.col("root_cause") == pl.col("prev_cause")
    return (
        eff.filter(pl.col("prev_run") == pl.col("run_index") - 1)
        .group_by("run_index")
        .agg(
            (was & ~now).sum().alias("fixed"),
            (~was & now).sum().alias("new"),
            (was & now & ~same).sum().alias("cause_changed"),
            (was & now & same).sum().alias("persistent"),
        )
    )


def _run_summaries(rows: pl.DataFrame) -> tuple[pl.DataFrame, list[RunSummary]]:
    firsts = rows.filter(pl.col("run_index").is_first_distinct()).select("run_index", *RUN_COLUMNS)
    counts = rows.group_by("run_index").agg(
        pl.len().alias("tests"),
        (~pl.col("failed")).sum().alias("passed"),
        pl.col("failed").sum().alias("failed"),
        pl.col("failed").is_null().sum().alias("skipped"),
    )
    runs = firsts.join(counts, on="run_index").sort("run_index")
    causes = (
        rows.filter(pl.col("failed"))
        .group_by("run_index", "root_cause")
        .len()
        .sort("run_index", "len", "root_cause", descending=[False, True, False])
    )
    by_run: dict[int, dict[str, int]] = {}
    for i, cause, n in causes.iter_rows():
        by_run.setdefault(i, {})[cause or UNKNOWN] = n
    out = [
        RunSummary(
            index=r["run_index"], run_id=r["run_id"], started=r["started"], ended=r["ended"],
            tests=r["tests"], passed=r["passed"], failed=r["failed"], skipped=r["skipped"],
            revisions=tuple(sorted(r["revisions"] or ())), services=tuple(r["services"] or ()),
            commit=r["commit"], branch=r["branch"], job_url=r["job_url"],
            by_root_cause=by_run.get(r["run_index"], {}),
        )
        for r in runs.iter_rows(named=True)
    ]  # fmt: skip
    return runs, out


def _deploys(runs: list[RunSummary], moves: pl.DataFrame) -> list[Deploy]:
    counts = {r["run_index"]: r for r in moves.iter_rows(named=True)}
    out = []
    for before, after in pairwise(runs):
        if not before.revisions or not after.revisions or before.revisions == after.revisions:
            continue
        c = counts.get(after.index, {})
        out.append(
            Deploy(
                before_index=before.index, after_index=after.index,
                between=(before.run_id, after.run_id), before=before.revisions, after=after.revisions,
                fixed=c.get("fixed", 0), new=c.get("new", 0),
                cause_changed=c.get("cause_changed", 0), persistent=c.get("persistent", 0),
            )
        )  # fmt: skip
    return out


def _signatures(rows: pl.DataFrame) -> list[Signature]:
    failed = rows.filter(pl.col("failed"))
    if not failed.height:
        return []
    groups = (
        failed.with_columns(
            pl.col("root_cause").fill_null("unknown"), pl.col("template").fill_null(NO_LINE)
        )
        .sort("run_index")
        .group_by("root_cause", "template")
        .agg(
            pl.col("started").min().alias("first_seen"),
            pl.col("started").max().alias("last_seen"),
            pl.col("run_id").first().alias("first_run"),
            pl.col("run_id").last().alias("last_run"),
            pl.col("run_id").n_unique().alias("runs"),
            pl.col("test_id").n_unique().alias("tests"),
            pl.len().alias("failures"),
            pl.col("revisions").explode().drop_nulls().unique().sort().alias("revisions"),
            pl.col("deciding_line").drop_nulls().first().alias("example"),
        )
        .sort(["failures", "runs", "last_seen", "template"], descending=[True, True, True, False])
    )
    return [
        Signature(**{**r, "revisions": tuple(r["revisions"] or ())})
        for r in groups.iter_rows(named=True)
    ]


def compare_rows(
    rows: pl.DataFrame,
    *,
    last: int | None = 2,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
    folder: Path | None = None,
    damaged: tuple[str, ...] = (),
) -> Comparison:
    """Compare the runs of a history frame (``load(DIR)``); see ``compare``."""
    chosen = select_runs(rows, last=last, since=since, until=until)
    runs_frame, runs = _run_summaries(chosen)
    eff = _effective(chosen, runs_frame)
    statuses = _statuses(eff, chosen)
    tests = [
        TestStatus(r["test_id"], r["status"], r["cause_now"], r["cause_before"], r["runs_failed"])
        for r in statuses.iter_rows(named=True)
    ]
    return Comparison(
        runs=tuple(runs),
        tests=tuple(tests),
        deploys=tuple(_deploys(runs, _transitions(eff))),
        signatures=tuple(_signatures(chosen)),
        rows=chosen,
        folder=folder,
        damaged=damaged,
    )


def compare(
    history: str | Path | pl.DataFrame | None = None,
    *,
    last: int | None = 2,
    since: datetime | date | str | None = None,
    until: datetime | date | str | None = None,
) -> Comparison:
    """Compare recorded runs: statuses, deploys, signatures.

    Args:
        history: the history folder (default ``$FORENSICS_HISTORY``, else ``.forensics/history``)
            or a frame from ``load``.
        last: compare the latest this many runs (None: all of them).
        since: only runs started at or after this date/time (UTC).
        until: only runs started at or before it.

    Returns:
        A ``Comparison``; its ``to_dict()`` is the JSON contract.

    Raises:
        HistoryError: the folder is missing or was written by a newer schema.
    """
    if isinstance(history, pl.DataFrame):
        return compare_rows(history, last=last, since=since, until=until)
    folder = history_dir(history)
    stored = read_history(folder, columns=COMPARE_COLUMNS)
    return compare_rows(
        stored.frame, last=last, since=since, until=until, folder=folder,
        damaged=tuple(d.path.name for d in stored.damaged),
    )  # fmt: skip
