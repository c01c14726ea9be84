"""The time window a run's logs live in, from its test report or from ``--since`` / ``--until``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from forensics.exceptions import UsageError
from forensics.live.filters import parse_time

INGESTION_DELAY_S = 600  # entries keep arriving for minutes after the fact; don't freeze such windows


@dataclass(frozen=True)
class Window:
    """A UTC time range plus the extra slack its source calls for (clock uncertainty).

    ``naive`` means the times came without a zone and were read as UTC: the run may have
    happened at any zone's offset from them. ``from_tests`` means the window was derived from a
    test report (so it gets slack by default), not given by the user.
    """

    since: datetime
    until: datetime
    extra_slack_s: float = 0.0
    naive: bool = False
    from_tests: bool = False

    def settled(self, slack_s: float, now: datetime | None = None) -> bool:
        """True when the window (with slack) ended long enough ago that no more entries will come."""
        now = now or datetime.now(UTC)
        latest = timedelta(hours=12) if self.naive else timedelta(0)  # UTC-12 is the latest zone
        end = self.until + latest + timedelta(seconds=slack_s + self.extra_slack_s)
        return end < now - timedelta(seconds=INGESTION_DELAY_S)


def window_from_options(since: str | None, until: str | None) -> Window:
    """The window of ``--since`` / ``--until`` (``--until`` defaults to now).

    Either may be a duration back from now (``--since 1h``, as gcloud's ``--freshness 1h``).

    Raises:
        UsageError: ``--since`` is missing or a value is neither a time nor a duration.
    """
    if not since:
        raise UsageError(
            "a pull needs --since TIME or --freshness DURATION (and --until TIME), or --around-tests FILE"
        )
    now = datetime.now(UTC)
    start = parse_time(since, "--since", now)
    end = parse_time(until, "--until", now) if until else now
    return Window(start, end)


def window_from_tests(paths: Sequence[str | Path], frame: pl.DataFrame | None = None) -> Window:
    """The window spanned by the tests of a report (start of the first to stop of the last).

    Args:
        paths: test report files (read with ``forensics.read_tests`` unless ``frame`` is given).
        frame: an already loaded test frame.

    Raises:
        UsageError: the report has no test times.
    """
    if frame is None:
        from forensics.testruns import read_tests

        frame = read_tests(*paths).frame
    names = ", ".join(str(p) for p in paths) or "the test report"
    if frame.height == 0:
        raise UsageError(f"{names}: no tests found, so no window to pull; pass --since/--until")
    stop = pl.coalesce(
        pl.col("stop"),
        pl.col("start") + pl.duration(microseconds=(pl.col("duration_s").fill_null(0) * 1e6).cast(pl.Int64)),
    )
    spans = frame.select(
        pl.col("start").min().alias("since"),
        stop.max().alias("until"),
        pl.col("window_uncertainty_s").max().alias("uncertainty"),
        ((pl.col("clock") == "naive").any() if "clock" in frame.columns else pl.lit(False)).alias("naive"),
    ).row(0, named=True)
    if spans["since"] is None or spans["until"] is None:
        raise UsageError(f"{names}: the report has no test times; pass --since and --until")
    since, until = _utc(spans["since"]), _utc(spans["until"])
    return Window(since, max(since, until), float(spans["uncertainty"] or 0.0), bool(spans["naive"]), from_tests=True)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
