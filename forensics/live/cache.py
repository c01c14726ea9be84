"""Pulled windows kept as Parquet, keyed by endpoint, project and filter, so a re-run costs no quota.

Each window is ``<key>.parquet`` (one ``entry`` column: each LogEntry's JSON text exactly as the
API returned it, so ``pull --out`` can write the export again) plus ``<key>.json`` (what was pulled,
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
from typing import Any

import polars as pl

from forensics.atomic import atomic_file
from forensics.live.connect import Target
from forensics.live.pull import Pulled, PullStats, pull_entries

CACHE_ENV = "FORENSICS_CACHE_DIR"
FORMAT_VERSION = 1  # bump when the file layout changes; old files are then simply not found


def default_cache_dir() -> Path:
    """``$FORENSICS_CACHE_DIR``, else ``$XDG_CACHE_HOME/forensics``, else ``~/.cache/forensics``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "forensics"


def cache_key(target: Target, filter_text: str, order_by: str = "timestamp asc") -> str:
    """A stable name for one pulled window."""
    ident = json.dumps([FORMAT_VERSION, target.endpoint or "google", target.project, filter_text, order_by])
    return hashlib.sha256(ident.encode()).hexdigest()[:32]


class PullCache:
    """The cache folder; ``load`` returns None on a miss (or an unreadable file)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()

    def paths(self, key: str) -> tuple[Path, Path]:
        """The Parquet and metadata files of ``key``."""
        return self.root / f"{key}.parquet", self.root / f"{key}.json"

    def load(self, target: Target, filter_text: str, order_by: str = "timestamp asc") -> Pulled | None:
        """The cached window, or None."""
        data_path, meta_path = self.paths(cache_key(target, filter_text, order_by))
        if not data_path.is_file():
            return None
        try:
            texts = pl.read_parquet(data_path, columns=["entry"]).get_column("entry").to_list()
        except Exception as err:  # any unreadable cache file is a miss, not a failure
            print(f"forensics: note: ignoring unreadable cache file {data_path} ({type(err).__name__}); "
                  "pulling again", file=sys.stderr)
            return None
        stats = PullStats(entries=len(texts))
        try:
            meta = json.loads(meta_path.read_text())
            stats.pages = int(meta.get("stats", {}).get("pages", 0))
        except (OSError, ValueError, AttributeError):
            pass
        return Pulled(target=target, filter=filter_text, texts=texts, stats=stats, from_cache=True)

    def store(self, pulled: Pulled, order_by: str = "timestamp asc") -> Path:
        """Write ``pulled`` atomically; returns the Parquet path."""
        self.root.mkdir(parents=True, exist_ok=True)
        data_path, meta_path = self.paths(cache_key(pulled.target, pulled.filter, order_by))
        with atomic_file(data_path, "wb", private=True) as f:
            pl.DataFrame({"entry": pulled.texts}, schema={"entry": pl.String}).write_parquet(f)
        meta = {
            "project": pulled.target.project,
            "endpoint": pulled.target.endpoint,
            "filter": pulled.filter,
            "order_by": order_by,
            "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "stats": asdict(pulled.stats),
        }
        with atomic_file(meta_path, private=True) as f:
            f.write(json.dumps(meta, indent=2))
        return data_path


def pull_cached(
    target: Target,
    filter_text: str,
    *,
    cache: PullCache | None = None,
    refresh: bool = False,
    keep: bool = True,
    **pull_options: Any,
) -> Pulled:
    """Read the window from the cache, or pull it (and keep it unless ``keep`` is false).

    Args:
        target: project and endpoint.
        filter_text: the filter; with the endpoint and project, it is the cache key.
        cache: the cache folder (default ``default_cache_dir()``).
        refresh: pull even when the window is cached, and replace it.
        keep: store the pulled window (false for windows still receiving entries).
        pull_options: passed to ``pull_entries``.
    """
    cache = cache or PullCache()
    order_by = pull_options.get("order_by", "timestamp asc")
    if not refresh:
        hit = cache.load(target, filter_text, order_by)
        if hit is not None:
            return hit
    pulled = pull_entries(target, filter_text, **pull_options)
    if keep and not pulled.stats.truncated:
        try:
            cache.store(pulled, order_by)
        except OSError as err:  # a read-only or full cache folder must not lose the pulled logs
            print(f"forensics: note: could not write the cache under {cache.root} ({err.strerror}); "
                  "continuing without it", file=sys.stderr)
    return pulled
