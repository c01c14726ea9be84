"""Pulled entries per second: forensics' pull vs ``Client.list_entries`` + ``to_api_repr``, one run.

    /work/venv/bin/python bench/bench_pull.py [--entries 100000] [--runs 5]

Starts the local Cloud Logging API server (``python -m forensics.emulator``, its own process, so
it does not share this one's GIL) on a generated export, then, against that same server and with
the same filter and page size (1000), times alternately:

- ``forensics``: ``pull_entries`` (pages through the client's HTTP connection, split into entry
  texts) and ``Pulled.to_frame()`` (the typed log frame triage uses);
- ``forensics (pages only)``: the same pull without building the frame;
- ``baseline``: ``Client.list_entries(...)`` then ``entry.to_api_repr()`` for every entry.

Prints the median of ``--runs`` runs of each and the speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

from forensics.emulator.synth import synthetic_entries, write_export
from forensics.live import make_client, pull_entries, resolve_target

PROJECT = "bench-project"
FILTER = 'timestamp >= "2026-01-01T00:00:00Z" AND timestamp <= "2026-12-31T00:00:00Z"'


def run_forensics(target, frame: bool) -> int:  # type: ignore[no-untyped-def]
    pulled = pull_entries(target, FILTER, progress=False)
    return pulled.to_frame().height if frame else len(pulled.texts)


def run_baseline(target) -> int:  # type: ignore[no-untyped-def]
    client = make_client(target)
    return len([e.to_api_repr() for e in client.list_entries(
        resource_names=[f"projects/{PROJECT}"], filter_=FILTER, page_size=1000)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    contenders = {
        "forensics pull -> log frame": lambda t: run_forensics(t, frame=True),
        "forensics pull (pages only)": lambda t: run_forensics(t, frame=False),
        "list_entries + to_api_repr": run_baseline,
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with tempfile.TemporaryDirectory() as tmp:
        export = write_export(synthetic_entries(args.entries, project=PROJECT, step_ms=5), Path(tmp) / "x.jsonl")
        server = subprocess.Popen([sys.executable, "-m", "forensics.emulator", "--logs", str(export), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
        try:
            url = server.stdout.readline().rsplit(" ", 1)[1].strip()  # type: ignore[union-attr]
            target = resolve_target(PROJECT, url)
            run_forensics(target, frame=False)  # warm the server's query cache: every contender then pays the same
            for _ in range(args.runs):
                for name, fn in contenders.items():  # interleaved, so drift hits every contender alike
                    started = time.perf_counter()
                    count = fn(target)
                    times[name].append(time.perf_counter() - started)
                    if count != args.entries:
                        print(f"{name}: got {count} entries, expected {args.entries}", file=sys.stderr)
                        return 1
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{args.entries:,} entries, {args.runs} runs each, page size 1000, local server at 127.0.0.1, "
          f"Python {sys.version.split()[0]}")
    base = statistics.median(times["list_entries + to_api_repr"])
    for name, runs in times.items():
        med = statistics.median(runs)
        print(f"  {name:30} median {med:6.2f} s  {args.entries / med:>9,.0f} entries/s  "
              f"({base / med:.2f}x baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
