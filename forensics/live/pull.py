"""Page through ``entries.list`` with the real client, holding the page tokens ourselves.

``Client.list_entries`` hides page tokens and builds a Python object per entry. Here each page
goes through the library's HTTP connection (``client._connection.api_request``) as raw JSON, so
a ``429 RESOURCE_EXHAUSTED`` waits (honouring ``Retry-After``) and resumes from the same token,
500/503 are retried a bounded number of times, and each entry is kept as its JSON text
(``forensics.live.pages``) until the whole pull becomes one polars frame.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.exceptions import PullError, QuotaError, UsageError
from forensics.live.connect import Target, make_client
from forensics.live.errors import Retryable, translate
from forensics.live.pages import PageFormatError, split_page, texts_to_frame, texts_to_logs
from forensics.live.progress import PullProgress
from forensics.logs import LoadedLogs

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
    """The entries of one pull, each as the JSON text the API returned, and how they were obtained."""

    target: Target
    filter: str
    texts: list[str]
    stats: PullStats
    from_cache: bool = False

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The entries as LogEntry dicts (parsed on each access; the frame does not need them)."""
        return [json.loads(t) for t in self.texts]

    @property
    def source(self) -> str:
        """The ``source_file`` value of these rows in the log frame."""
        return f"cloud-logging:{self.target.project}"

    def to_frame(self) -> pl.DataFrame:
        """The entries as the log frame (``forensics.schema.LOG_SCHEMA``)."""
        return texts_to_frame(self.texts, self.source)

    def to_logs(self) -> LoadedLogs:
        """The entries as ``LoadedLogs`` (frame, skipped entries, duplicates), ready for ``triage``."""
        return texts_to_logs(self.texts, self.source)


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
        UsageError: ``max_entries`` is below 1.
    """
    if max_entries is not None and max_entries < 1:
        raise UsageError(f"--max-entries {max_entries} is not a count of at least 1")
    started = time.monotonic()
    stats = PullStats()
    if client is None:
        client = make_client(target)
    api_request = client._connection.api_request
    body: dict[str, Any] = {"resourceNames": [f"projects/{target.project}"], "filter": filter_text,
                            "orderBy": order_by, "pageSize": page_size}
    texts: list[str] = []
    token: str | None = None
    show = sys.stderr.isatty() if progress is None else progress
    with PullProgress(enabled=show) as bar:
        while True:
            got, token = _page_with_retries(api_request, {**body, **({"pageToken": token} if token else {})},
                                             target, policy, sleep, stats)
            stats.pages += 1
            if got:
                texts.extend(got)
                stats.empty_pages = 0
            else:
                stats.empty_pages += 1
                if stats.empty_pages >= policy.max_empty_pages:
                    raise PullError(f"{target.where} returned {stats.empty_pages} empty pages in a row; "
                                    "narrow --since/--until or --filter")
            stats.entries = len(texts)
            bar.update(stats.entries, stats.pages)
            if max_entries is not None and len(texts) >= max_entries and token:
                del texts[max_entries:]
                stats.entries, stats.truncated = len(texts), True
                break
            if token is None:  # absent or "": the HTTP client's own pager would loop forever on ""
                break
    stats.elapsed_s = time.monotonic() - started
    return Pulled(target=target, filter=filter_text, texts=texts, stats=stats)


def _page_with_retries(
    api_request: Callable[..., Any],
    body: dict[str, Any],
    target: Target,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    stats: PullStats,
) -> tuple[list[str], str | None]:
    """One page's entry texts and next token; retries the same body (so the same token) on failures."""
    failures = {"quota": 0, "server": 0}
    while True:
        stats.requests += 1
        try:
            raw = api_request(method="POST", path="/entries:list", data=body, expect_json=False)
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
        try:
            return split_page(raw)
        except PageFormatError as err:
            raise PullError(f"{target.where} answered entries.list with {err}") from None


def _gave_up(failure: Retryable, times: int, target: Target) -> PullError:
    if failure.kind == "quota":
        return QuotaError(
            f"Cloud Logging read quota stayed exhausted after {times} tries (about 60 entries.list "
            f"requests a minute per project); wait a minute and re-run, or narrow --since/--until")
    return PullError(f"{target.where} failed {times} times in a row ({failure.status}: {failure.message}); "
                     "try again later")
