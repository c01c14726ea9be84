"""Time ``forensics.history.compare`` on a history of 1,000 runs x 500 tests.

Usage::

    python bench/bench_history.py [--runs 1000] [--tests 500] [--repeat 5] [--keep DIR]

Writes a history folder the way ``record`` does (one Parquet partition per run): a deploy every
25 runs that breaks 2-4 % of the tests until the next one, each with one of six causes and its
deciding line (ids and numbers varying), five flaky tests, 1 % skipped. Then, ``--repeat`` times in one process, it
reads the folder and summarizes every run (statuses, deploys, signatures) and prints the median
wall and CPU time; the full JSON (every test's outcome in every run) is timed apart.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

import polars as pl

from forensics.explore.templates import mask_one
from forensics.history import compare
from forensics.history.render import render_json
from forensics.history.schema import HISTORY_SCHEMA, SCHEMA_VERSION
from forensics.history.store import write_run

CAUSES = {
    "missing_bypass_header": "WARNING api: E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws (req {n})",
    "invalid_jwt": "WARNING api: JWT validation failed for GET /api/v1/items/{n}: InvalidSignatureError: Signature verification failed",
    "cors_origin": "WARNING api: Rejected WebSocket upgrade: Origin 'https://pr-{n}.preview.dev' not in CORS allowlist",
    "rate_limited": "WARNING api: ratelimit 6 per 10 second (user {n}) exceeded at endpoint: /api/v1/messages",
    "app_error": "ERROR api: Unhandled exception in POST /api/v1/agents/run (KeyError: 'tool-{n}')",
    "unknown": "no request from the runner in the test's window ({n} requests from other clients)",
}


def make_history(folder: Path, runs: int, tests: int, seed: int = 7) -> None:
    """Write ``runs`` partitions of ``tests`` rows each into ``folder``."""
    rng = random.Random(seed)
    test_ids = [f"tests/e2e/test_{i // 25:02d}_suite.py::test_case_{i:04d}" for i in range(tests)]
    flaky = set(rng.sample(test_ids, 5))
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    for r in range(runs):
        started = t0 + timedelta(hours=r)
        revision = f"api-{r // 25:05d}-abc"
        # what a deploy breaks stays broken until the next deploy; flaky tests fail at random
        deploy = random.Random(seed * 1000 + r // 25)
        broken = set(deploy.sample(test_ids, deploy.randint(tests * 2 // 100, tests * 4 // 100)))
        outcomes, causes, lines = [], [], []
        for t in test_ids:
            fails = t in broken or (t in flaky and rng.random() < 0.3)
            if fails:
                cause = random.Random(zlib.crc32(f"{t}@{r // 25}".encode())).choice(list(CAUSES))
                outcomes.append("failed")
                causes.append(cause)
                lines.append(CAUSES[cause].format(n=rng.randint(1, 99999)))
            else:
                outcomes.append("skipped" if rng.random() < 0.01 else "passed")
                causes.append(None)
                lines.append(None)
        frame = pl.DataFrame(
            {
                "test_id": test_ids,
                "outcome": outcomes,
                "root_cause": causes,
                "deciding_line": lines,
                "template": [mask_one(line) if line else None for line in lines],
                "start": [started + timedelta(seconds=i) for i in range(tests)],
                "duration_s": [rng.uniform(0.01, 3.0) for _ in range(tests)],
                "revisions": [[revision]] * tests,
                "services": [["api"]] * tests,
            }
        ).with_columns(
            schema_version=pl.lit(SCHEMA_VERSION, dtype=pl.Int32),
            run_id=pl.lit(f"{started:%Y%m%dT%H%M%S}-{r:08x}"),
            started=pl.lit(started),
            ended=pl.lit(started + timedelta(seconds=tests)),
            commit=pl.lit(f"{r // 5:040x}"),
            branch=pl.lit("main"),
        )
        frame = frame.select(
            (pl.col(n) if n in frame.columns else pl.lit(None)).cast(t).alias(n)
            for n, t in HISTORY_SCHEMA.items()
        )
        write_run(frame, folder)


def _time(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="write (or reuse) the history here instead of a temporary folder",
    )
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-history-"))
    if not any(folder.glob("*.parquet")):
        t = time.perf_counter()
        make_history(folder, args.runs, args.tests)
        print(
            f"wrote {args.runs} runs x {args.tests} tests to {folder} in {time.perf_counter() - t:.1f} s"
        )
    wall, cpu, comparison = _time(lambda: compare(folder, last=None), args.repeat)
    c = comparison  # type: ignore[assignment]
    print(
        f"{len(c.runs)} runs x {args.tests} tests ({c.rows.height} rows), median of {args.repeat}"
    )  # type: ignore[attr-defined]
    print(f"  compare (read + summarize)   wall {wall:.3f} s   cpu {cpu:.3f} s")
    print(f"  statuses {c.counts()}, {len(c.deploys)} deploys, {len(c.signatures)} signatures")  # type: ignore[attr-defined]
    jwall, jcpu, text = _time(lambda: render_json(c), max(1, args.repeat // 2))  # type: ignore[arg-type]
    print(f"  full JSON ({len(text) / 1e6:.0f} MB)       wall {jwall:.3f} s   cpu {jcpu:.3f} s")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
