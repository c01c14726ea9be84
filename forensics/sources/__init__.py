"""Where log entries come from: one small protocol, its sources, and the one layer above them.

The protocol (``protocol``)
---------------------------
A source answers a ``Query`` one ``Page`` at a time::

    class LogSource(Protocol):
        where: str                               # for messages: "Cloud Logging", a URL, a path
        origin: str                              # the source_file of its rows: "cloud-logging:P"
        cache_identity: tuple[str, ...] | None   # with the query, the cache key; None: never cached
        def page(self, query: Query, token: str | None) -> Page: ...

- ``Query(filter, window, order_by)``: a Cloud Logging filter (window clause included; "" for
  everything), the time ranges that clause names (for sources that do not read the filter
  language; never wider than the filter), and ``"timestamp asc"`` or ``"timestamp desc"``.
- ``Page(entries, next_token, origin, lines, skipped)``: the JSON text of each entry, a LogEntry
  object in the ``entries.list`` shape on one line, in the query's order; the token of the next
  page (None on the last; a page may be empty and still carry one); and, for sources that read
  files, each entry's file and line and what was passed over.
- ``page(query, None)`` is the first page; ``page(query, token)`` must give the same page every
  time it is asked, so a failed request can be asked again.
- A failure worth waiting out raises ``Retryable`` (kind ``"quota"`` with the wait the server
  asked for, or ``"server"``); anything else raises a ``PullError`` whose message is one line
  saying what to do. The source does not retry, sleep, cache or show progress.

Entries are JSON texts, not dicts, because that is what every layer above wants: the cache and
``pull --out`` keep them as sent, and polars reads them all at once into the log frame. A source
whose API gives dicts writes each with ``local.entry_text``.

The sources
-----------
- ``CloudLoggingSource`` (``cloud_logging``): ``entries.list`` through the real
  ``google-cloud-logging`` client, the only code that touches it.
- ``FileSource`` (``files``): export files and folders, one page per file, as ``read_logs`` reads them.
- ``MemorySource`` (``memory``): LogEntry dicts in memory, for tests; it can fail chosen requests.

Above them, once (``pull``, ``cache``, ``progress``, ``pulled``, ``frame``)
-----------------------------------------------------------------------------
``pull(source, query, cache=..., refresh=..., max_entries=..., policy=..., progress=...)`` holds
the page tokens, waits out ``Retryable`` failures (429: ``Retry-After``, capped; 5xx: bounded
backoff) and resumes on the same token, follows empty pages (bounded), stops at ``max_entries``,
shows progress on a terminal, and reads and writes the Parquet cache (``PullCache``). Its
``Pulled`` becomes the log frame with ``to_logs()`` (one polars read per origin).

A new source (BigQuery, Log Analytics) is a class with these three attributes and ``page``;
nothing else changes.
"""

from __future__ import annotations

from forensics.sources.cache import PullCache, cache_key, default_cache_dir
from forensics.sources.cloud_logging import CloudLoggingSource
from forensics.sources.files import FileSource
from forensics.sources.memory import MemorySource
from forensics.sources.protocol import LogSource, Page, Query, Retryable, TimeRange
from forensics.sources.pull import RetryPolicy, pull
from forensics.sources.pulled import Pulled, PullStats

__all__ = [
    "CloudLoggingSource",
    "FileSource",
    "LogSource",
    "MemorySource",
    "Page",
    "PullCache",
    "PullStats",
    "Pulled",
    "Query",
    "RetryPolicy",
    "Retryable",
    "TimeRange",
    "cache_key",
    "default_cache_dir",
    "pull",
]
