"""Write every report format into a folder, atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from forensics.result import TriageResult


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` so a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_reports(result: TriageResult, out_dir: str | Path) -> dict[str, Path]:
    """Write triage.txt, triage.json, postmortem.md (and its plots) into ``out_dir``."""
    raise NotImplementedError
