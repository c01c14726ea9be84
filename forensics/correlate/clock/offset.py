"""Estimate the runner's clock offset (Google time minus runner time) from the data itself.

Two kinds of evidence, both in nanoseconds of epoch time:

* Anchors: a test whose text names a trace id that a request entry carries. That entry happened
  inside the test, so the offset lies in ``[entry - test_stop, entry - test_start]``. Several
  anchors intersect to a narrow interval.
* Request order: the runner's requests happen while its tests run. For a candidate offset, count
  the tests that have a request in their (shifted) window, and the share of requests that fall in
  some window. Scanning candidate offsets coarse-to-fine finds the offsets with the best score;
  the set of equally good offsets (the plateau) is the uncertainty. A runner clock without a zone
  ("naive") is scanned over every zone (-14 h .. +14 h) plus a skew; the result is reported as a
  zone (nearest quarter hour) and a skew. A zone-aware ("utc") clock is only off by its skew:
  without anchors its offset is taken within ``UTC_SKEW_S`` (an export of an earlier run some
  minutes before must not be read as a skewed clock); the scan still looks further for contrast.

Scores are computed with ``numpy.searchsorted`` over the sorted request times, so a scan costs
(candidates x tests x log(requests)) and never loops over log entries in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

NS = 1_000_000_000
FINE_STEP_S = 0.05
#: Slack added around every test window when scoring: request logs stamp the moment Google
#: received the call, a few ms after the client started it. Kept small: a wide slack makes
#: neighbouring windows overlap and blurs the offset (the estimate absorbs the usual delay).
SLACK_S = 0.05
UTC_RANGE_S = 900.0
#: How far a zone-aware runner clock plausibly is off without anchors: CI machines without NTP
#: drift by seconds, a couple of minutes at worst. Dropped zones are searched separately.
UTC_SKEW_S = 120.0
NAIVE_RANGE_S = 14 * 3600.0 + 900.0
#: A plateau wider than this says the order carries little information; stop widening the scan.
MAX_PLATEAU_S = 60.0
#: Step of the search for the point estimate on the tests' own times.
CORE_STEP_S = 0.005
#: Coarse peaks refined before the fine scores decide.
PEAKS = 8
#: When nothing lines up: runner clocks are normally within seconds, but we cannot say which way.
NO_ANCHOR_UNCERTAINTY_S = {"utc": 30.0, "naive": 14 * 3600.0}


@dataclass(frozen=True)
class ClockEstimate:
    """One clock offset estimate.

    ``method`` says how it was found; a naive clock's "read as UTC±hh:mm, skew" clause in it always
    describes this estimate's own ``offset_s`` (it is rewritten when a refinement moves the offset).
    """

    offset_s: float
    uncertainty_s: float
    method: str
    anchors: int = 0
    tests_hit: int = 0
    tests_timed: int = 0
    #: tests hit at the best offset minus the median over all offsets scanned: a client that
    #: calls all the time hits every window at every offset and has no contrast.
    contrast: float = 0.0
    #: share of the client's requests near the run that fall inside some window at the offset
    inside_share: float = 0.0

    def __post_init__(self) -> None:
        described = _NAIVE_CLAUSE.sub(describe_naive(self.offset_s), self.method, count=1)
        object.__setattr__(self, "method", described)

    def zone_and_skew(self, kind: str) -> tuple[float, float]:
        """(zone, skew) in seconds: a naive clock's offset is its zone (whole quarter hours) plus a skew."""
        if kind != "naive" or self.method.startswith("none"):
            return 0.0, float(self.offset_s)
        zone = round(self.offset_s / 900) * 900.0
        return zone, float(self.offset_s) - zone

    def to_dict(self, kind: str = "utc") -> dict[str, object]:
        zone, skew = self.zone_and_skew(kind)
        return {
            "skew_s": round(skew, 3),
            "zone_s": zone,
            "offset_s": round(float(self.offset_s), 3),
            "uncertainty_s": round(float(self.uncertainty_s), 3),
            "method": self.method,
            "anchors": self.anchors,
            "tests_hit": self.tests_hit,
            "tests_timed": self.tests_timed,
        }


