"""Which client is the runner: the one whose requests line up with the test run as a whole.

A busy export holds many clients calling the service while the suite runs: people's browsers,
crawlers, scanners, monitors, other people's scripts, other services. Every plausible client
(remote address, or user agent when there is none) is scored against the run at the clock offsets
where its own requests would explain the tests (``Standing``):

* a failed test whose window holds one of its requests that matches the failure counts most (the
  status the text names; any failing call when it names none, half as much; a refused WebSocket
  handshake is a GET); the call the text names (its path, or a handshake) counts extra;
* a passed test whose window holds one of its successful requests counts; any other test whose
  window holds one of its requests counts a little;
* against it: its requests during the run but between the tests' windows, its requests just
  before or after the run, a failed call in the middle of its activity that it did not make, and
  an offset far from a runner clock's usual seconds of skew;
* browsers, phones and callers only an access line names (no agent) must be in most tests;
  probes, crawlers and scanners (by their agent, or by the paths they probe: ``/.env``,
  ``/wp-login.php``) are never the runner.

A client that explains only a part of the failed calls the export covers is never the runner,
though it keeps weaker clients from being chosen. The best client is the runner only when no
other client (that is not the same runner leaving by another address) comes close: otherwise
nobody is, the reason names the clients that tie, and the clock is not taken from anyone's
requests. Another address of the runner joins it when it sends its agents at its clock and
explains more of the run while keeping to it (IPv4 and IPv6, a NAT pool), or repeats its calls
(another run of the same suite). Without test times the run is laid out from its durations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import polars as pl

from forensics.correlate.clock.estimate import runner_windows
from forensics.correlate.clock.offset import (
    NAIVE_RANGE_S,
    NS,
    UTC_SKEW_S,
    ClockEstimate,
    align_by_order,
    no_estimate,
)
from forensics.correlate.entries import client_key
from forensics.correlate.fingerprint import Fingerprint, describe_runner
from forensics.correlate.textids import TextIds

#: Paths only vulnerability scanners ask for: a client that mostly asks for these is a scanner,
#: whatever its user agent says.
SCANNER_PATH = (
    r"(?i)\.(?:php\d?|env|aspx?|jsp|cgi|git|svn|aws|ds_store|sql|bak|old|ini)(?:$|[/?;])|"
    r"^/(?:wp-|wordpress|cgi-bin/|phpmyadmin|pma/|xmlrpc|vendor/phpunit|boaform|hnap1|owa/|"
    r"actuator/(?:env|heapdump|gateway)|solr/|manager/html|\.git/|\.env)"
)
#: Share of a client's requests on scanner paths that makes it a scanner.
SCANNER_SHARE = 0.5
PLAUSIBLE = ("script", "unknown", "mobile", "browser")
PRIOR = {"script": 1.0, "unknown": 0.8, "mobile": 0.45, "browser": 0.45, "anonymous": 0.45}
#: Kinds that must be in most tests to be the runner: a person's browser or phone, and a caller
#: only an access line names (its address, no agent: a person as likely as a script).
PERSON_LIKE = ("browser", "mobile", "anonymous")
#: A browser or a phone is the runner (Selenium, a device farm) only when it is in this share of
#: the timed tests.
BROWSER_MIN_SHARE = 0.75
#: What each kind of evidence is worth (see the module docstring). A failure whose text names no
#: status (an assertion on the body, a timeout) is matched by any failing call: half as telling.
MATCH, MATCH_UNNAMED, PATH, PASSED_OK, OTHER_HIT, STRAY = 2.0, 1.0, 1.0, 1.0, 0.25, 0.25
#: A failed test that failed on a call (its text names a status, a path or a WebSocket) in the
#: middle of the client's activity, without a matching request of the client, counts against it.
MISSED = 1.0
#: Requests of the client just before or after the run (within ``AWAY_REACH_S``, beyond
#: ``AWAY_SLACK_S``) count against it, up to ``AWAY_MAX`` of them: the runner calls during its run.
AWAY, AWAY_SLACK_S, AWAY_REACH_S, AWAY_MAX = 0.25, 2.0, 60.0, 8
#: Another address with the runner's agents that makes the runner's calls again (this share of at
#: least ``MIRROR_MIN`` requests on a path the runner called within ``MIRROR_S``) is another run
#: of the same suite.
MIRROR_SHARE, MIRROR_MIN, MIRROR_S = 0.8, 3, 1.0
#: Another address of the runner is there through the run: its requests span this share of the
#: runner's own.
THROUGH_RUN_SHARE = 0.5
#: When the export covers at least this many failed calls, the runner made at least this share
#: of them (the tests it did not explain lie where the export has nothing).
PARTIAL_MIN_CALLS, PARTIAL_SHARE = 3, 0.5
#: Runner clocks are normally off by seconds: beyond this skew an offset costs ...
USUAL_SKEW_S = 5.0
#: ... this much per further second (an offset two minutes away needs a few more tests).
FAR_COST_PER_S = 0.05
#: The runner must beat every other client by this much, and by this share of its score.
MARGIN, MARGIN_SHARE = 1.0, 0.25
#: Below this score nothing lines up enough to call any client the runner (unless it is the only
#: client with a request in any test's window).
MIN_SCORE = 1.5
#: Clients whose every hypothesis is scored (the rest are bounded and scored best first).
MAX_SCORED = 150
#: Busiest clients near the run that are also aligned by request order alone.
ORDER_CLIENTS = 8
#: Failed tests used to anchor hypotheses (a run with more is sampled evenly), and passed ones.
MAX_FAILED, MAX_PASSED = 40, 40
#: The best few hypotheses are refined on a grid of this step, this many steps either side.
REFINE_TOP, REFINE_STEP_S, REFINE_SPAN = 3, 0.05, 10


@dataclass(frozen=True)
class Standing:
    """How well one client explains the run at its best offset."""

    key: str
    kind: str
    agents: tuple[str, ...]
    offset_s: float
    score: float
    tests: int  # timed tests whose window holds one of its requests
    matched: int  # failed tests whose window holds a request matching the failure
    #: (path, status) of its requests matching a failure at that offset
    calls: frozenset[tuple[str, int]] = frozenset()
    #: it explains only a part of the failed calls the export covers: never the runner, but
    #: still a client that lines up as well as others (so it keeps them from being chosen)
    partial: bool = False

    def describe(self) -> str:
        who = self.key.removeprefix("ua:")
        agent = (
            f" ({self.agents[0][:40]})" if self.agents and not self.key.startswith("ua:") else ""
        )
        return f"{who}{agent}: {self.tests} test(s) at {self.offset_s:+.1f} s"


@dataclass(frozen=True)
class Choice:
    """The runner among the clients, or why there is none."""

    runner: Standing | None
    rivals: tuple[Standing, ...] = ()  # clients too close to the best to tell apart
    reason: str = ""
    standings: tuple[Standing, ...] = ()
    twins: tuple[str, ...] = ()  # other addresses of the same runner


def scanner_keys(requests: pl.DataFrame) -> pl.Series:
    """Client keys that mostly ask for paths only scanners ask for."""
    keyed = requests.with_columns(key=client_key()).filter(pl.col("key").is_not_null())
    share = keyed.group_by("key").agg(
        probing=pl.col("http_path").fill_null("").str.contains(SCANNER_PATH).mean()
    )
    return share.filter(pl.col("probing") >= SCANNER_SHARE).get_column("key")


@dataclass(frozen=True)
class _Run:
    """The timed tests in runner epoch ns and what each failed one expects."""

    lo: np.ndarray
    hi: np.ndarray
    core_mid: np.ndarray
    failed: np.ndarray
    failed_idx: np.ndarray  # indices of the failed tests used as anchors
    kind: str
    on_a_call: np.ndarray  # per anchor: the failure names a status, a path or a WebSocket
    weight: np.ndarray  # per anchor: what matching its failure is worth
    names_path: np.ndarray  # per anchor: its text names the call's path
    center: int = 0  # the offset the search is centred on (a dropped zone, the anchors)
    span: tuple[int, int] = (0, 0)  # first and last request of the export (Google epoch ns)


def _failure_match(x: TextIds) -> pl.Expr:
    """The request matches the failure the test's text reports (as ``requests.window_candidates``)."""
    status = pl.col("http_status").fill_null(0)
    failing = status >= 400
    if x.statuses:
        match = status.is_in(sorted(x.statuses))
    elif x.timeout:
        # the client gave up waiting: a call the server took long over, or one cut off
        slow = (pl.col("end_ns") - pl.col("t_ns")) >= 2 * NS
        match = slow | status.is_in([0, 408, 499, 504])
    elif x.cors:
        match = failing | (pl.col("http_method").fill_null("").str.to_uppercase() == "OPTIONS")
    else:
        match = failing
    if x.websocket:
        # a refused WebSocket handshake is a GET (an Upgrade request), whatever its path
        match = match & pl.col("http_method").fill_null("GET").str.to_uppercase().is_in(
            ["GET", "CONNECT"]
        )
    if x.ws_close:
        match = match | (status == 101)
    return match.fill_null(False)


