"""Page through any ``LogSource``, once for all of them: retries, the cache, progress, ``--max-entries``.

``pull(source, query)`` asks the source for one page at a time, holding the page token itself, so a
``Retryable`` failure waits (a 429 what ``Retry-After`` says, a 5xx with backoff) and asks for the
same token again: no entry is lost or repeated. Each entry stays the JSON text the source gave
until the whole pull becomes one polars frame (``Pulled.to_logs``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from forensics.exceptions import PullError, QuotaError, UsageError
from forensics.sources.cache import PullCache
from forensics.sources.frame import Part
from forensics.sources.progress import PullProgress
from forensics.sources.protocol import LogSource, Page, Query, Retryable
from forensics.sources.pulled import Pulled, PullStats


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a pull waits out failures.

    Attributes:
        quota_retries: 429s in a row before giving up with ``QuotaError``.
        server_retries: 500/502/503/504s in a row before giving up.
        max_wait_s: cap on any single wait, whatever ``Retry-After`` says.
        backoff_s: first wait when the server gives no ``Retry-After`` (doubles each time).
        max_empty_pages: empty pages in a row (with a token) before giving up.
    """

    quota_retries: int = 6
    server_retries: int = 3
    max_wait_s: float = 60.0
    backoff_s: float = 2.0
    max_empty_pages: int = 1000


def pull(
    source: LogSource,
    query: Query,
    *,
    cache: PullCache | None = None,
    refresh: bool = False,
    keep: bool = True,
    max_entries: int | None = None,
    policy: RetryPolicy = RetryPolicy(),  # frozen, so sharing the default is safe
    sleep: Callable[[float], None] = time.sleep,
    progress: bool | None = None,
) -> Pulled:
    """Every entry of ``query`` from ``source``, from the cache when it holds them.

    Args:
        source: any ``LogSource``.
        query: filter, window and order.
        cache: where pulls are kept (None: no cache); sources without a ``cache_identity`` skip it.
        refresh: pull even when the cache holds the query, and replace it.
        keep: store the pull (false for windows still receiving entries).
        max_entries: stop after this many (``stats.truncated`` says so; not cached).
        policy: retry limits and waits.
        sleep: how to wait (tests pass a recorder).
        progress: show a progress bar on stderr; None means only when stderr is a terminal.

    Raises:
        PullError: any failure, as one of its subclasses, with a one-line message saying what to do.
        UsageError: ``max_entries`` is below 1.
    """
    if max_entries is not None and max_entries < 1:
        raise UsageError(f"--max-entries {max_entries} is not a count of at least 1")
    store = cache if source.cache_identity is not None else None
    if store is not None and not refresh:
        hit = store.load(source, query)
        if hit is not None:
            return hit
    pulled = _pull_pages(source, query, max_entries, policy, sleep, progress)
    if store is not None and keep and not pulled.stats.truncated and pulled.cacheable:
        store.store(source, pulled)
    return pulled


def _pull_pages(
    source: LogSource,
    query: Query,
    max_entries: int | None,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    progress: bool | None,
) -> Pulled:
    started = time.monotonic()
    stats = PullStats()
    texts: list[str] = []
    parts: list[Part] = []
    token: str | None = None
    show = sys.stderr.isatty() if progress is None else progress
    with PullProgress(enabled=show) as bar:
        while True:
            page = _page_with_retries(source, query, token, policy, sleep, stats)
            # "" ends the pull too: the HTTP client's own pager would loop on it
            token = page.next_token or None
            stats.pages += 1
            texts.extend(page.entries)
            new_origin = _add_part(parts, page, source.origin)
            if page.entries or new_origin:  # progress: entries, or a file source's next file
                stats.empty_pages = 0
            if not page.entries and token is not None:
                stats.empty_pages += 1
                if stats.empty_pages >= policy.max_empty_pages:
                    raise PullError(
                        f"{source.where} returned {stats.empty_pages} empty pages in a row; "
                        "narrow --since/--until or --filter"
                    )
            stats.entries = len(texts)
            bar.update(stats.entries, stats.pages)
            if max_entries is not None and len(texts) >= max_entries and token:
                _cut(texts, parts, max_entries)
                stats.entries, stats.truncated = len(texts), True
                break
            if token is None:
                break
    stats.elapsed_s = time.monotonic() - started
    return Pulled(origin=source.origin, query=query, texts=texts, stats=stats, parts=parts)


def _page_with_retries(
    source: LogSource,
    query: Query,
    token: str | None,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    stats: PullStats,
) -> Page:
    """One page; on a ``Retryable`` failure, waits and asks for the same token again."""
    failures = {"quota": 0, "server": 0}
    while True:
        stats.requests += 1
        try:
            return source.page(query, token)
        except Retryable as failure:
            failures[failure.kind] += 1
            limit = policy.quota_retries if failure.kind == "quota" else policy.server_retries
            if failures[failure.kind] > limit:
                raise _gave_up(failure, failures[failure.kind], source) from None
            wait = failure.retry_after
            if wait is None:
                wait = policy.backoff_s * 2 ** (failures[failure.kind] - 1)
            wait = min(wait, policy.max_wait_s)
            stats.retries[str(failure.status)] = stats.retries.get(str(failure.status), 0) + 1
            stats.waited_s += wait
            sleep(wait)


def _add_part(parts: list[Part], page: Page, default_origin: str) -> bool:
    """Count the page's entries in the last part, or start a part when its origin changes (True)."""
    origin = page.origin or default_origin
    last = parts[-1] if parts else None
    started = last is None or last.origin != origin or (last.lines is None) != (page.lines is None)
    if last is None or started:
        last = Part(origin, lines=[] if page.lines is not None else None)
        parts.append(last)
    last.count += len(page.entries)
    if page.lines is not None and last.lines is not None:
        last.lines.extend(page.lines)
    last.skipped.extend(page.skipped)
    return started


def _cut(texts: list[str], parts: list[Part], keep: int) -> None:
    """Keep the first ``keep`` texts, and the parts that hold them."""
    del texts[keep:]
    seen = 0
    for i, part in enumerate(parts):
        if seen + part.count >= keep:
            part.count = keep - seen
            if part.lines is not None:
                del part.lines[part.count :]
            del parts[i + 1 :]
            return
        seen += part.count


def _gave_up(failure: Retryable, times: int, source: LogSource) -> PullError:
    if failure.kind == "quota":
        rate = f" ({failure.quota_rate})" if failure.quota_rate else ""
        return QuotaError(
            f"{failure.quota} stayed exhausted after {times} tries{rate}; wait a minute and re-run, "
            "or narrow --since/--until"
        )
    return PullError(
        f"{source.where} failed {times} times in a row ({failure.status}: {failure.message}); "
        "try again later"
    )
