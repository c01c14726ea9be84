"""Time forensics.redact on realistic log lines, on bulk text, and on adversarial input.

Usage::

    /work/venv/bin/python bench/bench_redact.py [--lines 20000] [--runs 5]

Prints the median time per distinct log line (cache cleared, so every line is redacted for real),
the throughput on one bulk text, and the time for inputs built to make regular expressions
backtrack (they must stay linear: milliseconds, not minutes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

from forensics.redact import _redact_cached, redact

JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtcnVubmVyIiwiYXVkIjoibmV0cmEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)
LINES = [
    'INFO:     127.0.0.1:47924 - "WebSocket /ws?token=abc123" 403',
    "jwt.exceptions.InvalidSignatureError: Signature verification failed",
    '{"message": "rejected", "headers": {"x-e2e-bypass-key": "zzz", "user-agent": "python-httpx/0.28.1"}}',
    "GET /api/v1/items?page=2 200 trace=105445aa7843bc8bf206b12000100000",
    "403 GET /ws run.googleapis.com/requests",
    f"debug: rejected credentials Authorization=Bearer {JWT}",
    "E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws - rejecting",
    "Cookie: session=9f8e7d6c5b4a; theme=dark",
    "The request was not authenticated. Either allow unauthenticated invocations or set the proper Authorization header.",
]
ADVERSARIAL = {
    "200 kB word": "k" * 200_000,
    "'key' x 70 000": "key" * 70_000,
    "'\"key\":' x 30 000": '"key":' * 30_000,
    "'token: ' x 30 000": "token: " * 30_000,
    "'Bearer ' x 30 000": "Bearer " * 30_000,
    "BEGIN PRIVATE KEY x 5 000": "-----BEGIN PRIVATE KEY-----" * 5_000,
    "'secret ' x 30 000": "secret " * 30_000,
}


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        _redact_cached.cache_clear()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    rng = random.Random(7)
    distinct = [f"{rng.choice(LINES)} #{i}" for i in range(args.lines)]
    bulk = "\n".join(rng.choice(LINES) for _ in range(args.lines))

    per_line = _median(lambda: [redact(line) for line in distinct], args.runs) / len(distinct)
    print(
        f"distinct log lines: {per_line * 1e6:.1f} us/line (median of {args.runs}, {len(distinct)} lines)"
    )
    bulk_s = _median(lambda: redact(bulk), args.runs)
    print(
        f"bulk text: {len(bulk) / 1e6:.2f} MB in {bulk_s * 1e3:.0f} ms ({len(bulk) / 1e6 / bulk_s:.2f} MB/s)"
    )
    for name, text in ADVERSARIAL.items():
        print(f"adversarial {name}: {_median(lambda t=text: redact(t), 1) * 1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
