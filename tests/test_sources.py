"""The log-source protocol: any source under the one retry/cache layer, and sources that agree.

The in-memory source stands in for a remote one (it fails chosen requests), so the retries and the
cache are checked without a server; the file and Cloud Logging sources must answer a query as
``read_logs`` and the local Cloud Logging server do.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import forensics
from forensics.emulator import EntryStore, LoggingEmulator, load_export
from forensics.emulator.synth import synthetic_entries
from forensics.exceptions import PermissionDeniedError, PullError, QuotaError
from forensics.live import build_filter, resolve_target, time_ranges, window_from_tests
from forensics.logs import read_logs
from forensics.sources import (
    CloudLoggingSource,
    FileSource,
    LogSource,
    MemorySource,
    Page,
    PullCache,
    Query,
    Retryable,
    RetryPolicy,
    cache_key,
    pull,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ENTRIES = synthetic_entries(2500, project="demo-project")  # 10:00:00 to 10:02:05, 50 ms apart
IDS = [e["insertId"] for e in ENTRIES]


class Sleeps(list):
    """Records waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _ids(texts: list[str]) -> list[str]:
    return [json.loads(t)["insertId"] for t in texts]


def _quota(wait: float | None = 7.0) -> Retryable:
    return Retryable(
        "quota", 429, wait, "too many requests", quota="Memory read quota", quota_rate="3 a minute"
    )


def test_429_of_any_source_waits_and_asks_for_the_same_token_again() -> None:
    """A source's 429 is waited out as the source asked, then the same page is asked for: nothing lost."""
    source = MemorySource(ENTRIES, page_size=1000, failures={1: _quota(7.0)})
    sleeps = Sleeps()
    pulled = pull(source, Query(), sleep=sleeps, progress=False)
    assert _ids(pulled.texts) == IDS
    assert sleeps == [7.0] and pulled.stats.retries == {"429": 1}
    assert source.requests == [None, "1000", "1000", "2000"]
    assert pulled.stats.pages == 3 and pulled.stats.requests == 4


def test_quota_that_stays_exhausted_is_named_by_the_source() -> None:
    """After the allowed retries the QuotaError names the source's quota, on one line."""
    source = MemorySource(ENTRIES, failures={n: _quota(None) for n in range(10)})
    sleeps = Sleeps()
    with pytest.raises(QuotaError) as err:
        pull(
            source,
            Query(),
            sleep=sleeps,
            progress=False,
            policy=RetryPolicy(quota_retries=2, backoff_s=1),
        )
    assert sleeps == [1, 2]  # no Retry-After: the policy's backoff, doubling
    assert str(err.value) == (
        "Memory read quota stayed exhausted after 3 tries (3 a minute); "
        "wait a minute and re-run, or narrow --since/--until"
    )


def test_server_failures_are_retried_a_bounded_number_of_times() -> None:
    """5xx are retried with backoff up to the bound; one more ends the pull naming the source."""
    flaky = MemorySource(
        ENTRIES, failures={n: Retryable("server", 503, None, "unavailable") for n in (0, 1)}
    )
    sleeps = Sleeps()
    assert _ids(pull(flaky, Query(), sleep=sleeps, progress=False).texts) == IDS
    assert sleeps == [2.0, 4.0]
    down = MemorySource(
        ENTRIES,
        name="archive",
        failures={n: Retryable("server", 503, None, "unavailable") for n in range(5)},
    )
    with pytest.raises(
        PullError, match=r"^archive failed 4 times in a row \(503: unavailable\); try again later$"
    ):
        pull(down, Query(), sleep=Sleeps(), progress=False, policy=RetryPolicy(server_retries=3))
    assert len(down.requests) == 4


def test_other_failures_end_the_pull_as_the_source_raised_them() -> None:
    """A failure that is not Retryable is not retried: the source's own one-line error reaches the user."""
    denied = PermissionDeniedError("permission denied reading the archive: ask for the viewer role")
    source = MemorySource(ENTRIES, failures={1: denied})
    with pytest.raises(PermissionDeniedError) as err:
        pull(source, Query(), sleep=Sleeps(), progress=False)
    assert err.value is denied and source.requests == [None, "1000"]


class StillSearching:
    """A source written here, with nothing but the protocol: empty pages, each with a new token."""

    where = "a slow archive"
    origin = "slow"
    cache_identity = None

    def page(self, query: Query, token: str | None) -> Page:
        return Page([], str(int(token or 0) + 1))


