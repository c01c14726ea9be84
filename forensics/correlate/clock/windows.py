"""Each test's times and window on Google's clock: its own times (core), widened by what is uncertain.

* Timed tests: ``core`` = [start, stop] + offset; the window adds the test's own
  ``window_uncertainty_s``, the offset's uncertainty and ``WINDOW_SLACK_S`` on both sides.
* Tests without usable times search between their timed neighbours in run order (the whole run
  when there are none); their core is that same span.

``google_times`` is the one place runner time becomes Google time for the reports: every report,
plot and query reads ``Correlation.test_times``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl

from forensics.correlate.clock.estimate import ZONE_SLIP_NOTE, runner_windows
from forensics.correlate.clock.offset import NS, ClockEstimate
from forensics.correlate.link import TEST_TIME_SCHEMA

#: Beyond this offset uncertainty a test's times say nothing useful about where it ran.
USELESS_UNCERTAINTY_S = 3600.0
#: Added around each window beyond the offset's uncertainty: Google stamps a request when it is
#: received, a little after the client sent it; the offset estimate absorbs the usual delay.
WINDOW_SLACK_S = 0.1
UNTIMED_FACTOR = 0.7
#: Test times this good (reportlog: measured, not rebuilt from durations) on a clock aligned this
#: well are trusted to decide whose a failing request is.
PRECISE_WINDOW_S = 0.05
PRECISE_S = 0.25


def clock_kind(tests: pl.DataFrame) -> pl.Expr:
    """Per test, its clock kind ("utc", "naive"), or "none" when it has no start time."""
    kind = pl.col("clock").fill_null("none")
    return pl.when(pl.col("start").is_null()).then(pl.lit("none")).otherwise(kind)


def _on_google_clock(
    tests: pl.DataFrame, clocks: dict[str, ClockEstimate]
) -> Iterator[tuple[str, ClockEstimate, pl.DataFrame, np.ndarray, np.ndarray]]:
    """Per clock kind with timed tests: the kind, its estimate, its tests, and their own
    [start, stop] (stop falls back to start + duration) moved onto Google's clock, in epoch ns."""
    for kind, est in clocks.items():
        timed = tests.filter(pl.col("kind") == kind)
        if timed.is_empty():
            continue
        start, stop = runner_windows(timed, widen=False)
        shift = int(est.offset_s * NS)
        yield kind, est, timed, start + shift, stop + shift


def google_windows(tests: pl.DataFrame, clocks: dict[str, ClockEstimate]) -> pl.DataFrame:
    """test_id, order, lo_ns, hi_ns in Google time for tests whose clock is usable."""
    parts = []
    for _, est, timed, core_lo, core_hi in _on_google_clock(tests, clocks):
        if est.uncertainty_s > USELESS_UNCERTAINTY_S:
            continue
        own = (timed.get_column("window_uncertainty_s").fill_null(0.0) * NS).cast(pl.Int64)
        widen = own.to_numpy() + int((est.uncertainty_s + WINDOW_SLACK_S) * NS)
        parts.append(
            timed.select("test_id", "order").with_columns(
                lo_ns=pl.Series(core_lo - widen),
                hi_ns=pl.Series(core_hi + widen),
                core_lo=pl.Series(core_lo),
                core_hi=pl.Series(core_hi),
            )
        )
    schema = {
        "test_id": pl.String,
        "order": pl.Int64,
        "lo_ns": pl.Int64,
        "hi_ns": pl.Int64,
        "core_lo": pl.Int64,
        "core_hi": pl.Int64,
    }
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def time_source(kind: str, est: ClockEstimate) -> str:
    """How a test's Google time was obtained (``TEST_TIME_SCHEMA["clock"]``)."""
    if est.method.startswith("none"):
        return "unaligned"
    return "zone slip" if ZONE_SLIP_NOTE in est.method else kind


def google_times(tests: pl.DataFrame, clocks: dict[str, ClockEstimate]) -> pl.DataFrame:
    """Every test's own start and stop on Google's clock (``TEST_TIME_SCHEMA``), in test order.

    Runner time plus the whole offset of the test's clock kind (zone and skew for a naive clock,
    the zone found for a zone slip); the stop falls back to start + duration. Tests without a start
    time, or of a kind without an estimate, have null times and clock "none".
    """
    parts = [
        timed.select(
            "test_id",
            start=_utc(start),
            stop=_utc(stop),
            uncertainty_s=pl.col("window_uncertainty_s").fill_null(0.0) + est.uncertainty_s,
            clock=pl.lit(time_source(kind, est)),
        )
        for kind, est, timed, start, stop in _on_google_clock(tests, clocks)
    ]
    timed = pl.concat([pl.DataFrame(schema=TEST_TIME_SCHEMA), *parts], how="vertical_relaxed")
    return (
        tests.select("test_id")
        .unique("test_id", keep="first", maintain_order=True)
        .join(
            timed.unique("test_id", keep="first"), on="test_id", how="left", maintain_order="left"
        )
        .with_columns(pl.col("clock").fill_null("none"))
        .cast(TEST_TIME_SCHEMA)  # type: ignore[arg-type]
    )


def _utc(epoch_ns: np.ndarray) -> pl.Series:
    return pl.Series(epoch_ns).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC")


def untimed_windows(
    failed: pl.DataFrame, timed_w: pl.DataFrame, span: tuple[int, int]
) -> pl.DataFrame:
    """Windows for failed tests without usable times: between their timed neighbours in run order."""
    missing = failed.filter(~pl.col("test_id").is_in(timed_w.get_column("test_id").implode()))
    if missing.is_empty():
        return pl.DataFrame(schema=timed_w.schema)
    by_order = timed_w.sort("order").select("order", "lo_ns", "hi_ns")
    prev = missing.sort("order").join_asof(
        by_order.select("order", prev_hi="hi_ns"),
        on="order",
        strategy="backward",
        check_sortedness=False,
    )
    both = prev.join_asof(
        by_order.select("order", next_lo="lo_ns"),
        on="order",
        strategy="forward",
        check_sortedness=False,
    )
    return both.select(
        "test_id",
        "order",
        lo_ns=pl.coalesce(pl.col("prev_hi"), pl.lit(span[0])).cast(pl.Int64),
        hi_ns=pl.coalesce(pl.col("next_lo"), pl.lit(span[1])).cast(pl.Int64),
    ).with_columns(core_lo=pl.col("lo_ns"), core_hi=pl.col("hi_ns"))


def precise_tests(failed: pl.DataFrame, clocks: dict[str, ClockEstimate]) -> frozenset[str]:
    """Failed tests whose own times, on an aligned clock, are good to a fraction of a second."""
    good = [
        k
        for k, e in clocks.items()
        if not e.method.startswith("none") and e.uncertainty_s <= PRECISE_S
    ]
    sharp = failed.filter(
        pl.col("kind").is_in(good)
        & (pl.col("window_uncertainty_s").fill_null(0.0) <= PRECISE_WINDOW_S)
    )
    return frozenset(sharp.get_column("test_id").to_list())
