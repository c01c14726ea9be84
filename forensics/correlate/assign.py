"""Share out failure-matching requests among failed tests whose windows overlap.

Windows are widened by the clock's uncertainty (and, for JUnit, by start times rebuilt from
durations), so the windows of neighbouring failed tests often overlap and several tests claim the
same 403. Each group of tests tied by such claims is solved as one alignment:

* requests (in time order) go to tests (in start order) monotonically: a later request never goes
  to an earlier test, which is how a sequential run works, and keeps working when rebuilt start
  times drift;
* a request costs its distance (seconds) to the test's core window (its own times on the Google
  clock); a test left without any request costs ``miss_s``, a request left to nobody ``drop_s``;
* a test's own calls come close together: giving one test two requests further apart than the
  test lasted costs the excess (rebuilt JUnit starts compress the run, and a 12 ms test must not
  take its neighbours' calls);
* the cheapest alignment wins (dynamic programming over requests x tests).

Tests whose core windows are the same (concurrent tests started together) cannot be told apart by
time: their requests are shared among them, and the link says so.

``keep_nearest`` applies the same idea to every timed test, passing ones included: a context
request (and, with measured times, a failing one) belongs to the test that ran nearest to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

NS = 1_000_000_000
#: Core windows whose edges differ by less than this are the same window.
SAME_WINDOW_NS = 10_000_000
#: Above this many (claims x tests^2) steps the alignment is skipped and claims are shared.
MAX_ALIGN_WORK = 5_000_000
#: What a request costs a test without times of its own (its core is the whole run).
UNTIMED_COST_S = 0.5


@dataclass(frozen=True)
class Claim:
    """A failure-matching request and the failed tests whose windows hold it."""

    row: int
    t_ns: int
    tests: frozenset[str]


def _cost(t_ns: int, core: tuple[int, int]) -> float:
    return max(core[0] - t_ns, 0, t_ns - core[1]) / NS


def _align(
    claims: list[Claim],
    tests: list[str],
    cores: dict[str, tuple[int, int]],
    miss_s: float,
    drop_s: float,
    untimed: frozenset[str] = frozenset(),
) -> list[int | None]:
    """Cheapest monotone assignment: per claim (time order), the index of its test or None."""
    m = len(tests)
    index = {t: i + 1 for i, t in enumerate(tests)}  # 0 = no test has a request yet
    best = [0.0] + [math.inf] * m
    back: list[list[tuple[int, int | None]]] = []
    previous: int | None = None
    for claim in claims:
        new = [b + drop_s for b in best]
        choice: list[tuple[int, int | None]] = [(j, None) for j in range(m + 1)]
        gap = (claim.t_ns - previous) if previous is not None else 0
        for t in claim.tests:
            k = index[t]
            # a test without times fits anywhere, but a timed test close by fits better
            c = min(UNTIMED_COST_S, miss_s / 2) if t in untimed else _cost(claim.t_ns, cores[t])
            # a test's own calls come close together: stretching one test over a gap longer
            # than the test lasted costs that gap (a 12 ms test does not make calls 0.4 s apart
            # while its neighbours make none)
            own = 0 if t in untimed else cores[t][1] - cores[t][0]
            stretch = max(gap - own, 0) / NS
            for j in range(k + 1):
                if best[j] == math.inf:
                    continue
                total = best[j] + c + miss_s * max(k - j - 1, 0) + (stretch if j == k else 0.0)
                if total < new[k] - 1e-12:
                    new[k], choice[k] = total, (j, k)
        back.append(choice)
        best = new
        previous = claim.t_ns
    end = min(range(m + 1), key=lambda j: best[j] + miss_s * (m - j))
    out: list[int | None] = []
    state = end
    for step in reversed(back):
        prev, pick = step[state]
        out.append(None if pick is None else pick - 1)
        state = prev
    return out[::-1]


def _same_window(a: tuple[int, int], b: tuple[int, int]) -> bool:
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return abs(a[0] - b[0]) < SAME_WINDOW_NS and overlap > 0 and overlap >= shorter / 2


def _twins(
    tests: list[str], cores: dict[str, tuple[int, int]], untimed: frozenset[str]
) -> dict[str, list[str]]:
    """Per test, the timed tests of the group that ran at the same time (itself included).

    Tests without times all have the run's span as core window, but they ran one after another:
    only their order tells them apart, so they are never twins.
    """
    return {
        t: [t]
        if t in untimed
        else [u for u in tests if u not in untimed and _same_window(cores[t], cores[u])]
        for t in tests
    }


def share_out(
    claims: list[Claim],
    cores: dict[str, tuple[int, int]],
    rank: dict[str, tuple],
    miss_s: float,
    drop_s: float,
    untimed: frozenset[str] = frozenset(),
) -> dict[tuple[str, int], int]:
    """Decide who owns each claimed request.

    Args:
        claims: failure-matching requests with the failed tests whose windows hold them.
        cores: per test, its core window in Google epoch ns.
        rank: per test, a sort key for start order (core start, run order).
        miss_s: cost of a failed test that gets no request.
        drop_s: cost of a request given to nobody.
        untimed: tests without times of their own (their core is the run's span).

    Returns:
        (test_id, row) -> number of tests sharing the row (1 = decided) for every kept pair;
        pairs not returned are dropped.
    """
    groups = _groups(claims)
    kept: dict[tuple[str, int], int] = {}
    for tests_set, members in groups:
        tests = sorted(tests_set, key=lambda t: rank.get(t, (0, 0)))
        members.sort(key=lambda c: (c.t_ns, c.row))
        if len(tests) == 1:
            kept.update({(tests[0], c.row): 1 for c in members})
            continue
        if len(members) * len(tests) ** 2 > MAX_ALIGN_WORK:
            # too big to align: every claim stays, shared among its claimants
            for c in members:
                kept.update({(t, c.row): len(c.tests) for t in c.tests})
            continue
        twins = _twins(tests, cores, untimed)
        for claim, k in zip(
            members, _align(members, tests, cores, miss_s, drop_s, untimed), strict=True
        ):
            if k is None:
                continue
            owners = [t for t in twins[tests[k]] if t in claim.tests]
            kept.update({(t, claim.row): len(owners) for t in owners})
    return kept


def _groups(claims: list[Claim]) -> list[tuple[set[str], list[Claim]]]:
    """Connected groups of tests (linked by claims they share) with their claims."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for c in claims:
        first, *rest = sorted(c.tests)
        for t in rest:
            parent[find(t)] = find(first)
    by_root: dict[str, tuple[set[str], list[Claim]]] = {}
    for c in claims:
        root = find(min(c.tests))
        tests, members = by_root.setdefault(root, (set(), []))
        tests.update(c.tests)
        members.append(c)
    return list(by_root.values())


def assign_contested(
    cand: pl.DataFrame,
    exact: pl.DataFrame,
    cores: dict[str, tuple[int, int]],
    rank: dict[str, tuple],
    miss_s: float,
    untimed: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Give each failure-matching request claimed by several failed tests to one test when possible.

    A request named by id in one test's text belongs to that test only. Among tests whose URL
    paths differ, the path decides. The rest is an alignment in time order (``assign.share_out``).

    Args:
        cand: ``window_candidates`` output.
        exact: ``test_id``, ``row`` tied by an id from the text.
        cores: per test id, its core window (epoch ns, Google clock).
        rank: per test id, a sort key for start order.
        miss_s: cost, in seconds of misfit, of a failed test left without a request.
        untimed: failed tests without times of their own.

    Returns:
        ``cand`` with contested rows resolved, plus a ``shared`` column.
    """
    owned = (
        exact.select("row", owner="test_id")
        .sort(["row", "owner"])
        .unique("row", keep="first", maintain_order=True)
    )
    cand = cand.join(owned, on="row", how="left")
    cand = cand.filter(pl.col("owner").is_null() | (pl.col("owner") == pl.col("test_id"))).drop(
        "owner"
    )
    match = cand.filter(pl.col("matches_failure"))
    claims = []
    for row, tests, pms, t_ns in (
        match.group_by("row").agg("test_id", "path_match", pl.col("t_ns").first()).iter_rows()
    ):
        keep = (
            [t for t, p in zip(tests, pms, strict=True) if p]
            if any(pms) and not all(pms)
            else tests
        )
        claims.append(Claim(row, t_ns, frozenset(keep)))
    kept = share_out(claims, cores, rank, miss_s=miss_s, drop_s=miss_s, untimed=untimed)
    schema = {"test_id": pl.String, "row": pl.UInt32, "k": pl.Int64}
    verdict = pl.DataFrame([(t, r, k) for (t, r), k in kept.items()], schema=schema, orient="row")
    cand = cand.join(verdict, on=["test_id", "row"], how="left")
    # failure-matching pairs that lost the alignment go; context requests stay as they were
    cand = cand.filter(~pl.col("matches_failure") | pl.col("k").is_not_null())
    cand = cand.with_columns(shared=pl.col("k").fill_null(1) > 1)
    return cand.with_columns(strength=pl.col("strength") / pl.col("k").fill_null(1)).drop("k")


#: A request this much farther from a test's core window than from another test's is not its own.
NEAREST_TOLERANCE_NS = 50_000_000


def keep_nearest(cand: pl.DataFrame, cores: pl.DataFrame, precise: frozenset[str]) -> pl.DataFrame:
    """Drop window candidates that sit nearer to another test's own times than to this test's.

    Widened windows overlap the neighbours' requests; a request is kept for a test when no other
    timed test (passing ones included) started or ran nearer to it. Context requests are always
    filtered so; failure-matching ones only for tests whose times are ``precise`` (reportlog
    timing, an aligned clock), since rebuilt JUnit starts drift and the alignment handles those.

    Args:
        cand: ``window_candidates`` rows (``test_id``, ``row``, ``t_ns``, ``matches_failure``, ...).
        cores: ``test_id``, ``core_lo``, ``core_hi`` of every timed test, Google epoch ns.
        precise: failed tests whose core windows can be trusted to a few tens of ms.
    """
    if cand.is_empty() or cores.is_empty():
        return cand
    by_start = cores.select("core_lo", "core_hi").sort("core_lo")
    times = cand.select("t_ns").unique().sort("t_ns")
    near = times.join_asof(
        by_start.rename({"core_lo": "b_lo", "core_hi": "b_hi"}),
        left_on="t_ns",
        right_on="b_lo",
        strategy="backward",
    )
    near = near.join_asof(
        by_start.select(f_lo="core_lo"), left_on="t_ns", right_on="f_lo", strategy="forward"
    )
    big = 2**62
    near = near.select(
        "t_ns",
        nearest=pl.min_horizontal(
            pl.when(pl.col("b_lo").is_null())
            .then(big)
            .otherwise((pl.col("t_ns") - pl.col("b_hi")).clip(lower_bound=0)),
            pl.when(pl.col("f_lo").is_null()).then(big).otherwise(pl.col("f_lo") - pl.col("t_ns")),
        ),
    )
    own = cand.join(cores.select("test_id", "core_lo", "core_hi"), on="test_id", how="left").join(
        near, on="t_ns", how="left"
    )
    mine = pl.max_horizontal(
        pl.col("core_lo") - pl.col("t_ns"), pl.lit(0), pl.col("t_ns") - pl.col("core_hi")
    )
    # a context request inside another test's own times, outside mine, is that test's (the
    # tolerance is for requests between tests, not for ones another test plainly made)
    inside_other = (pl.col("nearest") == 0) & (mine > 0) & ~pl.col("matches_failure")
    nearest_is_mine = pl.col("core_lo").is_null() | (
        (mine <= pl.col("nearest") + NEAREST_TOLERANCE_NS) & ~inside_other
    )
    checked = ~pl.col("matches_failure") | pl.col("test_id").is_in(list(precise))
    return own.filter(~checked | nearest_is_mine).drop("core_lo", "core_hi", "nearest")