def test_a_new_source_plugs_in_and_endless_empty_pages_end_with_an_error() -> None:
    """Any class with the protocol's attributes and page() is a source; empty pages are followed, boundedly."""
    source = StillSearching()
    assert isinstance(source, LogSource)
    with pytest.raises(PullError, match="a slow archive returned 20 empty pages in a row"):
        pull(source, Query(), progress=False, policy=RetryPolicy(max_empty_pages=20))


def test_files_without_matching_entries_are_progress_not_a_stalled_source(tmp_path: Path) -> None:
    """A file source moving through files the window leaves empty is not taken for a source stuck on
    empty pages: each file is a new origin."""
    for hour in range(5):
        entries = [_entry(i, timestamp=f"2026-03-01T0{hour}:00:{i:02d}Z") for i in range(3)]
        (tmp_path / f"{hour:02d}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    since = datetime(2026, 3, 1, 4, tzinfo=UTC)
    query = Query(
        build_filter(since, since, slack_s=10, resource_types=None),
        time_ranges(since, since, slack_s=10),
    )
    pulled = pull(
        FileSource(tmp_path), query, progress=False, policy=RetryPolicy(max_empty_pages=2)
    )
    assert _ids(pulled.texts) == ["id-0", "id-1", "id-2"]
    assert pulled.to_logs().files == [str(tmp_path / f"{hour:02d}.jsonl") for hour in range(5)]


def test_max_entries_stops_any_source_early_and_says_so(tmp_path: Path) -> None:
    """--max-entries cuts the pull at that many entries, marks it truncated, and keeps it out of the cache."""
    source = MemorySource(ENTRIES, page_size=400)
    pulled = pull(source, Query(), max_entries=1000, cache=PullCache(tmp_path), progress=False)
    assert _ids(pulled.texts) == IDS[:1000] and pulled.stats.truncated
    assert len(source.requests) == 3 and pulled.to_logs().frame.height == 1000
    assert list(tmp_path.iterdir()) == []


def test_cache_answers_a_repeated_query_without_asking_the_source(tmp_path: Path) -> None:
    """The same query of the same source is read from Parquet with no request; refresh asks again."""
    source = MemorySource(ENTRIES)
    cache = PullCache(tmp_path)
    first = pull(source, Query(), cache=cache, progress=False)
    second = pull(source, Query(), cache=cache, progress=False)
    assert not first.from_cache and second.from_cache
    assert second.texts == first.texts and len(source.requests) == 3
    assert second.to_logs().frame.equals(first.to_logs().frame)
    again = pull(source, Query(), cache=cache, refresh=True, progress=False)
    assert not again.from_cache and len(source.requests) == 6
    assert len(list(tmp_path.glob("*.parquet"))) == 1


def test_cache_keys_a_pull_by_source_filter_window_and_order() -> None:
    """Another source, filter, window or order is another cached pull."""
    since = datetime(2026, 1, 15, 10, tzinfo=UTC)
    window = time_ranges(since, since, slack_s=60)
    a, b = MemorySource([], name="a"), MemorySource([], name="b")
    keys = {
        cache_key(a, Query("severity >= ERROR")),
        cache_key(b, Query("severity >= ERROR")),
        cache_key(a, Query("severity >= WARNING")),
        cache_key(a, Query("severity >= ERROR", window)),
        cache_key(a, Query("severity >= ERROR", time_ranges(since, since, slack_s=90))),
        cache_key(a, Query("severity >= ERROR", order_by="timestamp desc")),
    }
    assert len(keys) == 6


def test_unsettled_windows_and_file_sources_are_not_cached(tmp_path: Path) -> None:
    """keep=False (a window still receiving entries) and files (read where they are) write nothing."""
    cache = PullCache(tmp_path)
    pull(MemorySource(ENTRIES), Query(), cache=cache, keep=False, progress=False)
    export = tmp_path / "export" / "logs.jsonl"
    export.parent.mkdir()
    export.write_text("".join(json.dumps(e) + "\n" for e in ENTRIES[:10]))
    pull(FileSource(export), Query(), cache=cache, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_memory_source_answers_filter_window_and_order_as_the_server_does() -> None:
    """Filter, window and descending order are applied by the memory source like the local server."""
    since, until = (
        datetime(2026, 1, 15, 10, 1, tzinfo=UTC),
        datetime(2026, 1, 15, 10, 1, 30, tzinfo=UTC),
    )
    query = Query(
        build_filter(since, until, slack_s=0),
        time_ranges(since, until, slack_s=0),
        "timestamp desc",
    )
    with LoggingEmulator(EntryStore.from_entries(ENTRIES)) as server:
        remote = pull(
            CloudLoggingSource(resolve_target("demo-project", server.url)), query, progress=False
        )
    local = pull(MemorySource(ENTRIES, page_size=250), query, progress=False)
    assert _ids(local.texts) == _ids(remote.texts)
    assert 0 < len(local.texts) < len(ENTRIES) / 2
    assert json.loads(local.texts[0])["timestamp"] > json.loads(local.texts[-1])["timestamp"]


INCIDENTS = sorted(d.name for d in FIXTURES.iterdir() if (d / "logs").is_dir())


@pytest.mark.parametrize("name", INCIDENTS)
def test_file_source_gives_the_frame_read_logs_gives(name: str) -> None:
    """Pulling an incident's export through the file source gives read_logs' frame, skips, duplicates and files."""
    folder = FIXTURES / name / "logs"
    expected = read_logs(folder)
    got = pull(FileSource(folder), Query(), progress=False).to_logs()
    assert got.frame.equals(expected.frame)
    assert (got.skipped, got.duplicates, got.files, got.without_insert_id) == (
        expected.skipped,
        expected.duplicates,
        expected.files,
        expected.without_insert_id,
    )


def _entry(i: int, **extra: object) -> dict:
    return {
        "insertId": f"id-{i}",
        "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
        "timestamp": f"2026-03-01T10:00:{i:02d}Z",
        "textPayload": f"line {i}",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "api"}},
        **extra,
    }


