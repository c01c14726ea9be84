"""What a BigQuery pull moves, against the dataset and against the Logging API, one run.

    /tmp/venv/bin/python bench/bench_bigquery.py [--entries 200000] [--window-min 10]

Writes a generated day of logs (two services, 50 ms apart each, plus entries triage does not
read) into the local BigQuery API (``forensics.emulator.bigquery``: a date-sharded sink dataset)
and into the local Cloud Logging API, then pulls one run's window (``--window-min`` minutes plus
the 900 s slack of a report's window, ``--service api``) from each through the real clients, and
prints:

- BigQuery: rows returned against rows held, bytes processed (the local server counts every
  table the SQL names whole, as BigQuery bills a shard or a day partition), wall time;
- Cloud Logging: entries and pages pulled, wall time on the local server (no quota), and the
  time its read quota alone would take (60 ``entries.list`` calls a minute, 1000 entries a page).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

from forensics.emulator import EntryStore, LoggingEmulator
from forensics.emulator.bigquery import BigQueryEmulator
from forensics.emulator.synth import synthetic_entries
from forensics.live import Window, pull_window
from forensics.live.bigquery import pull_bigquery

PROJECT = "bench-project"
START = datetime(2026, 1, 15, 0, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200_000, help="entries per service")
    parser.add_argument(
        "--window-min", type=float, default=10.0, help="the run's length in minutes"
    )
    args = parser.parse_args()

    entries = synthetic_entries(args.entries, project=PROJECT, start=START, service="api")
    entries += synthetic_entries(
        args.entries, project=PROJECT, start=START + timedelta(milliseconds=25), service="other"
    )
    middle = START + timedelta(milliseconds=50 * args.entries // 2)
    window = Window(middle, middle + timedelta(minutes=args.window_min), from_tests=True)
    print(
        f"{len(entries):,} entries over {50 * args.entries / 3.6e6:.1f} h; the run: {args.window_min:g} min "
        "+ 900 s slack each side, --service api"
    )

    with BigQueryEmulator() as bq:
        started = time.monotonic()
        bq.load_sink(PROJECT, "logs", entries)
        print(f"  (loaded into DuckDB in {time.monotonic() - started:.1f}s)")
        held = sum(bq.sizes.values())
        started = time.monotonic()
        pulled = pull_bigquery(
            f"{PROJECT}.logs",
            window,
            endpoint=bq.url,
            services=["api"],
            refresh=True,
            progress=False,
        )
        took = time.monotonic() - started
    assert pulled is not None
    print(
        f"BigQuery      {pulled.stats.entries:>9,} rows of {len(entries):,} returned "
        f"({pulled.stats.entries / len(entries):.1%}); {took:6.2f}s; bytes processed: the day's tables, "
        f"{held / 2**20:.1f} MiB"
    )

    with LoggingEmulator(EntryStore.from_entries(entries)) as server:
        started = time.monotonic()
        logged = pull_window(
            PROJECT, window, endpoint=server.url, services=["api"], refresh=True, progress=False
        )
        took = time.monotonic() - started
    quota_s = logged.stats.requests * 60 / 60  # 60 calls a minute, sustained: one a second
    print(
        f"Cloud Logging {logged.stats.entries:>9,} entries in {logged.stats.pages} pages; {took:6.2f}s "
        f"locally; at 60 calls/min the quota alone takes {quota_s:.0f}s"
    )


if __name__ == "__main__":
    main()
