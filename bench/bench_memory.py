"""Peak memory of reading untrusted exports: two gzip bombs and a large valid export.

Usage::

    /work/venv/bin/python bench/bench_memory.py [--expand-mb 2048] [--entries 2000000] [--dir DIR]
        [--only NAME] [--checkout DIR]

Writes, under ``--dir`` (a temporary folder unless given; never commit the files):

- ``bomb-entries.jsonl.gz``: copies of one valid LogEntry, expanding to ``--expand-mb``;
- ``bomb-spaces.json.gz``: ``[``, spaces, ``]``, expanding to ``--expand-mb``;
- ``valid.jsonl``: ``--entries`` realistic entries (``bench_load.generate``), and ``valid.jsonl.gz``.

Then reads each with ``forensics.read_logs`` in a fresh child process (of this checkout, or of
``--checkout DIR`` to compare two) and prints its wall and CPU time, its peak resident memory
(the child's own ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, what ``/usr/bin/time -v`` calls
"Maximum resident set size"), the size of the frame it built (``DataFrame.estimated_size``) and
how it ended (rows, or the one-line refusal).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_load, for its generator

ROOT = Path(__file__).resolve().parents[1]
MB = 1 << 20
ENTRY = {
    "insertId": "0001",
    "logName": "projects/shop-prod-4821/logs/run.googleapis.com%2Fstdout",
    "timestamp": "2026-11-20T09:00:00.123456Z",
    "resource": {"type": "cloud_run_revision", "labels": {"service_name": "checkout"}},
    "severity": "INFO",
    "textPayload": "order placed",
}
#: What the child runs: read the file, report rows and frame size, or the error's one line.
CHILD = """
import json, resource, sys, time
from forensics import ForensicsError, read_logs
t0 = time.perf_counter()
try:
    frame = read_logs(sys.argv[1]).frame
    out = {"rows": frame.height, "frame_mb": frame.estimated_size() / 2**20}
except ForensicsError as err:
    out = {"error": str(err)}
out["seconds"] = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = usage.ru_utime + usage.ru_stime
out["rss_mb"] = usage.ru_maxrss / 1024
print(json.dumps(out))
"""


def write_gzip(path: Path, head: bytes, block: bytes, total: int, tail: bytes) -> Path:
    """``head``, then ``block`` repeated up to ``total`` bytes, then ``tail``, gzip-compressed."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with path.open("wb") as out:
        out.write(packer.compress(head))
        for _ in range(total // len(block)):
            out.write(packer.compress(block))
        out.write(packer.compress(tail))
        out.write(packer.flush())
    return path


def make_inputs(folder: Path, expand_mb: int, entries: int) -> list[Path]:
    """The four inputs, each written only if it is not there yet."""
    line = (json.dumps(ENTRY, separators=(",", ":")) + "\n").encode()
    made = []
    bomb = folder / "bomb-entries.jsonl.gz"
    if not bomb.exists():
        write_gzip(bomb, b"", line * (MB // len(line)), expand_mb * MB, b"")
    made.append(bomb)
    spaces = folder / "bomb-spaces.json.gz"
    if not spaces.exists():
        write_gzip(spaces, b"[", b" " * MB, expand_mb * MB, b"]\n")
    made.append(spaces)
    valid = folder / "valid.jsonl"
    if not valid.exists():
        from bench_load import generate

        generate(valid, entries)
    made.append(valid)
    packed = folder / "valid.jsonl.gz"
    if not packed.exists():
        packer = zlib.compressobj(1, zlib.DEFLATED, 31)
        with valid.open("rb") as src, packed.open("wb") as out:
            while chunk := src.read(16 * MB):
                out.write(packer.compress(chunk))
            out.write(packer.flush())
    made.append(packed)
    return made


def measure(path: Path, checkout: Path = ROOT) -> dict:
    """Read ``path`` in a child process; its outcome, wall and CPU time and peak RSS in MiB."""
    env = {"PYTHONPATH": str(checkout), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
    )
    if done.returncode:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--expand-mb", type=int, default=2048, help="size each bomb expands to")
    parser.add_argument("--entries", type=int, default=2_000_000, help="entries of valid.jsonl")
    parser.add_argument("--dir", type=Path, help="write (and reuse) the inputs here")
    parser.add_argument("--only", help="measure only inputs whose name contains this")
    parser.add_argument(
        "--checkout",
        type=Path,
        default=ROOT,
        help="the forensics checkout to measure (before/after)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        inputs = make_inputs(folder, args.expand_mb, args.entries)
        print(
            f"{'input':<22} {'on disk':>9} {'wall s':>7} {'cpu s':>7} {'peak RSS':>10} {'frame':>9}"
            "  outcome"
        )
        for path in inputs:
            if args.only and args.only not in path.name:
                continue
            out = measure(path, args.checkout)
            rss = f"{out['rss_mb']:.0f} MiB" if "rss_mb" in out else "-"
            frame = f"{out['frame_mb']:.0f} MiB" if "frame_mb" in out else "-"
            ended = f"rows={out['rows']}" if "rows" in out else out["error"]
            size = f"{path.stat().st_size / MB:.1f} MiB"
            print(
                f"{path.name:<22} {size:>9} {out.get('seconds', 0):7.1f} {out.get('cpu_s', 0):7.1f}"
                f" {rss:>10} {frame:>9}  {ended}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
