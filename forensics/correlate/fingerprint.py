"""Who the runner is in the logs: the remote IPs and user agents of its requests.

Once test windows are in Google time, every client (remote IP, or user agent when there is no IP)
is scored by how well its requests line up with the run:

* ``tests``: how many test windows (passing and failing) hold one of its requests;
* ``in_share``: the share of its requests during the run that fall inside a window: a browser or a
  monitor that calls all the time also lands between tests, the runner mostly does not;
* a prior from the user agent: scripted clients (httpx, aiohttp, websockets, requests, curl, Go,
  Node, headless browsers) are likelier runners than a person's browser; health checks, uptime
  checks and scanners are never the runner.

Clients scoring at least ``KEEP_SHARE`` of the best are the runner, and so are other addresses
with the runner's user agent whose requests stay inside test windows (IPv4 and IPv6, NAT pools). Without test times the
dominant scripted client of the log is taken, and the method says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from forensics.correlate.entries import client_key

KEEP_SHARE = 0.6
#: Another address repeating the runner's calls (same path within this many seconds) ...
MIRROR_S = 1.0
#: ... for at least this share of its requests is another client running the same thing.
MIRROR_SHARE = 0.8
#: A client with the runner's user agent joins it when this share of its requests is in windows.
SAME_AGENT_INSIDE = 0.8
PRIOR = {"script": 1.0, "unknown": 0.8, "mobile": 0.45, "browser": 0.45}
NEVER_RUNNER = ("probe", "scanner")


@dataclass(frozen=True)
class Fingerprint:
    """The runner's clients."""

    keys: frozenset[str] = frozenset()  # client keys (IP, or "ua:<agent>")
    remote_ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset()  # client kinds of the runner ("script", "browser", ...)
    method: str = "none"
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "remote_ips": list(self.remote_ips),
            "user_agents": list(self.user_agents),
            "method": [self.method],
        }

    def is_runner(self) -> pl.Expr:
        """Boolean expression over tagged log rows: the row is a request from the runner."""
        if not self.keys:
            return pl.lit(False)
        expr = client_key().is_in(list(self.keys)) & ~pl.col("client_kind").is_in(NEVER_RUNNER)
        if "browser" not in self.kinds:
            # A person browsing from the runner's own address is not the runner.
            expr = expr & (pl.col("client_kind") != "browser")
        return expr.fill_null(False)


def _describe(
    requests: pl.DataFrame, keys: list[str], method: str, scores: dict[str, float]
) -> Fingerprint:
    mine = requests.filter(client_key().is_in(keys))
    ips = mine.get_column("http_remote_ip").drop_nulls().value_counts(sort=True)
    uas = mine.get_column("http_user_agent").drop_nulls().value_counts(sort=True)
    kinds = mine.get_column("client_kind").value_counts(sort=True)
    return Fingerprint(
        keys=frozenset(keys),
        remote_ips=tuple(ips.get_column("http_remote_ip").to_list()),
        user_agents=tuple(uas.get_column("http_user_agent").to_list()[:8]),
        kinds=frozenset(kinds.get_column("client_kind").to_list()),
        method=method,
        scores=scores,
    )


def _mirrors(during: pl.DataFrame, runner: pl.Series, others: pl.DataFrame) -> pl.Series:
    """Keys of ``others`` whose requests repeat the runner's calls (same path, same moment).

    A NAT pool splits the runner's calls between addresses; a second client running the same
    suite (another CI job, a person retrying the same page) makes each call again beside it.
    """
    if others.is_empty():
        return pl.Series("key", [], dtype=pl.String)
    mine = during.filter(pl.col("key").is_in(runner.implode())).select(
        m_path="http_path", m_t="t_ns"
    )
    theirs = during.filter(pl.col("key").is_in(others.get_column("key").implode())).select(
        "row", "key", "http_path", "t_ns"
    )
    repeated = (
        theirs.join(mine, left_on="http_path", right_on="m_path")
        .filter((pl.col("t_ns") - pl.col("m_t")).abs() <= int(MIRROR_S * 1e9))
        .group_by("key")
        .agg(repeated=pl.col("row").n_unique())
    )
    return (
        theirs.group_by("key")
        .agg(total=pl.len())
        .join(repeated, on="key")
        .filter(pl.col("repeated") >= MIRROR_SHARE * pl.col("total"))
        .get_column("key")
    )


