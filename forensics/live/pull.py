"""Page through ``entries.list`` with the real client, holding the page tokens ourselves.

``Client.list_entries`` hides page tokens and builds a Python object per entry. Here each page
goes through the library's HTTP connection (``client._connection.api_request``) as plain dicts, so
a ``429 RESOURCE_EXHAUSTED`` waits (honouring ``Retry-After``) and resumes from the same token,
500/503 are retried a bounded number of times, and pages become one polars frame at the end.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.exceptions import PullError, QuotaError
from forensics.live.connect import Target, make_client
from forensics.live.errors import Retryable, translate
from forensics.live.progress import PullProgress

PAGE_SIZE = 1000  # the API's maximum: fewest requests against a 60-per-minute read quota


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


@dataclass
class PullStats:
    """What a pull did: pages, requests, retries by kind, elapsed seconds."""

    entries: int = 0
    pages: int = 0
    requests: int = 0
    empty_pages: int = 0
    retries: dict[str, int] = field(default_factory=dict)
    waited_s: float = 0.0
    elapsed_s: float = 0.0
    truncated: bool = False


@dataclass
class Pulled:
    """The entries of one pull, as the API returned them, and how they were obtained."""

    target: Target
    filter: str
    entries: list[dict[str, Any]]
    stats: PullStats
    from_cache: bool = False

    @property
    def source(self) -> str:
        """The ``source_file`` value of these rows in the log frame."""
        return f"cloud-logging:{self.target.project}"

    def to_frame(self) -> pl.DataFrame:
        """The entries as the log frame (``forensics.schema.LOG_SCHEMA``)."""
        from forensics.logs import entries_to_frame

        return entries_to_frame(self.entries, self.source)


def pull_entries(
    target: Target,
    filter_text: str,
    *,
    client: Any = None,
    order_by: str = "timestamp asc",
    page_size: int = PAGE_SIZE,
    max_entries: int | None = None,
    policy: RetryPolicy = RetryPolicy(),  # frozen, so sharing the default is safe
    sleep: Callable[[float], None] = time.sleep,
    progress: bool | None = None,
) -> Pulled:
    """Pull every entry matching ``filter_text`` from ``target``.

    Args:
        target: project and endpoint (``resolve_target``).
        filter_text: a Cloud Logging filter (``build_filter``); it should have a timestamp clause.
        client: a ready ``google.cloud.logging.Client``; made from ``target`` when None.
        order_by: ``"timestamp asc"`` or ``"timestamp desc"``.
        page_size: entries per request (at most 1000).
        max_entries: stop after this many (``stats.truncated`` says so).
        policy: retry limits and waits.
        sleep: how to wait (tests pass a recorder).
        progress: show a progress bar on stderr; None means only when stderr is a terminal.

    Raises:
        PullError: any failure, as one of its subclasses (credentials, permission, project,
            filter, quota), with a one-line message saying what to do.
    """
    started = time.monotonic()
    stats = PullStats()
    if client is None:
        client = make_client(target)
    api_request = client._connection.api_request
    body: dict[str, Any] = {"resourceNames": [f"projects/{target.project}"], "filter": filter_text,
                            "orderBy": order_by, "pageSize": page_size}
    entries: list[dict[str, Any]] = []
    token: str | None = None
    show = sys.stderr.isatty() if progress is None else progress
    with PullProgress(enabled=show) as bar:
        while True:
            page = _page_with_retries(api_request, {**body, **({"pageToken": token} if token else {})},
                                      target, policy, sleep, stats)
            got = page.get("entries") or []
            stats.pages += 1
            if got:
                entries.extend(got)
                stats.empty_pages = 0
            else:
                stats.empty_pages += 1
                if stats.empty_pages >= policy.max_empty_pages:
                    raise PullError(f"{target.where} returned {stats.empty_pages} empty pages in a row; "
                                    "narrow --since/--until or --filter")
            stats.entries = len(entries)
            bar.update(stats.entries, stats.pages)
            token = page.get("nextPageToken") or None  # "" ends the listing too
            if max_entries is not None and len(entries) >= max_entries and token:
                del entries[max_entries:]
                stats.entries, stats.truncated = len(entries), True
                break
            if token is None:
                break
    stats.elapsed_s = time.monotonic() - started
    return Pulled(target=target, filter=filter_text, entries=entries, stats=stats)


def _page_with_retries(
    api_request: Callable[..., Any],
    body: dict[str, Any],
    target: Target,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    stats: PullStats,
) -> dict[str, Any]:
    """One page; waits and retries the same body (so the same token) on retryable failures."""
    failures = {"quota": 0, "server": 0}
    while True:
        stats.requests += 1
        try:
            page = api_request(method="POST", path="/entries:list", data=body)
        except Exception as err:  # translate() decides which errors are ours
            mapped = translate(err, target)
            if mapped is None:
                raise
            if not isinstance(mapped, Retryable):
                raise mapped from None
            failures[mapped.kind] += 1
            limit = policy.quota_retries if mapped.kind == "quota" else policy.server_retries
            if failures[mapped.kind] > limit:
                raise _gave_up(mapped, failures[mapped.kind], target) from None
            wait = mapped.retry_after
            if wait is None:
                wait = policy.backoff_s * 2 ** (failures[mapped.kind] - 1)
            wait = min(wait, policy.max_wait_s)
            stats.retries[str(mapped.status)] = stats.retries.get(str(mapped.status), 0) + 1
            stats.waited_s += wait
            sleep(wait)
            continue
        if not isinstance(page, dict):
            raise PullError(f"{target.where} answered entries.list with something other than a JSON object")
        return page


def _gave_up(failure: Retryable, times: int, target: Target) -> PullError:
    if failure.kind == "quota":
        return QuotaError(
            f"Cloud Logging read quota stayed exhausted after {times} tries (about 60 entries.list "
            f"requests a minute per project); wait a minute and re-run, or narrow --since/--until")
    return PullError(f"{target.where} failed {times} times in a row ({failure.status}: {failure.message}); "
                     "try again later")
