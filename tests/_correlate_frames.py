"""Builders of small log and test frames for the correlation tests (times in seconds after T0)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from forensics.correlate import Correlation
from forensics.correlate.clock.offset import ClockEstimate
from forensics.correlate.clock.windows import clock_kind, google_times
from forensics.correlate.link import WINDOW_SCHEMA, empty_links
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA

T0 = datetime(2026, 11, 24, 8, 10, 0, tzinfo=UTC)
RUNNER_IP = "34.118.10.20"
RUNNER_UA = "Python/3.11 websockets/15.0.1"
BROWSER_IP = "203.0.113.77"
BROWSER_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/141.0 Safari/537.36"
)
SERVICE = "chat-backend"
INSTANCE = "00f46b9285fdad63aa1a"


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def request(t: float, status: int = 200, path: str = "/api/health", **kw: Any) -> dict[str, Any]:
    """A Cloud Run request-log entry received at T0 + t."""
    row = {
        "timestamp": at(t),
        "log_id": "run.googleapis.com/requests",
        "resource_type": "cloud_run_revision",
        "service": SERVICE,
        "instance_id": INSTANCE,
        "http_method": "GET",
        "http_path": path,
        "http_url": f"https://{SERVICE}-abc.a.run.app{path}",
        "http_status": status,
        "http_latency_s": 0.004,
        "http_remote_ip": RUNNER_IP,
        "http_user_agent": RUNNER_UA,
        "severity": "WARNING" if status >= 400 else "INFO",
    }
    row.update(kw)
    return row


def app(t: float, message: str, **kw: Any) -> dict[str, Any]:
    """An app stderr line of the service at T0 + t."""
    row = {
        "timestamp": at(t),
        "log_id": "run.googleapis.com/stderr",
        "resource_type": "cloud_run_revision",
        "service": SERVICE,
        "instance_id": INSTANCE,
        "message": message,
        "payload_kind": "text",
        "severity": "DEFAULT",
    }
    row.update(kw)
    return row


def log_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A LOG_SCHEMA frame (plus ``row``) from partial dicts; missing fields are null."""
    full = []
    for i, r in enumerate(rows):
        d = {k: r.get(k) for k in LOG_SCHEMA}
        d["insert_id"] = d["insert_id"] or f"id{i:06d}"
        d["receive_timestamp"] = d["receive_timestamp"] or d["timestamp"]
        full.append(d)
    frame = pl.DataFrame(full, schema=LOG_SCHEMA, orient="row")
    return frame.with_row_index("row")


def case(
    test_id: str, outcome: str, start: float | None, stop: float | None, order: int, **kw: Any
) -> dict[str, Any]:
    """One test case; ``start``/``stop`` are seconds after T0 on the runner's clock."""
    row = {
        "test_id": test_id,
        "outcome": outcome,
        "start": at(start) if start is not None else None,
        "stop": at(stop) if stop is not None else None,
        "duration_s": (stop - start) if start is not None and stop is not None else 0.5,
        "window_uncertainty_s": 0.0,
        "clock": "utc" if start is not None else "none",
        "order": order,
        "message": None,
        "source_file": "report.jsonl",
        "source_format": "reportlog",
    }
    row.update(kw)
    return row


def make_tests(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """A TEST_SCHEMA frame from ``case`` dicts."""
    return pl.DataFrame(
        [{k: r.get(k) for k in TEST_SCHEMA} for r in rows], schema=TEST_SCHEMA, orient="row"
    )


def given_clock(
    tests: pl.DataFrame, offset_s: float, uncertainty_s: float, method: str, **fields: Any
) -> Correlation:
    """A correlation that links nothing and puts ``tests`` on Google's clock at a known offset.

    What a hand-built result carries so its reports place test times as a triage's would.
    Columns the frame lacks are null; a timed test without a ``clock`` is taken as zone-aware.
    """
    full = tests.with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in TEST_SCHEMA.items()
        if name not in tests.columns
    ).with_columns(pl.col("clock").fill_null("utc"))
    est = ClockEstimate(offset_s, uncertainty_s, method)
    return Correlation(
        clock_offset_s=offset_s,
        clock_offset_uncertainty_s=uncertainty_s,
        clock_method=method,
        windows=pl.DataFrame(schema=WINDOW_SCHEMA),
        links=empty_links(),
        test_times=google_times(
            full.with_columns(kind=clock_kind(full)), {"utc": est, "naive": est}
        ),
        **fields,
    )


