"""Accuracy of triage on every incident corpus replayed inside busy background traffic.

Usage::

    PYTHONPATH=. python bench/bench_busy.py [--rates 0 2 5 30 150 300] [--only SUBSTRING] [--wrong]
        [--variant busy|app_lines|warnings|limit]

Every incident (``tests/data/*/*/`` and ``fixtures/*/``) is triaged on its own export plus the
seeded background of ``tests/busy_traffic.py`` at each rate (entries per second over the export's
window: browsers, crawlers, scanners, monitors, scripts, other services, a second project), and
with ``--variant`` the export is cut as users cut theirs (the app's lines only, ``severity>=WARNING``,
the newest 1000 entries), and the verdicts are scored against ``expected.json``: right, wrong label (neither the truth nor
``unknown``), unknown. Prints a markdown table and, with ``--wrong``, every wrong verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

from forensics import triage
from tests.busy_replay import Score, incidents, shipped_rules, table, verdicts
from tests.busy_traffic import RATES, VARIANTS, Export, Traffic


def time_triage(minutes: float, rate: float) -> None:
    """Triage the seed run inside ``minutes`` of background at ``rate``: load, correlate, classify."""
    seed = Path(__file__).resolve().parents[1] / "fixtures" / "seed"
    traffic = Traffic(Export.read(seed / "logs"), rate, "timing", pad_s=minutes * 30)
    entries = traffic.entries()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "busy.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in entries))
        shipped_rules()
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            result = triage([seed / "junit.xml"], [seed / "logs", path], rules=shipped_rules())
            runs.append(time.perf_counter() - started)
    right = sum(v.root_cause == "missing_bypass_header" for v in result.verdicts)
    print(
        f"seed + {len(entries)} background entries ({minutes:g} min at {rate:g}/s): "
        f"triage {min(runs):.2f} s (best of 3; {', '.join(f'{r:.2f}' for r in runs)}), "
        f"{right}/{len(result.verdicts)} verdicts right"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[0, *RATES])
    parser.add_argument("--only", default="", help="incidents whose name contains this")
    parser.add_argument(
        "--time",
        type=float,
        metavar="MINUTES",
        help="instead: time triage of the seed inside MINUTES of background at the first rate",
    )
    parser.add_argument("--wrong", action="store_true", help="list every wrong and lost verdict")
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="busy",
        help="how the export is cut: as is, app lines only, severity>=WARNING, newest 1000",
    )
    args = parser.parse_args()
    if args.time:
        time_triage(args.time, args.rates[0] or 300)
        return
    cases = [c for c in incidents() if args.only in c.name]
    quiet: dict[str, dict[str, str]] = {}
    scores: dict[float, Score] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rate in args.rates:
            started = time.perf_counter()
            score = Score(rate)
            for case in cases:
                got = verdicts(case, rate, Path(tmp), args.variant)
                score.add(case, got)
                if rate == 0:
                    quiet[case.name] = got
                elif case.name in quiet:
                    for test_id, label in quiet[case.name].items():
                        if label == case.failures.get(test_id) and got.get(test_id) != label:
                            score.lost.append(
                                f"{case.name}::{test_id.split('::')[-1]}: {label} -> {got.get(test_id)}"
                            )
            scores[rate] = score
            print(
                f"rate {rate:g}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True
            )
            if args.wrong:
                for line in score.wrong:
                    print(f"  WRONG {line}", file=sys.stderr)
                for line in score.lost:
                    print(f"  lost  {line}", file=sys.stderr)
    print(f"{len(cases)} incidents, {sum(len(c.failures) for c in cases)} failed tests")
    print(table(scores))


if __name__ == "__main__":
    main()
