"""Pull a window's logs in one call: what the ``pull`` command and ``triage --project`` do, for Python.

>>> from forensics.live import pull_logs
>>> logs = pull_logs("my-project-123", tests=["junit.xml"])          # the run's window
>>> logs = pull_logs("my-project-123", since="2026-01-15T10:00:00Z", until="2026-01-15T10:30:00Z")
>>> forensics.triage("junit.xml", logs)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forensics.exceptions import UsageError
from forensics.live.filters import (
    DEFAULT_SLACK_S,
    MAX_SLACK_S,
    NAIVE_SLACK_S,
    RESOURCE_TYPES,
    ZONE_OFFSETS_H,
    build_filter,
    rfc3339,
    time_ranges,
)
from forensics.live.pull import pull_cached
from forensics.live.window import Window, window_from_options, window_from_tests
from forensics.logs import LoadedLogs
from forensics.sources import PullCache, Pulled, TimeRange
from forensics.sources.cloud_logging import Target, resolve_target


def pull_window(
    project: str,
    window: Window,
    *,
    endpoint: str | None = None,
    slack_s: float | None = None,
    resource_types: Sequence[str] | None = RESOURCE_TYPES,
    services: Sequence[str] = (),
    extra_filter: str | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    max_entries: int | None = None,
    progress: bool | None = None,
) -> Pulled:
    """Pull (or read from the cache) the entries of ``window``; notes go to stderr.

    Args:
        project: the Google Cloud project ID.
        window: the time range (``window_from_tests`` / ``window_from_options``).
        endpoint: a local Cloud Logging API; None means ``LOGGING_EMULATOR_HOST`` or Google.
        slack_s: seconds added on both sides; None means 0 for a typed window, 900 for a
            report's window (300 around each zone when the report's times have no zone).
        resource_types: types to pull; None pulls every type.
        services: keep only these services' entries (front-end and audit entries stay).
        extra_filter: a Cloud Logging filter ANDed with the window.
        cache_dir: the cache folder (default ``$FORENSICS_CACHE_DIR`` or ``~/.cache/forensics``).
        refresh: pull again even when the window is cached.
        max_entries: stop after this many entries.
        progress: progress bar on stderr; None means when stderr is a terminal.

    Raises:
        PullError: the pull failed (credentials, permission, project, filter, quota, ...).
        UsageError: the window or the options do not make a valid filter.
    """
    target = resolve_target(project, endpoint)
    filter_text, ranges, settled = window_query(
        window, slack_s, resource_types, services, extra_filter
    )
    pulled = pull_cached(
        target,
        filter_text,
        window=ranges,
        cache=PullCache(cache_dir) if cache_dir else None,
        refresh=refresh,
        keep=settled,
        max_entries=max_entries,
        progress=progress,
    )
    _report(pulled, target)
    return pulled


def window_query(
    window: Window,
    slack_s: float | None,
    resource_types: Sequence[str] | None,
    services: Sequence[str],
    extra_filter: str | None,
) -> tuple[str, tuple[TimeRange, ...], bool]:
    """The filter and time ranges of a window with its slack, and whether it is settled (cacheable);
    notes about zone-less reports and unsettled windows go to stderr.

    Raises:
        UsageError: the slack or the window do not make a valid filter.
    """
    if slack_s is None:  # a window the user typed is taken as meant; a report's window gets slack
        slack_s = (NAIVE_SLACK_S if window.naive else DEFAULT_SLACK_S) if window.from_tests else 0.0
    if not 0 <= slack_s <= MAX_SLACK_S:  # also refuses nan
        raise UsageError(
            f"--slack {slack_s:g} is not a number of seconds from 0 to {MAX_SLACK_S:.0f}"
        )
    if window.naive:
        print(
            f"forensics: note: the test report's times have no time zone; pulling the run's window at "
            f"each of the {len(ZONE_OFFSETS_H)} UTC offsets in use (pass --since/--until in UTC to pull less)",
            file=sys.stderr,
        )
    zones = ZONE_OFFSETS_H if window.naive else (0,)
    try:
        filter_text = build_filter(
            window.since,
            window.until,
            slack_s=slack_s + window.extra_slack_s,
            resource_types=list(resource_types) if resource_types else None,
            services=list(services),
            extra=extra_filter,
            zone_offsets_h=zones,
        )
        ranges = time_ranges(
            window.since, window.until, slack_s=slack_s + window.extra_slack_s, zone_offsets_h=zones
        )
        settled = window.settled(slack_s)
    except OverflowError:  # a window at year 1 or 9999, widened by slack and zones
        raise UsageError(
            f"the window {rfc3339(window.since)} .. {rfc3339(window.until)} with its slack "
            "runs past the dates a filter can name"
        ) from None
    if not settled:
        print(
            "forensics: note: the window (with its slack) reaches into the last 10 minutes, when entries "
            "may still arrive; it is pulled but not cached",
            file=sys.stderr,
        )
    return filter_text, ranges, settled


def pull_logs(
    project: str,
    since: str | None = None,
    until: str | None = None,
    *,
    tests: Sequence[str | Path] = (),
    **options: Any,
) -> LoadedLogs:
    """The logs of a window as ``LoadedLogs``, ready for ``forensics.triage``.

    Args:
        project: the Google Cloud project ID.
        since: window start (RFC 3339; UTC when no zone is given), unless ``tests`` is given.
        until: window end (default now).
        tests: test reports whose run's window to pull instead of since/until.
        options: the keyword options of ``pull_window`` (endpoint, services, refresh, ...).
    """
    window = window_from_tests(list(tests)) if tests else window_from_options(since, until)
    return pull_window(project, window, **options).to_logs()


def _report(pulled: Pulled, target: Target) -> None:
    s = pulled.stats
    if pulled.from_cache:
        print(
            f"forensics: read {s.entries:,} entries of {target.project} from the cache "
            "(--refresh pulls again)",
            file=sys.stderr,
        )
        return
    retries = sum(s.retries.values())
    extra = f", {retries} retried request(s), waited {s.waited_s:.0f}s" if retries else ""
    print(
        f"forensics: pulled {s.entries:,} entries of {target.project} from {target.where} "
        f"in {s.pages} page(s){extra}, {s.elapsed_s:.1f}s",
        file=sys.stderr,
    )
    if s.truncated:
        print(
            f"forensics: note: stopped at --max-entries {s.entries:,}; more entries match the window",
            file=sys.stderr,
        )