def linked_rows(c: Correlation, test_id: str, role: str | None = None) -> set[int]:
    """The log rows linked to ``test_id`` (only those of ``role`` when given)."""
    links = c.links.filter(pl.col("test_id") == test_id)
    if role:
        links = links.filter(pl.col("role") == role)
    return set(links.get_column("row").to_list())


def row_of(logs: pl.DataFrame, **match: object) -> int:
    """The ``row`` of the one log row whose columns equal ``match``."""
    expr = pl.lit(True)
    for k, v in match.items():
        expr = expr & (pl.col(k) == v)
    return int(logs.filter(expr).get_column("row").item())


WS_403 = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"


def run_scenario(
    n_tests: int = 30,
    skew_s: float = 0.0,
    failing: tuple[int, ...] = (7, 19),
    seed: int = 1,
    noise: bool = True,
    gap: tuple[float, float] = (0.3, 4.0),
) -> tuple[list[dict], list[dict]]:
    """A sequential run: each test makes 1-3 requests; failing tests get a 403 on /ws plus an app line.

    Test times are on the runner clock (Google time minus ``skew_s``); gaps between tests vary.
    Returns (test rows, log rows).
    """
    rnd = random.Random(seed)
    tests, logs = [], []
    t = 5.0
    for i in range(n_tests):
        dur = rnd.uniform(0.4, 2.5)
        fail = i in failing
        tests.append(
            case(
                f"tests/e2e/test_ws.py::test_{i:02d}",
                "failed" if fail else "passed",
                t - skew_s,
                t + dur - skew_s,
                i,
                message=f"{WS_403}\nwss://{SERVICE}-abc.a.run.app/ws" if fail else None,
            )
        )
        for k in range(rnd.randint(1, 3)):
            rt = t + 0.05 + k * dur / 3.5
            if fail and k == 0:
                logs.append(request(rt, 403, "/ws"))
                logs.append(
                    app(
                        rt + 0.002, f"WARNING auth: rejecting websocket for test {i}: token missing"
                    )
                )
            else:
                logs.append(request(rt, 200, f"/api/items/{i}"))
        t += dur + rnd.uniform(*gap)
    if noise:
        for k in range(int(t // 10)):  # health checks every 10 s, never the runner
            logs.append(
                request(
                    k * 10.0 + 1.3,
                    200,
                    "/healthz",
                    http_remote_ip="35.191.0.1",
                    http_user_agent="GoogleHC/1.0",
                )
            )
    return tests, logs


def with_background(logs: pl.DataFrame, total: int, seed: int = 0) -> pl.DataFrame:
    """Pad a log frame to ``total`` rows with a busy browser (200s on /) and app chatter, built vectorized."""
    import numpy as np

    base = logs.drop("row")
    n = total - base.height
    lo = base.get_column("timestamp").min().timestamp()  # type: ignore[union-attr]
    hi = base.get_column("timestamp").max().timestamp()  # type: ignore[union-attr]
    rng = np.random.default_rng(seed)
    t_ns = (np.sort(rng.uniform(lo, hi, n)) * 1e9).astype(np.int64)
    is_req = pl.Series(rng.integers(0, 3, n) == 0)
    when_req = pl.when(is_req)
    bg = pl.DataFrame({"timestamp": pl.Series(t_ns).cast(pl.Datetime("ns", "UTC"))}).with_columns(
        log_id=when_req.then(pl.lit("run.googleapis.com/requests")).otherwise(
            pl.lit("run.googleapis.com/stdout")
        ),
        resource_type=pl.lit("cloud_run_revision"),
        service=pl.lit(SERVICE),
        instance_id=pl.lit(INSTANCE),
        http_status=when_req.then(pl.lit(200, pl.Int32)),
        http_path=when_req.then(pl.lit("/")),
        http_remote_ip=when_req.then(pl.lit(BROWSER_IP)),
        http_user_agent=when_req.then(pl.lit(BROWSER_UA)),
        message=pl.when(~is_req).then(pl.lit("GET / 200 served")),
    )
    frame = pl.concat([base, bg], how="diagonal_relaxed").select(LOG_SCHEMA.keys()).cast(LOG_SCHEMA)  # type: ignore[arg-type]
    return frame.sort("timestamp").with_row_index("row")
