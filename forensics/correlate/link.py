"""Correlation of failed tests with log rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

#: Schema of ``Correlation.links``.
LINK_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "row": pl.UInt32(),  # row index into the log frame (its ``row`` column)
    "via": pl.String(),  # "trace", "request_id", "url", "window", "app_join"
    "strength": pl.Float64(),  # 0..1: how sure the link is (trace 1.0, window lower)
}

#: Schema of ``Correlation.windows``.
WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "test_id": pl.String(),
    "lo": pl.Datetime("ns", "UTC"),  # Google time, widened by uncertainty and offset error
    "hi": pl.Datetime("ns", "UTC"),
}


@dataclass
class Correlation:
    """How failed tests were tied to log rows.

    Attributes:
        clock_offset_s: Google time minus runner time, in seconds (add it to a test's time).
        clock_offset_uncertainty_s: +- seconds on the offset.
        clock_method: how the offset was found ("trace ids", "request order", "none: ...").
        windows: one row per failed test (``WINDOW_SCHEMA``).
        links: log rows tied to each failed test (``LINK_SCHEMA``).
        fingerprint: the runner's remote IPs and user agents: {"remote_ips": [...], "user_agents": [...]}.
        notes: per test id, why little or nothing could be linked (used for ``unknown`` reasons).
    """

    clock_offset_s: float
    clock_offset_uncertainty_s: float
    clock_method: str
    windows: pl.DataFrame
    links: pl.DataFrame
    fingerprint: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clock_offset_s": self.clock_offset_s,
            "clock_offset_uncertainty_s": self.clock_offset_uncertainty_s,
            "clock_method": self.clock_method,
            "fingerprint": self.fingerprint,
        }


def correlate(tests: pl.DataFrame, logs: pl.DataFrame) -> Correlation:
    """Tie every failed test (outcome failed/error) to the log rows of its own requests."""
    raise NotImplementedError
