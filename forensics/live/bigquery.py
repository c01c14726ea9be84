"""Pull a window from BigQuery instead of the Logging API: ``--bigquery`` and ``--log-analytics``.

>>> from forensics.live.bigquery import bigquery_logs
>>> logs = bigquery_logs("my-project.logs_sink", tests=["junit.xml"])               # sink tables
>>> logs = bigquery_logs("my-project.my_linked", tests=["junit.xml"], shape="log-analytics")

The window, slack, resource types and services are those of a Cloud Logging pull (the same
filter is the cache key and keeps the rows), pushed down into the SQL.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from forensics.live.api import window_query
from forensics.live.filters import RESOURCE_TYPES
from forensics.live.window import Window, window_from_options, window_from_tests
from forensics.logs import LoadedLogs
from forensics.sources import PullCache, Pulled, Query, pull
from forensics.sources.bigquery import SINK, BigQuerySource, QueryStats, Scope, parse_dataset
from forensics.sources.bigquery.connect import resolve_endpoint


def pull_bigquery(
    dataset: str,
    window: Window,
    *,
    shape: str = SINK,
    endpoint: str | None = None,
    slack_s: float | None = None,
    resource_types: Sequence[str] | None = RESOURCE_TYPES,
    services: Sequence[str] = (),
    extra_filter: str | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    max_entries: int | None = None,
    progress: bool | None = None,
    dry_run: bool = False,
    client: Any = None,
) -> Pulled | None:
    """Pull (or read from the cache) the entries of ``window`` from a BigQuery dataset.

    Args:
        dataset: ``PROJECT.DATASET``: a sink dataset, or a Log Analytics linked dataset.
        window: the time range (``window_from_tests`` / ``window_from_options``).
        shape: ``"sink"`` or ``"log-analytics"``.
        endpoint: a local BigQuery API; None means ``$BIGQUERY_EMULATOR_HOST`` or Google.
        dry_run: print the SQL (stdout) and the bytes it would scan (stderr), pull nothing,
            and return None.
        client: a ready ``google.cloud.bigquery.Client`` (made from the endpoint when None).
        slack_s, resource_types, services, extra_filter, cache_dir, refresh, max_entries,
            progress: as for ``forensics.live.pull_window``.

    Raises:
        PullError: the query failed (credentials, permission, dataset, quota, too large, ...).
        UsageError: the dataset name, the window or the options are not valid.
    """
    where = parse_dataset(dataset, shape)
    filter_text, ranges, settled = window_query(
        window, slack_s, resource_types, services, extra_filter
    )
    scope = Scope(tuple(resource_types or ()), tuple(services))
    source = BigQuerySource(
        where, scope, endpoint=resolve_endpoint(where.project, endpoint), client=client
    )
    query = Query(filter_text, ranges)
    if dry_run:
        stats = source.dry_run(query)
        print(stats.sql)
        print(
            f"forensics: the query would scan {_bytes(stats.bytes_processed)} of {where.name} "
            "(BigQuery's dry run; nothing was run or billed)",
            file=sys.stderr,
        )
        return None
    pulled = pull(
        source,
        query,
        cache=PullCache(cache_dir),
        refresh=refresh,
        keep=settled,
        max_entries=max_entries,
        progress=progress,
    )
    _report(pulled, source.last, where.name)
    return pulled


def bigquery_logs(
    dataset: str,
    since: str | None = None,
    until: str | None = None,
    *,
    tests: Sequence[str | Path] = (),
    **options: Any,
) -> LoadedLogs:
    """The logs of a window read from BigQuery, as ``LoadedLogs`` ready for ``forensics.triage``.

    Args:
        dataset: ``PROJECT.DATASET``.
        since: window start (RFC 3339; UTC when no zone is given), unless ``tests`` is given.
        until: window end (default now).
        tests: test reports whose run's window to pull instead of since/until.
        options: the keyword options of ``pull_bigquery`` (shape, endpoint, services, ...).
    """
    window = window_from_tests(list(tests)) if tests else window_from_options(since, until)
    pulled = pull_bigquery(dataset, window, **{**options, "dry_run": False})
    assert pulled is not None  # only a dry run returns None
    return pulled.to_logs()


def _report(pulled: Pulled, stats: QueryStats | None, name: str) -> None:
    if pulled.from_cache or stats is None:
        print(
            f"forensics: read {pulled.stats.entries:,} entries of {name} from the cache "
            "(--refresh queries again)",
            file=sys.stderr,
        )
        return
    print(
        f"forensics: BigQuery processed {_bytes(stats.bytes_processed)} of {name} and returned "
        f"{stats.rows:,} rows ({stats.entries:,} entries kept), {pulled.stats.elapsed_s:.1f}s",
        file=sys.stderr,
    )


def _bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{count:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count:,} bytes"