def _path_match(x: TextIds) -> pl.Expr:
    """The request is the call the text names: its path, or for a WebSocket failure a handshake
    (a WebSocket-looking path or protocol, or a WebSocket library's agent)."""
    paths = [p.rstrip("/") for p in x.paths if p != "/"]
    if paths:
        return pl.col("http_path").fill_null("").str.strip_chars_end("/").is_in(paths)
    if x.websocket:
        return (
            pl.col("http_path").fill_null("").str.contains(r"(?i)ws|socket|stream|realtime")
            | pl.col("http_protocol").fill_null("").str.contains(r"(?i)websocket")
            | pl.col("http_user_agent")
            .fill_null("")
            .str.contains(r"(?i)websocket|\bws/|gorilla|okhttp")
        )
    return pl.lit(False)


def _skew_cost(offsets: np.ndarray, kind: str, center: int = 0) -> np.ndarray:
    """What an offset costs for being far from a runner clock's usual skew (a naive clock's zone
    is whole quarter hours and costs nothing; a run without times has no clock to be off)."""
    if kind == "none":
        return np.zeros(len(offsets))
    skew = (offsets - center) / NS
    if kind == "naive":
        skew = skew - np.round(skew / 900.0) * 900.0
    return np.clip(np.abs(skew) - USUAL_SKEW_S, 0.0, None) * FAR_COST_PER_S