def runner_fingerprint(
    requests: pl.DataFrame, windows: pl.DataFrame, aligned: bool = True
) -> Fingerprint:
    """Find the runner's clients among request entries.

    Args:
        aligned: whether the windows come from an aligned clock. Unaligned windows are wide
            guesses: only a scripted client may then be taken for the runner.
        requests: tagged request rows (``entries.tag_entries``, ``is_request`` true).
        windows: ``test_id``, ``lo_ns``, ``hi_ns`` of every timed test in Google epoch ns
            (passing tests included); may be empty.

    Returns:
        The ``Fingerprint``; empty keys when no client lines up with the run.
    """
    cands = requests.filter(~pl.col("client_kind").is_in(NEVER_RUNNER)).with_columns(
        key=client_key()
    )
    cands = cands.filter(pl.col("key").is_not_null())
    if not aligned:
        cands = cands.filter(pl.col("client_kind") == "script")
    if cands.is_empty():
        return Fingerprint(method="none: no request entries with a remote IP or user agent")
    if windows.is_empty():
        scripted = cands.filter(pl.col("client_kind") == "script")
        if scripted.is_empty():
            return Fingerprint(method="none: no test times and no scripted client in the log")
        top = scripted.group_by("key").len().sort(["len", "key"], descending=[True, False])
        key = top.item(0, "key")
        return _describe(
            cands,
            [key],
            "dominant scripted client (no test times)",
            {key: float(top.item(0, "len"))},
        )
    run_lo, run_hi = windows.get_column("lo_ns").min(), windows.get_column("hi_ns").max()
    during = cands.filter(pl.col("t_ns").is_between(run_lo, run_hi))
    if during.is_empty():
        return Fingerprint(method="none: no request entries during the run")
    hits = during.select("row", "key", "t_ns").join_where(
        windows.select("test_id", "lo_ns", "hi_ns"),
        pl.col("t_ns") >= pl.col("lo_ns"),
        pl.col("t_ns") <= pl.col("hi_ns"),
    )
    per_key = (
        during.group_by("key")
        .agg(
            total=pl.len(),
            kind=pl.col("client_kind").mode().first(),
            ua=pl.col("http_user_agent").drop_nulls().mode().first(),
        )
        .join(
            hits.group_by("key").agg(
                tests=pl.col("test_id").n_unique(), inside=pl.col("row").n_unique()
            ),
            on="key",
            how="left",
        )
        .fill_null(0)
        .with_columns(
            score=pl.col("tests")
            * (pl.col("inside") + 1)
            / (pl.col("total") + 2)
            * pl.col("kind").replace_strict(PRIOR, default=0.8, return_dtype=pl.Float64)
        )
        .filter(pl.col("tests") > 0)
        .sort(["score", "key"], descending=[True, False])
    )
    if per_key.is_empty():
        return Fingerprint(method="none: no request entry inside any test window")
    best = per_key.item(0, "score")
    best_tests = per_key.item(0, "tests")
    keep = per_key.filter(
        (pl.col("score") >= KEEP_SHARE * best) & (pl.col("tests") >= 0.3 * best_tests)
    )
    # The same runner seen from more addresses (IPv4 and IPv6, a NAT pool): its user agent, and
    # requests that stay inside test windows.
    runner_uas = keep.get_column("ua").drop_nulls().to_list()
    same_agent = per_key.filter(
        ~pl.col("key").is_in(keep.get_column("key").implode())
        & pl.col("ua").is_in(runner_uas)
        & (pl.col("kind") != "browser")
        & (pl.col("inside") >= SAME_AGENT_INSIDE * pl.col("total"))
    )
    same_agent = same_agent.filter(
        ~pl.col("key").is_in(_mirrors(during, keep.get_column("key"), same_agent).implode())
    )
    keep = pl.concat([keep, same_agent])
    scores = dict(
        zip(keep.get_column("key").to_list(), keep.get_column("score").to_list(), strict=True)
    )
    method = f"requests inside test windows ({best_tests} of {windows.height} tests)"
    return _describe(cands, keep.get_column("key").to_list(), method, scores)


