"""Each test's window on Google's clock: its own times (core), widened by what is uncertain.

* Timed tests: ``core`` = [start, stop] + offset; the window adds the test's own
  ``window_uncertainty_s``, the offset's uncertainty and ``WINDOW_SLACK_S`` on both sides.
* Tests without usable times search between their timed neighbours in run order (the whole run
  when there are none); their core is that same span.
"""

from __future__ import annotations

import polars as pl

from forensics.correlate.clock import NS, ClockEstimate
from forensics.correlate.runclock import runner_windows

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


def google_windows(tests: pl.DataFrame, clocks: dict[str, ClockEstimate]) -> pl.DataFrame:
    """test_id, order, lo_ns, hi_ns in Google time for tests whose clock is usable."""
    parts = []
    for kind, est in clocks.items():
        timed = tests.filter(pl.col("kind") == kind)
        if timed.is_empty() or est.uncertainty_s > USELESS_UNCERTAINTY_S:
            continue
        lo, hi = runner_windows(timed)
        core_lo, core_hi = runner_windows(timed, widen=False)
        shift, pad = int(est.offset_s * NS), int((est.uncertainty_s + WINDOW_SLACK_S) * NS)
        parts.append(
            timed.select("test_id", "order").with_columns(
                lo_ns=pl.Series(lo + shift - pad),
                hi_ns=pl.Series(hi + shift + pad),
                core_lo=pl.Series(core_lo + shift),
                core_hi=pl.Series(core_hi + shift),
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