def _count(times: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per (offset row, window column) of ``lo``/``hi``, how many of the sorted ``times`` fall in."""
    return np.searchsorted(times, hi, "right") - np.searchsorted(times, lo, "left")


def _scores(
    run: _Run,
    t: np.ndarray,
    ok: np.ndarray,
    match: np.ndarray,
    path: np.ndarray,
    offsets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score, tests hit, failed tests matched, and failed calls the export covers, of one client
    at each offset.

    ``t`` is sorted; ``ok``, ``match`` (n x failed anchors) and ``path`` are masks over it.
    """
    o = offsets[:, None]
    lo, hi = run.lo[None, :] + o, run.hi[None, :] + o
    hit = _count(t, lo, hi) > 0
    passed_ok = (_count(t[ok], lo, hi) > 0) & ~run.failed[None, :]
    matched = np.zeros(len(offsets), dtype=np.int64)
    worth = np.zeros(len(offsets))
    named = np.zeros(len(offsets), dtype=np.int64)
    missed = np.zeros(len(offsets), dtype=np.int64)
    covered_calls = np.zeros(len(offsets), dtype=np.int64)
    credited = passed_ok.copy()
    run_lo, run_hi = lo.min(axis=1), hi.max(axis=1)
    slack = int(AWAY_SLACK_S * NS)
    a = np.searchsorted(t, run_lo - slack, "left")
    b = np.searchsorted(t, run_hi + slack, "right")
    present = b > a
    first = np.where(present, t[np.minimum(a, len(t) - 1)], 0)
    last = np.where(present, t[np.maximum(b - 1, 0)], -1)
    for col, j in enumerate(run.failed_idx):
        m = _count(t[match[:, col]], lo[:, j], hi[:, j]) > 0
        p = _count(t[match[:, col] & path[:, col]], lo[:, j], hi[:, j]) > 0
        matched += m
        # a matching status on another path than the one the text names counts half
        worth += run.weight[col] * np.where(p | ~run.names_path[col], m, 0.5 * m)
        named += p
        credited[:, j] |= m
        if run.on_a_call[col]:
            # a failed call in the middle of the client's activity that it did not make
            missed += ~m & (lo[:, j] >= first) & (hi[:, j] <= last)
            covered_calls += (lo[:, j] >= run.span[0]) & (hi[:, j] <= run.span[1])
    during = _count(t, run_lo, run_hi)
    away = _count(t, run_lo - int(AWAY_REACH_S * NS), run_hi + int(AWAY_REACH_S * NS)) - _count(
        t, run_lo - slack, run_hi + slack
    )
    order = np.argsort(run.lo, kind="stable")
    wlo, whi = run.lo[order], np.maximum.accumulate(run.hi[order])
    starts = np.ones(len(wlo), dtype=bool)
    starts[1:] = wlo[1:] > whi[:-1]
    idx = np.flatnonzero(starts)
    ends = np.append(idx[1:] - 1, len(wlo) - 1)
    covered = _count(t, wlo[idx][None, :] + o, whi[ends][None, :] + o).sum(axis=1)
    stray = during - covered
    # one request is one call: where windows overlap (JUnit times rebuilt from durations) a
    # single 403 must not explain every failed test around it
    matching = match.any(axis=1) if match.shape[1] else np.zeros(len(t), dtype=bool)
    calls = _count(t[matching], run_lo, run_hi)
    share = np.minimum(1.0, calls / np.maximum(matched, 1))
    passes = np.minimum(passed_ok.sum(axis=1), _count(t[ok], run_lo, run_hi))
    others = np.minimum((hit & ~credited).sum(axis=1), during)
    score = (
        share * (worth + PATH * named)
        + PASSED_OK * passes
        + OTHER_HIT * others
        - STRAY * stray
        - MISSED * missed
        - AWAY * np.minimum(away, AWAY_MAX)
        - _skew_cost(offsets, run.kind, run.center)
    )
    return score, hit.sum(axis=1), np.minimum(matched, calls), covered_calls


def _hypotheses(
    run: _Run, t: np.ndarray, match: np.ndarray, ok: np.ndarray, reach: tuple[int, int]
) -> np.ndarray:
    """Offsets that put one of the client's requests inside a test's window: a matching one in a
    failed test's, a successful one in a passed test's (at most ``MAX_PASSED`` passed tests)."""
    parts = []
    for col, j in enumerate(run.failed_idx):
        times = t[match[:, col]]
        if len(times):
            parts += [times - run.core_mid[j], times - run.hi[j], times - run.lo[j]]
    passed = np.flatnonzero(~run.failed)
    if len(passed) > MAX_PASSED:
        passed = passed[np.linspace(0, len(passed) - 1, MAX_PASSED).round().astype(int)]
    good = t[ok]
    if len(good) and len(passed):
        parts.append((good[:, None] - run.core_mid[None, passed]).ravel())
    if not parts:
        return np.empty(0, dtype=np.int64)
    offs = np.unique(np.concatenate(parts) // (NS // 100) * (NS // 100))
    return offs[(offs >= reach[0]) & (offs <= reach[1])]


def _around(offsets: np.ndarray, score: np.ndarray, reach: tuple[int, int]) -> np.ndarray:
    """A fine grid around the best few offsets: the best point need not be a hypothesis."""
    top = offsets[np.argsort(-score, kind="stable")[:REFINE_TOP]]
    step = int(REFINE_STEP_S * NS)
    grid = (np.arange(-REFINE_SPAN, REFINE_SPAN + 1) * step)[None, :] + top[:, None]
    grid = np.unique(grid.ravel())
    return grid[(grid >= reach[0]) & (grid <= reach[1])]


def _frame(
    requests: pl.DataFrame, ids: dict[str, TextIds], test_ids: list[str]
) -> tuple[pl.DataFrame, list[str]]:
    """Plausible runner requests with their key and one match/path column per anchoring failure."""
    scanners = scanner_keys(requests)
    cands = requests.with_columns(key=client_key()).filter(
        pl.col("key").is_not_null()
        & pl.col("client_kind").is_in(PLAUSIBLE)
        & ~pl.col("key").is_in(scanners.implode())
    )
    anonymous = (pl.col("layer") == "access") & pl.col("http_user_agent").is_null()
    cands = cands.with_columns(
        client_kind=pl.when(anonymous).then(pl.lit("anonymous")).otherwise(pl.col("client_kind"))
    )
    cols = []
    exprs = []
    for i, test_id in enumerate(test_ids):
        x = ids.get(test_id, TextIds())
        exprs += [_failure_match(x).alias(f"m{i}"), _path_match(x).alias(f"p{i}")]
        cols.append(test_id)
    return cands.with_columns(exprs).sort(["key", "t_ns"]), cols


def choose_runner(
    kind: str,
    timed: pl.DataFrame,
    ids: dict[str, TextIds],
    requests: pl.DataFrame,
    offset_s: float | None = None,
    around_s: tuple[float, float] | None = None,
) -> Choice:
    """Score every plausible client against the run; the runner is the one clearly best.

    Args:
        kind: the clock kind of ``timed`` ("utc" or "naive").
        timed: the tests of that kind with a start time (any outcome), with ``outcome``.
        ids: per failed test, what its text names.
        requests: tagged request rows (``is_request``), with ``client_kind``.
        offset_s: the first clock estimate's offset, tried for every client.
        around_s: (center, half-width) of the offsets to search; by default a "utc" clock is
            searched within its usual skew, a naive one over every zone.

    Returns:
        The ``Choice``; ``runner`` None when nothing lines up or several clients tie.
    """
    lo, hi = runner_windows(timed)
    core_lo, core_hi = runner_windows(timed, widen=False)
    failed = timed.get_column("outcome").cast(pl.String).is_in(["failed", "error"]).to_numpy()
    failed_idx = np.flatnonzero(failed)
    if len(failed_idx) > MAX_FAILED:
        failed_idx = failed_idx[np.linspace(0, len(failed_idx) - 1, MAX_FAILED).round().astype(int)]
    if around_s is not None:
        center, half = around_s
    else:
        center, half = 0.0, (NAIVE_RANGE_S if kind == "naive" else UTC_SKEW_S)
    reach = (int((center - half) * NS), int((center + half) * NS))
    test_ids = timed.get_column("test_id").to_list()
    said = [ids.get(test_ids[j], TextIds()) for j in failed_idx]
    on_a_call = np.array([bool(x.statuses or x.paths or x.websocket) for x in said], dtype=bool)
    weight = np.array([MATCH if x.statuses else MATCH_UNNAMED for x in said], dtype=float)
    names_path = np.array([any(p != "/" for p in x.paths) for x in said], dtype=bool)
    t_all = requests.get_column("t_ns")
    span = (int(t_all.min()), int(t_all.max())) if t_all.len() else (0, 0)  # type: ignore[arg-type]
    run = _Run(
        lo,
        hi,
        (core_lo + core_hi) // 2,
        failed,
        failed_idx,
        kind,
        on_a_call,
        weight,
        names_path,
        int(center * NS),
        span,
    )
    frame, _ = _frame(
        requests.filter(
            pl.col("t_ns").is_between(
                int(lo.min()) + reach[0] - 60 * NS, int(hi.max()) + reach[1] + 60 * NS
            )
        ),
        ids,
        [test_ids[j] for j in failed_idx],
    )
    if frame.is_empty():
        return Choice(None, reason="no request entries from a client that could be the runner")
    clients = _Clients.of(frame, len(failed_idx))
    standings = _standings(run, clients, offset_s, reach)
    choice = _decide(run, standings)
    if choice.runner is None:
        return choice
    return replace(choice, twins=tuple(_twins(run, clients, choice.runner, standings)))


@dataclass(frozen=True)
class _Clients:
    """The plausible runner requests as arrays, sorted by client key then time."""

    keys: np.ndarray
    t: np.ndarray
    ok: np.ndarray
    match: np.ndarray  # n x failed anchors: matches that test's failure
    path: np.ndarray  # n x failed anchors: is the call that test names
    kinds: np.ndarray
    agents: np.ndarray
    paths: np.ndarray
    statuses: np.ndarray
    slices: dict[str, tuple[int, int]]

    @classmethod
    def of(cls, frame: pl.DataFrame, n_failed: int) -> _Clients:
        keys = frame.get_column("key").to_numpy()
        bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])

        def masks(prefix: str) -> np.ndarray:
            if not n_failed:
                return np.zeros((frame.height, 0), dtype=bool)
            cols = [f"{prefix}{i}" for i in range(n_failed)]
            return frame.select(cols).to_numpy().astype(bool)

        return cls(
            keys=keys,
            t=frame.get_column("t_ns").to_numpy(),
            ok=(frame.get_column("http_status").fill_null(0) < 400).to_numpy(),
            match=masks("m"),
            path=masks("p"),
            kinds=frame.get_column("client_kind").to_numpy(),
            agents=frame.get_column("http_user_agent").fill_null("").to_numpy(),
            paths=frame.get_column("http_path").fill_null("").to_numpy(),
            statuses=frame.get_column("http_status").fill_null(0).to_numpy(),
            slices={str(keys[a]): (int(a), int(b)) for a, b in pairwise(bounds)},
        )

    def rows(self, *keys: str) -> np.ndarray:
        """Row indices of the keys' requests, in time order."""
        idx = np.concatenate([np.arange(*self.slices[k]) for k in keys if k in self.slices])
        return idx[np.argsort(self.t[idx], kind="stable")]

    def scores(
        self, run: _Run, rows: np.ndarray, offsets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``_scores`` of these rows taken as one client."""
        return _scores(run, self.t[rows], self.ok[rows], self.match[rows], self.path[rows], offsets)


def _standings(
    run: _Run, clients: _Clients, offset_s: float | None, reach: tuple[int, int]
) -> list[Standing]:
    """Every client's best standing, best first."""
    c = clients
    slices = list(c.slices.values())
    # busiest clients near the run are also tried at the offsets their own order suggests
    near = sorted(slices, key=lambda s: -(s[1] - s[0]))[:ORDER_CLIENTS]
    order_offsets = {s: _order_offsets(run, c.t[s[0] : s[1]], reach) for s in near}
    # an upper bound of each client's score, to score the likeliest first
    n_tests, n_passed = len(run.lo), int((~run.failed).sum())
    upper = [
        (
            (MATCH + PATH) * c.match[s:e].any(axis=0).sum()
            + PASSED_OK * min(int(c.ok[s:e].sum()), n_passed)
            + OTHER_HIT * min(e - s, n_tests)
        )
        * PRIOR.get(_mode(c.kinds[s:e]), 0.8)
        for s, e in slices
    ]
    out: list[Standing] = []
    fixed = np.array([int(offset_s * NS)] if offset_s is not None else [], dtype=np.int64)
    for i in np.argsort(-np.asarray(upper), kind="stable")[:MAX_SCORED]:
        s, e = slices[i]
        offs = np.unique(
            np.concatenate(
                [
                    fixed,
                    _hypotheses(run, c.t[s:e], c.match[s:e], c.ok[s:e], reach),
                    order_offsets.get((s, e), fixed[:0]),
                ]
            )
        )
        if len(offs) == 0:
            continue
        rows = np.arange(s, e)
        score, _, _, _ = c.scores(run, rows, offs)
        offs = np.unique(np.concatenate([offs, _around(offs, score, reach)]))
        score, hits, matched, calls_in_export = c.scores(run, rows, offs)
        kind = _mode(c.kinds[s:e])
        score = score * PRIOR.get(kind, 0.8)
        best = int(np.argmax(score))
        if kind in PERSON_LIKE and hits[best] < max(2, BROWSER_MIN_SHARE * len(run.lo)):
            continue
        partial = bool(
            calls_in_export[best] >= PARTIAL_MIN_CALLS
            and matched[best] < PARTIAL_SHARE * calls_in_export[best]
        )
        calls = _calls(run, c.t[s:e], c.match[s:e], int(offs[best]))
        out.append(
            Standing(
                key=str(c.keys[s]),
                kind=kind,
                agents=tuple(dict.fromkeys(a for a in c.agents[s:e] if a)),
                offset_s=float(offs[best]) / NS,
                score=float(score[best]),
                tests=int(hits[best]),
                matched=int(matched[best]),
                calls=frozenset((str(c.paths[s + i]), int(c.statuses[s + i])) for i in calls),
                partial=partial,
            )
        )
    return sorted(out, key=lambda x: (-x.score, x.key))


def _twins(run: _Run, clients: _Clients, best: Standing, standings: list[Standing]) -> list[str]:
    """Other addresses of the runner: the same agents at the same clock, either explaining tests
    the runner's address alone does not (IPv4 and IPv6, a NAT pool) while keeping to the run as
    the runner does (``_keeps_to_the_run``), or making its failing calls again through most of the
    run (another run of the suite into the same export: kept, so the notes can say so)."""
    twins = []
    offset = np.array([int(best.offset_s * NS)], dtype=np.int64)
    alone, _, _, _ = clients.scores(run, clients.rows(best.key), offset)
    for s in standings:
        if s.key == best.key or not _same_runner(best, s):
            continue
        if best.calls & s.calls and _mirrors(clients, best.key, s.key):
            twins.append(s.key)
            continue
        union, _, _, _ = clients.scores(run, clients.rows(best.key, s.key), offset)
        if union[0] >= alone[0] + MARGIN and _keeps_to_the_run(
            run, clients, best.key, s.key, int(offset[0])
        ):
            twins.append(s.key)
    return twins


def _mirrors(clients: _Clients, runner: str, other: str) -> bool:
    """Whether ``other`` makes the runner's calls again: most of its requests (at least
    ``MIRROR_MIN``) are on a path the runner called within ``MIRROR_S``."""
    mine, theirs = clients.rows(runner), clients.rows(other)
    if len(theirs) < MIRROR_MIN:
        return False
    repeated = 0
    for i in theirs:
        near = np.abs(clients.t[mine] - clients.t[i]) <= MIRROR_S * NS
        repeated += bool((clients.paths[mine][near] == clients.paths[i]).any())
    return repeated >= MIRROR_SHARE * len(theirs)


def _keeps_to_the_run(run: _Run, clients: _Clients, runner: str, other: str, offset: int) -> bool:
    """Whether ``other`` calls the way the runner's other address would: only during the run,
    through as much of it as the runner (not a burst of someone's script), and never failing in
    a test that passed."""
    mine, theirs = clients.t[clients.rows(runner)], clients.rows(other)
    t = clients.t[theirs]
    slack = int(AWAY_SLACK_S * NS)
    lo, hi = run.lo + offset, run.hi + offset
    if t.min() < lo.min() - slack or t.max() > hi.max() + slack:
        return False
    if t.max() - t.min() < THROUGH_RUN_SHARE * (mine.max() - mine.min()):
        return False
    failing = t[~clients.ok[theirs]]
    passed = ~run.failed
    inside = (failing[:, None] >= lo[None, passed]) & (failing[:, None] <= hi[None, passed])
    return not inside.any()


def _calls(run: _Run, t: np.ndarray, match: np.ndarray, offset: int) -> set[int]:
    """Indices (into ``t``) of the requests matching a failed test's failure at ``offset``."""
    found: set[int] = set()
    for col, j in enumerate(run.failed_idx):
        inside = (t >= run.lo[j] + offset) & (t <= run.hi[j] + offset) & match[:, col]
        found.update(np.flatnonzero(inside).tolist())
    return found


def _order_offsets(run: _Run, t: np.ndarray, reach: tuple[int, int]) -> np.ndarray:
    """Offsets that put the client's requests in the most windows, by request order alone."""
    center = (reach[0] + reach[1]) / 2 / NS
    half = (reach[1] - reach[0]) / 2 / NS
    default = half == (NAIVE_RANGE_S if run.kind == "naive" else UTC_SKEW_S) and center == 0
    around = None if default else (center, half)
    est = align_by_order(t, run.lo, run.hi, run.kind, around=around)
    if est is None:
        return np.empty(0, dtype=np.int64)
    return np.array([int(est.offset_s * NS)], dtype=np.int64)


def _mode(values: np.ndarray) -> str:
    uniq, counts = np.unique(values, return_counts=True)
    return str(uniq[int(np.argmax(counts))])


def _decide(run: _Run, standings: list[Standing]) -> Choice:
    """The best client when it stands clear of every other one; else no runner, and why."""
    eligible = [s for s in standings if not s.partial]
    alone = len([s for s in standings if s.tests]) == 1 and bool(eligible) and eligible[0].tests > 0
    if not eligible or (eligible[0].score < MIN_SCORE and not alone):
        return Choice(
            None,
            reason="no client's requests line up with the tests' windows",
            standings=tuple(standings),
        )
    best = eligible[0]
    needed = max(MARGIN, MARGIN_SHARE * best.score)
    rivals = tuple(
        s
        for s in standings
        if s is not best and s.score > best.score - needed and not _same_runner(best, s)
    )
    if rivals and all(_same_call(best, r) for r in rivals):
        # the same failing call made at the same moment by several clients: all stay candidates
        # and the test's note says so (``requests.separate_rival_clients``)
        return Choice(best, rivals=rivals, standings=tuple(standings))
    if rivals:
        names = "; ".join(x.describe() for x in (best, *rivals[:3]))
        more = f" and {len(rivals) - 3} more" if len(rivals) > 3 else ""
        reason = (
            f"could not tell the runner among {len(rivals) + 1} clients whose requests line up "
            f"with the run about as well: {names}{more}"
        )
        return Choice(None, rivals=(best, *rivals), reason=reason, standings=tuple(standings))
    return Choice(best, standings=tuple(standings))


def _same_call(a: Standing, b: Standing) -> bool:
    """Whether ``b`` made one of ``a``'s failing calls (path and status) at the same moment."""
    return abs(a.offset_s - b.offset_s) <= 1.0 and bool(a.calls & b.calls)


def _same_runner(a: Standing, b: Standing) -> bool:
    """Whether ``b`` may be the runner leaving by another address: the same agents, the same clock."""
    return bool(a.agents) and set(b.agents) <= set(a.agents) and abs(a.offset_s - b.offset_s) <= 1.0


def _anchor_keys(requests: pl.DataFrame, ids: dict[str, TextIds]) -> list[str]:
    """Clients of the requests whose trace a failed test's own text names: the runner for sure."""
    named = [tr for x in ids.values() for tr in (*x.traces, *x.loose_hex)]
    if not named:
        return []
    hits = requests.filter(pl.col("trace").is_in(named)).select(key=client_key()).drop_nulls()
    return sorted(set(hits.get_column("key").to_list()))


def _search_range(est: ClockEstimate) -> tuple[float, float] | None:
    """Where to look for the runner's offset: around the anchors or a dropped zone, else the
    clock kind's usual range."""
    if est.anchors:
        return est.offset_s, est.uncertainty_s + 1.0
    if "off by a zone" in est.method:
        return est.offset_s, UTC_SKEW_S
    return None


def _runner_clock(
    kind: str, timed: pl.DataFrame, est: ClockEstimate, runner: Standing, reqs: pl.DataFrame
) -> ClockEstimate:
    """The clock as the runner's own requests set it (the first estimate when it lies within
    theirs: it may have come from another client's requests)."""
    lo, hi = runner_windows(timed)
    times = np.sort(reqs.get_column("t_ns").to_numpy())
    reach = max(2.0, est.uncertainty_s + 0.5) if not est.method.startswith("none") else 2.0
    new = align_by_order(times, lo, hi, kind, around=(runner.offset_s, reach))
    if new is None:
        return ClockEstimate(
            runner.offset_s, 1.0, "requests of the runner", 0, runner.tests, len(lo)
        )
    if not est.method.startswith("none") and abs(est.offset_s - new.offset_s) <= new.uncertainty_s:
        return est
    method = new.method.replace("request order", "request order of the runner's requests", 1)
    return replace(new, method=method)


#: Requests without a client address (access lines standing in for a missing request log) that
#: come as densely around the run as during it (this share of the density, at least
#: ``CROWD_MIN`` of them) are everyone's traffic, not the runner's.
CROWD_SHARE, CROWD_MIN, CROWD_AROUND_S = 0.5, 5, 10.0


def _unkeyed_crowd(timed: pl.DataFrame, est: ClockEstimate, requests: pl.DataFrame) -> str:
    """Why requests with no client address cannot set the clock: they line up with only some of
    the tests, or come around the run as densely as during it, so they are a crowd's ("" when
    they may be the runner's)."""
    if est.method.startswith("none") or timed.is_empty():
        return ""
    if est.tests_timed and est.tests_hit < est.tests_timed:
        return (
            f"requests with no client address (an export without request logs?) line up with "
            f"only {est.tests_hit} of {est.tests_timed} tests: not enough to set the clock on"
        )
    lo, hi = runner_windows(timed)
    shift = int(est.offset_s * NS)
    a, b = int(lo.min()) + shift, int(hi.max()) + shift
    around = max(b - a, int(CROWD_AROUND_S * NS))
    t = requests.filter(client_key().is_null()).get_column("t_ns")
    inside = int(t.is_between(a, b).sum())
    outside = int(t.is_between(a - around, a, closed="left").sum()) + int(
        t.is_between(b, b + around, closed="right").sum()
    )
    density_in = inside / max(b - a, 1)
    density_out = outside / (2 * around)
    if outside < CROWD_MIN or density_out < CROWD_SHARE * density_in:
        return ""
    return (
        f"requests with no client address (an export without request logs?) come as often around "
        f"the run ({outside}) as during it ({inside}): they are everyone's, not the runner's"
    )


def identify_runner(
    tests: pl.DataFrame,
    requests: pl.DataFrame,
    ids: dict[str, TextIds],
    clocks: dict[str, ClockEstimate],
) -> tuple[Fingerprint, dict[str, ClockEstimate]]:
    """The runner's fingerprint, and the clocks as its requests set them.

    Args:
        tests: every test with its clock ``kind`` column.
        requests: tagged request rows that may be the runner's (no probes).
        ids: per failed test, what its text names.
        clocks: the first estimate per clock kind (``clock.estimate_clock``).

    Returns:
        The fingerprint (empty, with the reason as its method, when no client stands clear of the
        others) and the clocks (a kind's clock is "none" when its order came from nobody's).
    """
    timed_kinds = [k for k in clocks if not tests.filter(pl.col("kind") == k).is_empty()]
    if not timed_kinds:
        return _untimed_runner(tests, requests, ids), clocks
    kind = max(timed_kinds, key=lambda k: tests.filter(pl.col("kind") == k).height)
    timed = tests.filter(pl.col("kind") == kind)
    est = clocks[kind]
    aligned = not est.method.startswith("none")
    choice = choose_runner(
        kind,
        timed,
        ids,
        requests,
        offset_s=est.offset_s if aligned else None,
        around_s=_search_range(est),
    )
    anchored = _anchor_keys(requests, ids)
    if anchored:
        keys, method = anchored, "trace ids the failed tests name"
    elif choice.runner is not None:
        keys = [choice.runner.key, *(r.key for r in choice.rivals), *choice.twins]
        method = f"requests lining up with the run ({choice.runner.tests} of {timed.height} tests)"
        mine = requests.filter(client_key() == choice.runner.key)
        clocks = {**clocks, kind: _runner_clock(kind, timed, est, choice.runner, mine)}
    else:
        crowd = _unkeyed_crowd(timed, est, requests)
        if est.anchors == 0 and (choice.standings or crowd):
            # the order came from clients that are not the runner, that nobody can tell apart,
            # or from requests with no client address too many to be one runner's: they do not
            # set the runner's clock
            clocks = {**clocks, kind: no_estimate(kind, crowd or choice.reason)}
        return Fingerprint(method=f"none: {choice.reason}"), clocks
    return describe_runner(requests, keys, method), clocks


#: A run without times is laid out from its durations, each test this much less certain than the
#: one before (setup, teardown and gaps are not in a test's duration) ...
UNTIMED_DRIFT_S = 0.05
#: ... from this much for the first.
UNTIMED_BASE_S = 0.5


def _laid_out(tests: pl.DataFrame) -> pl.DataFrame:
    """Tests without start times placed one after another from their durations (epoch 0)."""
    ordered = tests.sort("order").with_columns(pl.col("duration_s").fill_null(0.0).clip(0.0))
    begin = (ordered.get_column("duration_s").cum_sum() - ordered.get_column("duration_s")) * NS
    n = pl.int_range(pl.len(), dtype=pl.Int64)
    return ordered.with_columns(
        start=pl.from_epoch(begin.cast(pl.Int64), "ns").dt.replace_time_zone("UTC"),
        stop=pl.lit(None, pl.Datetime("ns", "UTC")),
        window_uncertainty_s=UNTIMED_BASE_S + UNTIMED_DRIFT_S * n,
    )


def _untimed_runner(
    tests: pl.DataFrame, requests: pl.DataFrame, ids: dict[str, TextIds]
) -> Fingerprint:
    """Without test times: the client whose requests fit the run laid out from its durations,
    anywhere in the export, clearly better than any other; else none."""
    if tests.is_empty() or requests.is_empty():
        return Fingerprint(method="none: no test times and no request entries")
    laid = _laid_out(tests)
    run_ns = int(laid.get_column("duration_s").sum() * NS) + NS
    t = requests.get_column("t_ns")
    lo, hi = int(t.min()), int(t.max())  # type: ignore[arg-type]
    center = (lo - run_ns + hi) / 2 / NS
    half = (hi - lo + run_ns) / 2 / NS + 1.0
    choice = choose_runner("none", laid, ids, requests, around_s=(center, half))
    if choice.runner is None:
        return Fingerprint(method=f"none: no test times; {choice.reason}")
    return describe_runner(
        requests,
        [choice.runner.key, *choice.twins],
        f"requests fitting the run laid out from its durations ({choice.runner.tests} of {laid.height} tests; no test times)",
    )