#: Another address of the runner is active only around the run: this share of its requests lies
#: within the run (give or take ``AROUND_RUN_S``) ...
AROUND_RUN_SHARE = 0.8
AROUND_RUN_S = 30.0
#: ... and it is present through the run: its requests span this share of the runner's, or hit
#: this many tests (a NAT pool splits the whole run; a burst of someone's script does not).
THROUGH_RUN_SHARE = 0.3
THROUGH_RUN_TESTS = 3


def same_runner(
    requests: pl.DataFrame, windows: pl.DataFrame, keys: list[str], method: str
) -> Fingerprint:
    """The runner's fingerprint: its client keys, and its other addresses (IPv4 and IPv6, a NAT
    pool) that send only its user agents, stay inside test windows and are there through the run.

    Args:
        requests: tagged request rows that may be the runner's.
        windows: ``test_id``, ``lo_ns``, ``hi_ns`` of every timed test in Google epoch ns.
        keys: the runner's client keys, already decided.
        method: how they were decided.
    """
    cands = requests.filter(~pl.col("client_kind").is_in(NEVER_RUNNER)).with_columns(
        key=client_key()
    )
    mine = cands.filter(pl.col("key").is_in(keys))
    if windows.is_empty() or mine.is_empty():
        return _describe(cands, keys, method, {k: 1.0 for k in keys})
    agents = mine.get_column("http_user_agent").drop_nulls().unique().to_list()
    browser = mine.get_column("client_kind").eq("browser").any()
    run_lo, run_hi = windows.get_column("lo_ns").min(), windows.get_column("hi_ns").max()
    slack = int(AROUND_RUN_S * 1e9)
    t_mine = mine.get_column("t_ns")
    span_mine = max(int(t_mine.max()) - int(t_mine.min()), 1)  # type: ignore[arg-type]
    others = cands.filter(pl.col("key").is_not_null() & ~pl.col("key").is_in(keys)).filter(
        pl.col("http_user_agent").is_in(agents).all().over("key")
        & (browser | (pl.col("client_kind") != "browser").all().over("key"))
    )
    if others.is_empty():
        return _describe(cands, keys, method, {k: 1.0 for k in keys})
    hits = others.select("row", "key", "t_ns").join_where(
        windows.select("test_id", "lo_ns", "hi_ns"),
        pl.col("t_ns") >= pl.col("lo_ns"),
        pl.col("t_ns") <= pl.col("hi_ns"),
    )
    per_key = (
        others.group_by("key")
        .agg(
            total=pl.len(),
            near=pl.col("t_ns").is_between(run_lo - slack, run_hi + slack).sum(),
            during=pl.col("t_ns").is_between(run_lo, run_hi).sum(),
            span=pl.col("t_ns").max() - pl.col("t_ns").min(),
        )
        .join(
            hits.group_by("key").agg(
                tests=pl.col("test_id").n_unique(), inside=pl.col("row").n_unique()
            ),
            on="key",
        )
        .filter(
            (pl.col("inside") >= SAME_AGENT_INSIDE * pl.col("during"))
            & (pl.col("near") >= AROUND_RUN_SHARE * pl.col("total"))
            & (
                (pl.col("span") >= THROUGH_RUN_SHARE * span_mine)
                | (pl.col("tests") >= THROUGH_RUN_TESTS)
            )
        )
    )
    extra = per_key.get_column("key").to_list()
    return _describe(cands, [*keys, *extra], method, {k: 1.0 for k in [*keys, *extra]})