def test_file_source_passes_over_what_read_logs_passes_over(tmp_path: Path) -> None:
    """A folder with a README, .DS_Store, bad lines, invalid UTF-8, a repeated entry and a gzip array reads
    as read_logs reads it."""
    (tmp_path / "README.md").write_text("# what these logs are\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    (tmp_path / "a.jsonl").write_text(
        "\n".join(
            [
                json.dumps(_entry(1)),
                "not json",
                "",
                json.dumps(_entry(2)),
                json.dumps({"no": "entry"}),
                json.dumps(_entry(3)),
            ]
        )
        + "\n"
    )
    sub = tmp_path / "2026" / "03" / "01"
    sub.mkdir(parents=True)
    (sub / "b.json.gz").write_bytes(
        gzip.compress(json.dumps([_entry(3), _entry(4)], indent=2).encode())
    )
    latin1 = json.dumps(_entry(5, textPayload="caf@")).encode().replace(b"caf@", b"caf\xe9")
    (sub / "c.jsonl").write_bytes(latin1 + b"\n")
    expected = read_logs(tmp_path)
    got = pull(FileSource(tmp_path), Query(), progress=False).to_logs()
    assert got.frame.equals(expected.frame) and got.frame.height == 5
    assert got.skipped == expected.skipped
    assert {s.reason for s in got.skipped} >= {
        "not a log file",
        "invalid UTF-8 (replaced with U+FFFD, entries kept)",
    }
    assert got.duplicates == expected.duplicates == 1 and got.files == expected.files


def test_file_and_cloud_logging_sources_answer_a_window_alike() -> None:
    """The run's window of an incident, from its export on disk and from the server holding it: the same
    entries, and triage of either gives the verdicts of the whole export."""
    folder = FIXTURES / "iam_denied"
    store = load_export(folder / "logs")
    [project] = sorted(set(store.projects))
    window = window_from_tests([folder / "junit.xml"])
    slack = 900 + window.extra_slack_s  # what triage --project pulls around a report
    query = Query(
        build_filter(window.since, window.until, slack_s=slack),
        time_ranges(window.since, window.until, slack_s=slack),
    )
    with LoggingEmulator(store) as server:
        remote = pull(
            CloudLoggingSource(resolve_target(project, server.url)), query, progress=False
        ).to_logs()
    local = pull(FileSource(folder / "logs"), query, progress=False).to_logs()
    columns = [c for c in local.frame.columns if c not in ("source_file", "source_line")]
    assert local.frame.height == remote.frame.height > 0
    assert local.frame.select(columns).equals(remote.frame.select(columns))
    offline = forensics.triage(folder / "junit.xml", folder / "logs").to_dict()["failures"]
    assert forensics.triage(folder / "junit.xml", local).to_dict()["failures"] == offline
    assert forensics.triage(folder / "junit.xml", remote).to_dict()["failures"] == offline


def test_named_file_that_is_not_an_export_is_refused_like_read_logs() -> None:
    """A file named directly must be an export: the file source raises read_logs' error for it."""
    readme = FIXTURES.parent / "README.md"
    with pytest.raises(forensics.LogFormatError) as expected:
        read_logs(readme)
    with pytest.raises(forensics.LogFormatError) as got:
        pull(FileSource(readme), Query(), progress=False)
    assert str(got.value) == str(expected.value)
