"""The runner's fingerprint: the remote IPs and user agents of its requests.

Which clients are the runner is decided in ``runner.identify_runner`` (the client whose requests
line up with the run as a whole, clearly better than any other, with its other addresses); this
module describes them and tells, row by row, whether a request is the runner's. Health checks,
uptime checks and scanners are never the runner, and a person browsing from the runner's own
address is not either (unless the runner is a browser).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from forensics.correlate.entries import client_key

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


def describe_runner(requests: pl.DataFrame, keys: list[str], method: str) -> Fingerprint:
    """The fingerprint of the runner's client keys: their addresses, agents and kinds."""
    cands = requests.filter(~pl.col("client_kind").is_in(NEVER_RUNNER))
    return _describe(cands, keys, method, dict.fromkeys(keys, 1.0))
