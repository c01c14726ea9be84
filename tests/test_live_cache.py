"""The Parquet cache of pulled windows: hits, refresh, keys, atomic writes, unreadable files."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import polars as pl
import pytest

from forensics.emulator import EntryStore, LoggingEmulator
from forensics.emulator.synth import synthetic_entries
from forensics.live import PullCache, Target, default_cache_dir, pull_cached, resolve_target
from forensics.sources import CloudLoggingSource, Query, cache_key
from tests import _live_server

emulator = _live_server.emulator  # the fixture: the module's `server`, reset for each test

PROJECT = "demo-project"
ENTRIES = synthetic_entries(2500, project=PROJECT)
WINDOW = 'timestamp >= "2026-01-15T10:00:00Z" AND timestamp <= "2026-01-15T10:01:00Z"'


@pytest.fixture(scope="module")
def server():
    with LoggingEmulator(EntryStore.from_entries(ENTRIES)) as srv:
        yield srv


def _key(target: Target, filter_text: str) -> str:
    return cache_key(CloudLoggingSource(target), Query(filter_text))


def _pull(emulator: LoggingEmulator, cache: PullCache, filter_text: str = WINDOW, **kw):
    return pull_cached(
        resolve_target(PROJECT, emulator.url), filter_text, cache=cache, progress=False, **kw
    )


def test_second_pull_of_a_window_reads_the_cache(emulator: LoggingEmulator, tmp_path: Path) -> None:
    """A re-run gives the same entries without a single request to the API."""
    cache = PullCache(tmp_path)
    first = _pull(emulator, cache)
    requests = len(emulator.requests_seen)
    second = _pull(emulator, cache)
    assert not first.from_cache and second.from_cache
    assert second.entries == first.entries and len(first.entries) == 1201
    assert len(emulator.requests_seen) == requests
    assert second.stats.pages == first.stats.pages


def test_refresh_pulls_again_and_replaces_the_window(
    emulator: LoggingEmulator, tmp_path: Path
) -> None:
    """--refresh ignores the cached window and stores the new pull."""
    cache = PullCache(tmp_path)
    _pull(emulator, cache)
    requests = len(emulator.requests_seen)
    again = _pull(emulator, cache, refresh=True)
    assert not again.from_cache and len(emulator.requests_seen) > requests
    assert len(list(tmp_path.glob("*.parquet"))) == 1


def test_cache_is_keyed_by_filter_project_and_endpoint(tmp_path: Path) -> None:
    """A different filter, project or endpoint is a different window."""
    a = resolve_target(PROJECT, "127.0.0.1:1")
    keys = {
        _key(a, WINDOW),
        _key(a, WINDOW + " AND severity >= ERROR"),
        _key(resolve_target("other", "127.0.0.1:1"), WINDOW),
        _key(resolve_target(PROJECT, "127.0.0.1:2"), WINDOW),
        _key(resolve_target(PROJECT), WINDOW),
    }
    assert len(keys) == 5
    assert _key(a, WINDOW) == _key(resolve_target(PROJECT, "http://127.0.0.1:1"), WINDOW)


def test_cached_window_is_parquet_with_the_raw_entries(
    emulator: LoggingEmulator, tmp_path: Path
) -> None:
    """The cache file is Parquet holding each entry's JSON, readable by any Parquet reader."""
    pulled = _pull(emulator, PullCache(tmp_path))
    [path] = tmp_path.glob("*.parquet")
    frame = pl.read_parquet(path)
    assert frame.columns == ["entry"] and frame.height == len(pulled.entries)
    assert '"insertId":"e' in frame.item(0, "entry")


def test_failed_write_leaves_no_file_and_keeps_the_old_one(
    emulator: LoggingEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that dies halfway leaves the previous cached window intact and no temporary files."""
    cache = PullCache(tmp_path)
    _pull(emulator, cache)
    [path] = tmp_path.glob("*.parquet")
    before = path.read_bytes()

    def dying_write(self: pl.DataFrame, file: BinaryIO, **kw: object) -> None:
        file.write(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", dying_write)
    pulled = _pull(emulator, cache, refresh=True)  # the pull itself still succeeds
    assert len(pulled.entries) == 1201
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, path.with_suffix(".json").name]
    )


def test_unreadable_cache_file_is_pulled_again(
    emulator: LoggingEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A corrupt cache file is a miss with a note, not a crash, and is replaced by a good one."""
    cache = PullCache(tmp_path)
    _pull(emulator, cache)
    [path] = tmp_path.glob("*.parquet")
    path.write_bytes(b"garbage")
    again = _pull(emulator, cache)
    assert not again.from_cache and len(again.entries) == 1201
    assert "ignoring unreadable cache file" in capsys.readouterr().err
    assert _pull(emulator, cache).from_cache


def test_unsettled_and_truncated_windows_are_not_kept(
    emulator: LoggingEmulator, tmp_path: Path
) -> None:
    """Windows still receiving entries (keep=False) and --max-entries pulls are never cached."""
    cache = PullCache(tmp_path)
    _pull(emulator, cache, keep=False)
    _pull(emulator, cache, max_entries=10)
    assert list(tmp_path.iterdir()) == []


def test_default_cache_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """$FORENSICS_CACHE_DIR wins; otherwise $XDG_CACHE_HOME/forensics."""
    monkeypatch.setenv("FORENSICS_CACHE_DIR", str(tmp_path / "a"))
    assert default_cache_dir() == tmp_path / "a"
    monkeypatch.delenv("FORENSICS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "forensics"


def test_cached_windows_are_readable_by_their_owner_only(
    emulator: LoggingEmulator, tmp_path: Path
) -> None:
    """Cached raw entries may hold secrets: both files of a window are 0600."""
    _pull(emulator, PullCache(tmp_path))
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {0o600}
