"""Time forensics.load_logs, then correlate, on the generated export of bench_load.py.

Usage::

    python bench/bench_correlate.py [--entries 300000] [--runs 3] [--keep PATH]

The export is bench_load.py's (Cloud Run requests, stdout/stderr, load balancer and IAP audit
entries over ~0.0017 s per entry); the run is 100 tests spread over it, one in seven failed with a
WebSocket 403. Prints the median wall and CPU time (all threads) of each stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_load import generate

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # bench_load's first entry
FAILURE = "websockets.exceptions.InvalidStatus: server rejected WebSocket connection: HTTP 403"


def run_frame(entries: int, tests: int = 100):
    """A test frame of ``tests`` tests spread over the export's span, one in seven failed."""
    import polars as pl

    from forensics.schema import TEST_SCHEMA

    span = entries * 0.0017
    rows = []
    for i in range(tests):
        start = START + timedelta(seconds=span * i / tests)
        rows.append(
            {
                "test_id": f"tests/e2e/test_run.py::test_{i}",
                "outcome": "failed" if i % 7 == 0 else "passed",
                "start": start,
                "stop": start + timedelta(seconds=span / (tests * 1.2)),
                "window_uncertainty_s": 0.0,
                "clock": "utc",
                "order": i,
                "message": FAILURE if i % 7 == 0 else None,
            }
        )
    return pl.DataFrame(rows, schema=TEST_SCHEMA)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the generated file here and keep it")
    args = parser.parse_args(argv)

    import forensics

    tests = run_frame(args.entries)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "bench.jsonl"
        if not path.exists():
            generate(path, args.entries)
        times: dict[str, list[tuple[float, float]]] = {"load_logs": [], "correlate": []}
        for _ in range(args.runs):
            c0, t0 = time.process_time(), time.perf_counter()
            frame = forensics.load_logs(path)
            c1, t1 = time.process_time(), time.perf_counter()
            corr = forensics.correlate(tests, frame)
            c2, t2 = time.process_time(), time.perf_counter()
            times["load_logs"].append((t1 - t0, c1 - c0))
            times["correlate"].append((t2 - t1, c2 - c1))
        print(
            f"{args.entries} entries, {path.stat().st_size / 1e6:.0f} MB, median of {args.runs} runs"
        )
        print(f"  {'stage':<12} {'wall s':>8} {'cpu s':>8}")
        for stage, runs in times.items():
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"  {stage:<12} {wall:8.3f} {cpu:8.3f}")
        print(f"  links={corr.links.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
