"""Pulled queries kept as Parquet, keyed by the source (endpoint, project) and the query, so a re-run
costs no quota.

Each pull is ``<key>.parquet`` (one ``entry`` column: each LogEntry's JSON text exactly as the
source gave it, so ``pull --out`` can write the export again) plus ``<key>.json`` (what was pulled,
when, and how). Both are written with ``forensics.atomic`` (owner-only, as they hold raw entries),
so an interrupted write never leaves a half file that a later run would read.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from forensics.atomic import atomic_file
from forensics.sources.protocol import LogSource, Query
from forensics.sources.pulled import Pulled, PullStats

CACHE_ENV = "FORENSICS_CACHE_DIR"
FORMAT_VERSION = 1  # bump when the file layout changes; old files are then simply not found


def default_cache_dir() -> Path:
    """``$FORENSICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/forensics``, else ``~/.cache/forensics``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forensics"


def cache_key(source: LogSource, query: Query) -> str:
    """A stable name for one pulled query of one source.

    Raises:
        ValueError: the source is never cached (its ``cache_identity`` is None).
    """
    if source.cache_identity is None:
        raise ValueError(f"{source.where} is not cached")
    parts: list[object] = [FORMAT_VERSION, *source.cache_identity, query.filter, query.order_by]
    if query.window:  # a query without a window keeps the key it had before windows were named
        parts.append([[lo.isoformat(), hi.isoformat()] for lo, hi in query.window])
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


class PullCache:
    """The cache folder; ``load`` returns None on a miss (or an unreadable file)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def paths(self, key: str) -> tuple[Path, Path]:
        """The Parquet and metadata files of ``key``."""
        return self.root / f"{key}.parquet", self.root / f"{key}.json"

    def load(self, source: LogSource, query: Query) -> Pulled | None:
        """The cached pull, or None."""
        data_path, meta_path = self.paths(cache_key(source, query))
        if not data_path.is_file():
            return None
        try:
            texts = pl.read_parquet(data_path, columns=["entry"]).get_column("entry").to_list()
        except Exception as err:  # any unreadable cache file is a miss, not a failure
            print(
                f"forensics: note: ignoring unreadable cache file {data_path} ({type(err).__name__}); "
                "pulling again",
                file=sys.stderr,
            )
            return None
        stats = PullStats(entries=len(texts))
        try:
            meta = json.loads(meta_path.read_text())
            stats.pages = int(meta.get("stats", {}).get("pages", 0))
        except (OSError, ValueError, AttributeError):
            pass
        return Pulled(origin=source.origin, query=query, texts=texts, stats=stats, from_cache=True)

    def store(self, source: LogSource, pulled: Pulled) -> Path | None:
        """Write ``pulled`` atomically; returns the Parquet path (None when the folder is not writable,
        with a note: the pulled logs are not lost for it)."""
        try:
            return self._write(source, pulled)
        except OSError as err:
            print(
                f"forensics: note: could not write the cache under {self.root} ({err.strerror}); "
                "continuing without it",
                file=sys.stderr,
            )
            return None

    def _write(self, source: LogSource, pulled: Pulled) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        data_path, meta_path = self.paths(cache_key(source, pulled.query))
        with atomic_file(data_path, "wb", private=True) as f:
            pl.DataFrame({"entry": pulled.texts}, schema={"entry": pl.String}).write_parquet(f)
        meta = {
            "source": list(source.cache_identity or ()),
            "where": source.where,
            "filter": pulled.query.filter,
            "window": [[lo.isoformat(), hi.isoformat()] for lo, hi in pulled.query.window],
            "order_by": pulled.query.order_by,
            "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stats": asdict(pulled.stats),
        }
        with atomic_file(meta_path, private=True) as f:
            f.write(json.dumps(meta, indent=2))
        return data_path
