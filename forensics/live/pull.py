"""One Cloud Logging pull: ``CloudLoggingSource`` under the retries, cache and progress of ``forensics.sources``."""

from __future__ import annotations

from typing import Any

from forensics.sources import CloudLoggingSource, PullCache, Pulled, Query, TimeRange, pull
from forensics.sources.cloud_logging import PAGE_SIZE, Target


def pull_entries(
    target: Target,
    filter_text: str,
    *,
    client: Any = None,
    order_by: str = "timestamp asc",
    page_size: int = PAGE_SIZE,
    window: tuple[TimeRange, ...] = (),
    **options: Any,
) -> Pulled:
    """Pull every entry matching ``filter_text`` from ``target`` (no cache).

    Args:
        target: project and endpoint (``resolve_target``).
        filter_text: a Cloud Logging filter (``build_filter``); it should have a timestamp clause.
        client: a ready ``google.cloud.logging.Client`` (HTTP transport); made from ``target`` when None.
        order_by: ``"timestamp asc"`` or ``"timestamp desc"``.
        page_size: entries per request (at most 1000).
        window: the time ranges ``filter_text`` names (``time_ranges``), kept with the pull.
        options: ``forensics.sources.pull`` options: ``max_entries``, ``policy`` (a ``RetryPolicy``),
            ``sleep`` (tests pass a recorder), ``progress`` (None: only when stderr is a terminal).

    Raises:
        PullError: any failure, as one of its subclasses (credentials, permission, project,
            filter, quota), with a one-line message saying what to do.
        UsageError: ``max_entries`` is below 1.
    """
    source = CloudLoggingSource(target, client=client, page_size=page_size)
    return pull(source, Query(filter_text, window, order_by), **options)


def pull_cached(
    target: Target,
    filter_text: str,
    *,
    cache: PullCache | None = None,
    refresh: bool = False,
    keep: bool = True,
    **options: Any,
) -> Pulled:
    """Read the window from the cache, or pull it (and keep it unless ``keep`` is false).

    Args:
        target: project and endpoint.
        filter_text: the filter; with the endpoint and project (and the window), it is the cache key.
        cache: the cache folder (default ``default_cache_dir()``).
        refresh: pull even when the window is cached, and replace it.
        keep: store the pulled window (false for windows still receiving entries).
        options: passed to ``pull_entries``.
    """
    return pull_entries(
        target, filter_text, cache=cache or PullCache(), refresh=refresh, keep=keep, **options
    )
