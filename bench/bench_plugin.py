"""What the pytest plugin costs a session: per test, and once per session.

Usage::

    python bench/bench_plugin.py [--tests 500,4000] [--runs 5] [--hook-only]

1. The recording hook itself: a real session's ``TestReport`` objects (passing tests, and failing
   tests with a traceback and captured output) are handed to the plugin's recorder again and again
   in that session, and written out as the report log it triages from; CPU time per test (three
   phases) is the median of ``--runs``.
2. Whole sessions: a module of trivial passing tests runs in fresh pytest processes three ways:
   without the plugin (``-p no:pytest_forensics``), installed but unused (``-p pytest_forensics``),
   and on (``--forensics --forensics-logs=EXPORT``; no failure, so no triage). Each way runs
   ``--runs`` times at two sizes; the median wall and CPU time of the pytest process are printed.
   The cost per test is the slope between the sizes, the cost per session what is left at zero
   tests (``import forensics`` when the plugin is on). On a busy machine these differences are
   within the noise; the hook's own time (1.) is the steady figure.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, not installed

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "fixtures" / "seed" / "logs"
BASE = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-o", "addopts="]
WAYS = {
    "without the plugin": ["-p", "no:pytest_forensics"],
    "installed, unused": ["-p", "pytest_forensics"],
    "--forensics": ["-p", "pytest_forensics", "--forensics", f"--forensics-logs={EXPORT}"],
}


def _suite(folder: Path, n: int) -> Path:
    path = folder / f"test_many_{n}.py"
    path.write_text("".join(f"def test_{i}():\n    assert {i} == {i}\n\n" for i in range(n)))
    return path


def _run_once(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one pytest process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *BASE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            f"pytest failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


MIXED = """
import pytest

@pytest.mark.parametrize("i", range(300))
def test_passes(i):
    assert i >= 0

@pytest.mark.parametrize("i", range(30))
def test_fails(i):
    print(f"request trace_id=4bf92f3577b34da6a3ce929d0e0e{i:04d}")
    assert {"status": 403, "i": i} == {"status": 200, "i": i}
"""


class _HookBench:
    """Inside a real session: time the recorder on that session's own reports."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.reports: list = []
        self.lines: list[str] = []

    def pytest_runtest_logreport(self, report) -> None:  # type: ignore[no-untyped-def]
        self.reports.append(report)

    def pytest_sessionfinish(self, session) -> None:  # type: ignore[no-untyped-def]
        from forensics.plugin.record import RunRecorder

        for kind in ("passes", "fails"):
            reports = [r for r in self.reports if f"test_{kind}[" in r.nodeid]
            tests = len(reports) // 3
            add, write = [], []
            for _ in range(self.runs):
                recorder = RunRecorder(session.config)
                start = time.process_time()
                for report in reports:
                    recorder.add(report)
                add.append(time.process_time() - start)
                with tempfile.TemporaryDirectory() as tmp:
                    start = time.process_time()
                    recorder.write(Path(tmp) / "report.jsonl")
                    write.append(time.process_time() - start)
            per_add, per_write = statistics.median(add) / tests, statistics.median(write) / tests
            line = (
                f"  {kind:7} tests: {per_add * 1e6:7.1f} us recording + {per_write * 1e6:7.1f} us "
                f"writing = {(per_add + per_write) * 1e6:7.1f} us CPU per test ({tests} tests)"
            )
            reportlog = _reportlog_time(session.config, reports, self.runs)
            if reportlog is not None:
                line += f"; pytest-reportlog: {reportlog / tests * 1e6:7.1f} us"
            self.lines.append(line)


def _reportlog_time(config, reports: list, runs: int) -> float | None:  # type: ignore[no-untyped-def]
    """pytest-reportlog's median CPU time for the same reports (it writes each line as it comes)."""
    try:
        from pytest_reportlog.plugin import ReportLogPlugin
    except ImportError:
        return None
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            plugin = ReportLogPlugin(config, Path(tmp) / "reportlog.jsonl")
            start = time.process_time()
            for report in reports:
                plugin.pytest_runtest_logreport(report)
            plugin.close()
            times.append(time.process_time() - start)
    return statistics.median(times)


def bench_hook(runs: int) -> None:
    """Print the recorder's CPU time per test, from a real session's reports."""
    import pytest

    bench = _HookBench(runs)
    with (
        tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        (Path(tmp) / "test_mixed.py").write_text(MIXED)
        pytest.main(
            [
                *BASE,
                "-p",
                "no:pytest_forensics",
                "--rootdir",
                tmp,
                str(Path(tmp) / "test_mixed.py"),
            ],
            plugins=[bench],
        )
    print(f"the recording hook (3 phases per test), CPU time, median of {runs} runs")
    print("\n".join(bench.lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tests", default="500,4000", help="two suite sizes, comma-separated (default 500,4000)"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="runs of each way at each size (default 5)"
    )
    parser.add_argument("--hook-only", action="store_true", help="time the recording hook only")
    args = parser.parse_args(argv)
    bench_hook(args.runs)
    if args.hook_only:
        return 0
    small, large = sorted(int(n) for n in args.tests.split(","))
    times: dict[tuple[str, int], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-plugin-") as tmp:
        folder = Path(tmp)
        suites = {n: _suite(folder, n) for n in (small, large)}
        for _ in range(
            args.runs
        ):  # interleaved, so a busy moment of the machine hits every way alike
            for n, suite in suites.items():
                for way, extra in WAYS.items():
                    times.setdefault((way, n), []).append(_run_once([*extra, suite.name], folder))
    table = {
        k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
        for k, v in times.items()
    }
    print(
        f"\nwhole pytest sessions of {small} and {large} passing tests, median of {args.runs} runs"
    )
    print(f"  {'way':22} {'tests':>6} {'wall s':>8} {'cpu s':>8}")
    for (way, n), (wall, cpu) in sorted(
        table.items(), key=lambda kv: (kv[0][1], list(WAYS).index(kv[0][0]))
    ):
        print(f"  {way:22} {n:6d} {wall:8.3f} {cpu:8.3f}")
    base = "without the plugin"
    for way in list(WAYS)[1:]:
        for i, label in ((0, "wall"), (1, "cpu")):
            extra_small = table[way, small][i] - table[base, small][i]
            extra_large = table[way, large][i] - table[base, large][i]
            per_test = (extra_large - extra_small) / (large - small)
            per_session = extra_small - per_test * small
            print(
                f"  {way:22} {label}: {per_test * 1e6:+8.1f} us per test, {per_session:+.3f} s per session"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