def no_estimate(kind: str, why: str) -> ClockEstimate:
    """Offset 0 with the large uncertainty of a clock nothing could pin down."""
    return ClockEstimate(0.0, NO_ANCHOR_UNCERTAINTY_S.get(kind, 30.0), f"none: {why}")


def _merge(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals as disjoint sorted intervals (so covered requests are counted once)."""
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    run_hi = np.maximum.accumulate(hi)
    starts = np.ones(len(lo), dtype=bool)
    starts[1:] = lo[1:] > run_hi[:-1]
    idx = np.flatnonzero(starts)
    ends = np.append(idx[1:] - 1, len(lo) - 1)
    return lo[idx], run_hi[ends]


def _scores(
    req: np.ndarray, lo: np.ndarray, hi: np.ndarray, offsets: np.ndarray, side: str = "right"
) -> tuple[np.ndarray, np.ndarray]:
    """Per candidate offset: tests with a request in window, and requests covered by any window.

    ``side="left"`` makes windows half-open, so back-to-back test windows never both claim a
    request on their common edge.
    """
    mlo, mhi = _merge(lo, hi)
    hits = np.empty(len(offsets), dtype=np.int64)
    covered = np.empty(len(offsets), dtype=np.int64)
    chunk = max(1, 2_000_000 // max(len(lo), 1))
    for i in range(0, len(offsets), chunk):
        o = offsets[i : i + chunk, None]
        a = np.searchsorted(req, lo[None, :] + o, side="left")
        b = np.searchsorted(req, hi[None, :] + o, side=side)
        hits[i : i + chunk] = (b > a).sum(axis=1)
        ma = np.searchsorted(req, mlo[None, :] + o, side="left")
        mb = np.searchsorted(req, mhi[None, :] + o, side=side)
        covered[i : i + chunk] = (mb - ma).sum(axis=1)
    return hits, covered


def _score(
    req, lo, hi, offsets_s: np.ndarray, widen_s: float, side: str = "right"
) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.round(offsets_s * NS).astype(np.int64)
    w = int(widen_s * NS)
    hits, covered = _scores(req, lo - w, hi + w, offsets, side)
    horizon = (req >= lo.min() + offsets.min() - w) & (req <= hi.max() + offsets.max() + w)
    total = max(int(horizon.sum()), 1)
    return hits + covered / (total + 1), hits


def _regions(
    cands: np.ndarray, score: np.ndarray, step: float, k: int
) -> list[tuple[float, float]]:
    """The ``k`` best separate peaks of a coarse scan, each as the run of offsets tied at its top.

    Coarse scores use widened windows, which flatter wrong offsets (a wider window catches more
    requests): the true offset need not be the coarse maximum, only among the best peaks. Every
    peak is refined and the fine scores decide.
    """
    picked: list[tuple[float, float]] = []
    n = len(cands)
    for i in np.argsort(-score, kind="stable"):
        if len(picked) >= k:
            break
        if score[i] < 1:
            break  # no test has a request there: not a peak
        c = float(cands[i])
        if any(a - 2 * step <= c <= b + 2 * step for a, b in picked):
            continue
        left, right = i, i
        while left > 0 and score[left - 1] >= score[i] - 1e-9:
            left -= 1
        while right < n - 1 and score[right + 1] >= score[i] - 1e-9:
            right += 1
        picked.append((float(cands[left]), float(cands[right])))
    return picked


def _refine(
    req, lo, hi, region: tuple[float, float], step: float, levels: list[float]
) -> tuple[float, float, float, int]:
    """Narrow a region level by level; return best score, plateau mid, half-width, tests hit."""
    a, b = region[0] - step, region[1] + step
    for nxt in [*levels, FINE_STEP_S]:
        if b - a > 2 * MAX_PLATEAU_S and nxt < 1.0:
            break  # the order cannot narrow it further: report the region as it is
        cands = np.arange(a, b + nxt / 2, nxt)
        widen = nxt / 2 if nxt > FINE_STEP_S else 0.0
        score, hits = _score(req, lo, hi, cands, widen)
        top = np.flatnonzero(score >= score.max() - 1e-9)
        if nxt == FINE_STEP_S:
            x, y = cands[top[0]], cands[top[-1]]
            return float(score.max()), (x + y) / 2, (y - x) / 2 + FINE_STEP_S, int(hits[top[0]])
        a, b = cands[top[0]] - nxt, cands[top[-1]] + nxt
    # too wide to narrow: score its middle as it is (widening it would flatter it)
    cands = np.array([(a + b) / 2])
    score, hits = _score(req, lo, hi, cands, 0.0)
    return float(score.max()), (a + b) / 2, (b - a) / 2, int(hits[0])


def align_by_order(
    req: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    kind: str,
    around: tuple[float, float] | None = None,
) -> ClockEstimate | None:
    """Find the offset that puts the most requests inside test windows.

    Args:
        req: sorted epoch-ns times (Google clock) of the runner's candidate requests.
        lo: per timed test, window start in runner epoch ns, already widened by its uncertainty.
        hi: per timed test, window end likewise.
        kind: "utc" (offset within +-``UTC_SKEW_S``; the scan spans +-15 min for contrast) or
            "naive" (search every zone +-14 h plus skew).
        around: (center, half-width) in seconds to search instead, e.g. the anchors' interval.

    Returns:
        The estimate, or None when no offset puts any request in any window or the best offsets
        spread over most of the searched range (nothing to learn from order).
    """
    if len(req) == 0 or len(lo) == 0:
        return None
    w = int(SLACK_S * NS)
    lo, hi = lo - w, hi + w
    if around is not None:
        center, half = around
        levels = [max(min(half / 50, 2.0), FINE_STEP_S)]
    elif kind == "naive":
        center, half, levels = 0.0, NAIVE_RANGE_S, [30.0, 2.0, 0.25]
    else:
        center, half, levels = 0.0, UTC_RANGE_S, [2.0, 0.25]
    step = levels[0]
    cands = np.arange(center - half, center + half + step / 2, step)
    score, coarse_hits = _score(req, lo, hi, cands, step / 2)
    contrast = float(coarse_hits.max() - np.median(coarse_hits))
    if around is None and kind != "naive":
        # a zone-aware clock is off by seconds: offsets beyond the skew are other times' requests
        score = np.where(np.abs(cands) <= UTC_SKEW_S + step, score, 0.0)
    if score.max() < 1 or (around is None and contrast < 1):
        return None
    results = [
        _refine(req, lo, hi, r, step, levels[1:]) for r in _regions(cands, score, step, PEAKS)
    ]
    best = max(r[0] for r in results)
    top = [r for r in results if r[0] >= best - 1e-9]
    lows = [r[1] - r[2] for r in top]
    highs = [r[1] + r[2] for r in top]
    # equally good offsets far apart: the uncertainty spans them all
    mid, unc = (min(lows) + max(highs)) / 2, (max(highs) - min(lows)) / 2
    if unc > half / 4 and around is None:
        return None
    hits = top[0][3]
    inside = best - int(best)
    method = f"request order ({hits} of {len(lo)} timed tests have a request in their window)"
    if kind == "naive":
        method += "; " + describe_naive(mid)
    return ClockEstimate(
        mid,
        unc,
        method,
        tests_hit=hits,
        tests_timed=len(lo),
        contrast=contrast,
        inside_share=inside,
    )


@dataclass(frozen=True)
class Cores:
    """The tests' own (unwidened) windows in runner epoch ns, and the runner's requests, split by
    outcome: a failed test's requests include a failing one, a passed test's a successful one."""

    lo: np.ndarray
    hi: np.ndarray
    failed: np.ndarray  # bool per test
    req: np.ndarray  # sorted Google epoch ns
    req_failing: np.ndarray  # sorted, the requests with status >= 400
    req_ok: np.ndarray  # sorted, the others


def center_on_cores(cores: Cores, est: ClockEstimate) -> ClockEstimate:
    """Pick the point estimate inside the estimate's interval from the tests' own times.

    The interval comes from windows widened by every uncertainty, in which neighbouring tests
    overlap. Within it, the likelier offsets put the runner's requests inside the tests' own,
    unwidened times, and agree with the outcomes: failed tests hold a failing request, passed
    tests a successful one. The middle of the widest run of the best offsets becomes the offset
    (so a 403 in the middle of one failed test is not handed to the next test because the
    plateau's middle sits 10 ms off). The interval is kept: the uncertainty grows to cover it.
    """
    a, b = est.offset_s - est.uncertainty_s, est.offset_s + est.uncertainty_s
    if len(cores.req) == 0 or len(cores.lo) == 0 or b - a > 2 * MAX_PLATEAU_S:
        return est
    step = max(CORE_STEP_S, (b - a) / 400)
    cands = np.arange(a, b + step / 2, step)
    score, _ = _score(cores.req, cores.lo, cores.hi, cands, 0.0, side="left")
    for req, mask in ((cores.req_failing, cores.failed), (cores.req_ok, ~cores.failed)):
        if len(req) and mask.any():
            _, agree = _score(req, cores.lo[mask], cores.hi[mask], cands, 0.0, side="left")
            score = score + agree
    top = score >= score.max() - 1e-9
    best_run, run_start = (0, 0), None
    for i, flag in enumerate([*top.tolist(), False]):
        if flag and run_start is None:
            run_start = i
        elif not flag and run_start is not None:
            if i - run_start > best_run[1] - best_run[0]:
                best_run = (run_start, i)
            run_start = None
    mid = float(cands[best_run[0]] + cands[best_run[1] - 1]) / 2
    return replace(est, offset_s=mid, uncertainty_s=max(mid - a, b - mid))


def describe_naive(offset_s: float) -> str:
    """Split a naive clock's offset into the runner's zone and its skew, in words.

    The skew has the sign of every offset: Google time minus the runner's true UTC time (a runner
    3.4 s fast has skew -3.40 s), the ``skew_s`` and ``clock_offset_s`` a report states.
    """
    zone = round(offset_s / 900) * 900
    # offset = Google - runner; a runner at UTC+02:00 reads 2 h ahead, so its offset is -2 h
    sign = "+" if zone <= 0 else "-"
    hh, mm = divmod(abs(zone) // 60, 60)
    return f"naive runner clock read as UTC{sign}{int(hh):02d}:{int(mm):02d}, skew {offset_s - zone:+.2f} s"


#: The clause ``describe_naive`` writes, to keep it true when a refinement moves the offset.
_NAIVE_CLAUSE = re.compile(r"naive runner clock read as UTC[+-]\d{2}:\d{2}, skew [+-]\d+\.\d{2} s")


def from_anchors(pairs: list[tuple[int, int, int]]) -> tuple[float, float] | None:
    """Offset interval from anchors ``(entry_ns, window_lo_ns, window_hi_ns)`` (runner clock).

    Returns:
        (center, half-width) in seconds, or None without anchors. Inconsistent anchors (no common
        offset, e.g. a retried request) give the span of all of them instead of their intersection.
    """
    if not pairs:
        return None
    los = [(e - hi) / NS - SLACK_S for e, _, hi in pairs]
    his = [(e - lo) / NS + SLACK_S for e, lo, _ in pairs]
    a, b = max(los), min(his)
    if a > b:
        a, b = min(los), max(his)
    return (a + b) / 2, max((b - a) / 2, FINE_STEP_S)
