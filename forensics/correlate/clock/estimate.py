"""Runner clock per clock kind: anchors from trace ids, then request order, client by client.

The runner's requests are found before its fingerprint is known by trying the busiest clients one
by one (and all of them together): the client whose requests line up with the most test windows
decides the offset. After the fingerprint is known the offset is refined with the runner's
requests alone (``refine``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from forensics.correlate.clock.offset import (
    NAIVE_RANGE_S,
    NS,
    UTC_RANGE_S,
    ClockEstimate,
    Cores,
    align_by_order,
    center_on_cores,
    from_anchors,
    no_estimate,
)
from forensics.correlate.entries import client_key
from forensics.correlate.textids import TextIds
from forensics.schema import failed as is_failed

TOP_CLIENTS = 6
CLIENT_PRIOR = {"script": 1.0, "unknown": 0.8, "mixed": 0.9, "mobile": 0.5, "browser": 0.5}
BROWSER_MIN_SHARE = 0.75
#: A zone-slipped "utc" clock is accepted only when most tests line up.
ZONE_SLIP_MIN_SHARE = 0.6
#: ...and, without trace-id anchors, only when several tests line up: a timestamp with an explicit
#: offset is normally right about its zone, and a search over ~100 zones lines up one or two test
#: windows with some earlier run's requests by chance (an export that misses the run's window).
ZONE_SLIP_MIN_TESTS = 5
#: ...and only when the slip looks like a dropped zone: a real zone offset (whole hours, or the
#: :30 / :45 zones) plus a runner skew of seconds. A "utc" clock 50 minutes off is not a zone: it
#: is an export of another time (the lines there must not be borrowed).
ZONE_SLIP_MAX_SKEW_S = 120.0
_ZONE_MINUTES = (0, 1800, 2700)
#: Ends the method of a "utc" clock found to be local time after all.
ZONE_SLIP_NOTE = "; times were labelled UTC but are off by a zone"
MAX_TIMED_TESTS = 400


def runner_windows(timed: pl.DataFrame, widen: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per timed test, [start - u, stop + u] in runner epoch ns (stop falls back to start + duration).

    With ``widen=False`` the test's own uncertainty ``u`` is left out (its core window).
    """
    unc = (pl.col("window_uncertainty_s").fill_null(0.0) * NS * (1 if widen else 0)).cast(pl.Int64)
    start = pl.col("start").dt.epoch("ns")
    dur = (pl.col("duration_s").fill_null(0.0) * NS).cast(pl.Int64)
    stop = pl.coalesce(pl.col("stop").dt.epoch("ns"), start + dur)
    w = timed.select(lo=start - unc, hi=pl.max_horizontal(stop, start) + unc)
    return w.get_column("lo").to_numpy(), w.get_column("hi").to_numpy()


def _anchors(
    timed: pl.DataFrame, ids: dict[str, TextIds], requests: pl.DataFrame
) -> list[tuple[int, int, int]]:
    pairs = [(t, tr) for t, x in ids.items() for tr in (*x.traces, *x.loose_hex)]
    if not pairs:
        return []
    lo, hi = runner_windows(timed)
    win = timed.select("test_id").with_columns(lo=pl.Series(lo), hi=pl.Series(hi))
    frame = pl.DataFrame(pairs, schema={"test_id": pl.String, "trace": pl.String}, orient="row")
    hits = frame.join(win, on="test_id").join(requests.select("trace", "t_ns"), on="trace")
    # one anchor per test: its earliest traced request
    hits = hits.group_by("test_id").agg(
        pl.col("t_ns").min(), pl.col("lo").first(), pl.col("hi").first()
    )
    return [(int(t), int(a), int(b)) for _, t, a, b in hits.iter_rows()]


