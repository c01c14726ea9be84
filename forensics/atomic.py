"""Files replaced in one step: a crash, a full disk or an interrupt leaves the old file or the new one.

Every file forensics writes for a user (reports, plots, exports, the pull cache) goes through
``atomic_file``: the data goes to a temporary file in the same folder, is flushed to disk, and is
moved over the target with ``os.replace``; on any error the temporary file is removed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def _read_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it and put it back
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@contextmanager
def atomic_file(path: Path, mode: str = "w", *, private: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on a clean exit it replaces ``path``.

    Args:
        path: the file to write; its folder must exist.
        mode: ``"w"`` (UTF-8 text) or ``"wb"``.
        private: keep the file readable by its owner only (0600), for raw log entries that may
            hold secrets. Otherwise the file gets the mode a plain ``open()`` would give, or keeps
            the mode of the file it replaces.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            if not private:  # mkstemp makes 0600 files
                os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_UMASK)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write ``data`` to ``path`` (creating its folder) so a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