def _sample(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(lo) <= MAX_TIMED_TESTS:
        return lo, hi
    idx = np.linspace(0, len(lo) - 1, MAX_TIMED_TESTS).round().astype(int)
    return lo[idx], hi[idx]


def _rank(est: ClockEstimate, client_kind: str) -> tuple[float, int, float, float]:
    # The runner's own requests line up best (contrast), in the most tests, and mostly inside
    # windows; the pooled set shares the contrast but not the purity. Scripted clients first.
    prior = CLIENT_PRIOR.get(client_kind, 0.8)
    return (est.contrast * prior, est.tests_hit, round(est.inside_share, 2), -est.uncertainty_s)


def _browser_is_runner(
    est: ClockEstimate,
    n_timed: int,
    timed: pl.DataFrame,
    ids: dict[str, TextIds],
    frame: pl.DataFrame,
) -> bool:
    """Whether a browser's alignment is the runner's, not a person's traffic lining up by chance.

    A runner that is a browser (Selenium, headed Playwright) shows up in nearly every test, and
    its requests in the failed tests' windows include the statuses the failures name.
    """
    if est.tests_hit < BROWSER_MIN_SHARE * n_timed:
        return False
    named = {t: x.statuses for t, x in ids.items() if x.statuses}
    failed = timed.filter(pl.col("test_id").is_in(list(named)))
    if failed.is_empty():
        return True
    lo, hi = runner_windows(failed)
    shift = int(est.offset_s * NS)
    t_ns = frame.get_column("t_ns").to_numpy()
    status = frame.get_column("http_status").fill_null(0).to_numpy()
    for test_id, a, b in zip(
        failed.get_column("test_id").to_list(), lo + shift, hi + shift, strict=True
    ):
        inside = (t_ns >= a) & (t_ns <= b)
        if np.isin(status[inside], list(named[test_id])).any():
            return True
    return False


def _zone_slip(
    kind: str, timed: pl.DataFrame, ids: dict[str, TextIds], requests: pl.DataFrame
) -> ClockEstimate | None:
    """For times labelled UTC that nothing matches: maybe they are local time after all (a
    reader or runner that dropped the zone). Search the zones too, and say so."""
    if kind != "utc":
        return None
    wide = estimate_clock("naive", timed, ids, requests)
    if wide.method.startswith("none") or wide.tests_hit < ZONE_SLIP_MIN_SHARE * min(
        len(timed), MAX_TIMED_TESTS
    ):
        return None
    if not wide.anchors and wide.tests_hit < ZONE_SLIP_MIN_TESTS:
        return None
    zone, skew = wide.zone_and_skew("naive")
    if abs(skew) > ZONE_SLIP_MAX_SKEW_S or abs(zone) % 3600 not in _ZONE_MINUTES:
        return None
    return replace(wide, method=wide.method + ZONE_SLIP_NOTE)


def estimate_clock(
    kind: str, timed: pl.DataFrame, ids: dict[str, TextIds], requests: pl.DataFrame
) -> ClockEstimate:
    """Google time minus runner time for the tests of one clock kind.

    Args:
        kind: "utc" or "naive".
        timed: the tests of that kind that have a start time (any outcome).
        ids: per failed test, the ids its text names.
        requests: tagged request rows that may be the runner's (no probes or scanners).

    Returns:
        The estimate; ``method`` starts with "none:" when nothing pins the clock.
    """
    lo, hi = runner_windows(timed)
    anchors = _anchors(timed, ids, requests)
    around = from_anchors(anchors)
    reach = (NAIVE_RANGE_S if kind == "naive" else UTC_RANGE_S) * NS + 60 * NS
    near = requests.filter(pl.col("t_ns").is_between(int(lo.min() - reach), int(hi.max() + reach)))
    if near.is_empty() and around is None:
        slipped = _zone_slip(kind, timed, ids, requests)
        return slipped or no_estimate(kind, "no request entries within reach of the run's times")
    slo, shi = _sample(lo, hi)
    keyed = near.with_columns(key=client_key())
    top = (
        keyed.group_by("key")
        .agg(n=pl.len(), kind=pl.col("client_kind").mode().first())
        .sort(["n", "key"], descending=[True, False])
        .head(TOP_CLIENTS)
    )
    pooled_kind = keyed.get_column("client_kind").mode().first() if keyed.height else "mixed"
    pooled_kind = "browser" if pooled_kind == "browser" else "mixed"
    sets = [
        (keyed.filter(pl.col("key") == k), kd) for k, _, kd in top.iter_rows() if k is not None
    ] + [(keyed, pooled_kind)]
    best: ClockEstimate | None = None
    best_rank: tuple = ()
    for frame, client_kind in sets:
        req = np.sort(frame.get_column("t_ns").to_numpy())
        est = align_by_order(req, slo, shi, kind, around=around)
        if est is None:
            continue
        if (
            around is None
            and client_kind == "browser"
            and not _browser_is_runner(est, len(slo), timed, ids, frame)
        ):
            continue
        rank = _rank(est, client_kind)
        if best is None or rank > best_rank:
            best, best_rank = est, rank
    if around is not None:
        center, half = around
        n = len(anchors)
        if best is not None and abs(best.offset_s - center) <= half and best.uncertainty_s < half:
            return ClockEstimate(
                best.offset_s,
                best.uncertainty_s,
                f"trace ids ({n} anchors) + {best.method}",
                n,
                best.tests_hit,
                len(lo),
            )
        return ClockEstimate(center, half, f"trace ids ({n} anchors)", n, 0, len(lo))
    if best is None:
        best = _zone_slip(kind, timed, ids, requests)
    if best is None:
        return no_estimate(kind, "requests do not line up with the test windows at any offset")
    return best


def _cores(timed: pl.DataFrame, runner_requests: pl.DataFrame, req: np.ndarray) -> Cores:
    lo, hi = runner_windows(timed, widen=False)
    failed = timed.select(is_failed()).to_series().to_numpy()
    failing = runner_requests.get_column("http_status").fill_null(0) >= 400
    t_ns = runner_requests.get_column("t_ns")
    return Cores(
        lo=lo,
        hi=hi,
        failed=failed,
        req=req,
        req_failing=np.sort(t_ns.filter(failing).to_numpy()),
        req_ok=np.sort(t_ns.filter(~failing).to_numpy()),
    )


def refine(
    kind: str, timed: pl.DataFrame, est: ClockEstimate, runner_requests: pl.DataFrame
) -> ClockEstimate:
    """Re-run the order alignment with the runner's own requests near the first estimate."""
    if est.method.startswith("none") or runner_requests.is_empty():
        return est
    lo, hi = _sample(*runner_windows(timed))
    req = np.sort(runner_requests.get_column("t_ns").to_numpy())
    cores = _cores(timed, runner_requests, req)
    new = align_by_order(req, lo, hi, kind, around=(est.offset_s, est.uncertainty_s + 2.0))
    # The runner's own requests are the right evidence: take their answer unless it explains
    # fewer tests or contradicts the first estimate.
    if (
        new is None
        or new.tests_hit < est.tests_hit
        or abs(new.offset_s - est.offset_s) > est.uncertainty_s + new.uncertainty_s
    ):
        return center_on_cores(cores, est)
    # keep what the first estimate said (anchors, zone slip), with the refined counts
    slip = ZONE_SLIP_NOTE if ZONE_SLIP_NOTE in est.method else ""
    method = est.method if est.anchors else new.method + slip
    refined = ClockEstimate(
        new.offset_s,
        new.uncertainty_s,
        method + " (refined on the runner's requests)",
        est.anchors,
        new.tests_hit,
        len(lo),
    )
    return center_on_cores(cores, refined)
