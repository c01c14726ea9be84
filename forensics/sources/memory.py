"""LogEntry dicts held in memory, paged like the API: for tests, notebooks and new layers.

``MemorySource`` answers a query as the local Cloud Logging server would (same filter evaluator,
same order), ``page_size`` entries a page, and can be told to fail chosen requests, so the retry,
cache and frame layers above it are tested without a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from forensics.exceptions import PullError
from forensics.sources.local import entry_text, in_order, matcher
from forensics.sources.protocol import Page, Query


class MemorySource:
    """Entries in memory.

    Attributes:
        requests: the token of every page asked for, in order (failed requests too).
    """

    def __init__(
        self,
        entries: Iterable[dict[str, Any]],
        *,
        name: str = "memory",
        page_size: int = 1000,
        failures: Mapping[int, BaseException] | None = None,
    ):
        """
        Args:
            entries: LogEntry dicts (``entries.list`` shape), in any order.
            name: the rows' ``source_file`` and the name in messages and cache keys.
            page_size: entries per page.
            failures: request number (0 is the first request) -> the exception that request
                raises instead of answering (a ``Retryable``, a ``PullError``, ...).
        """
        self.where = name
        self.origin = name
        self.cache_identity: tuple[str, ...] | None = ("memory", name)
        self.page_size = page_size
        self.failures = dict(failures or {})
        self.requests: list[str | None] = []
        self._entries = list(entries)
        self._answers: dict[Query, list[str]] = {}

    def page(self, query: Query, token: str | None) -> Page:
        """The ``page_size`` entries of ``query`` after ``token`` (an offset)."""
        asked = len(self.requests)
        self.requests.append(token)
        if asked in self.failures:
            raise self.failures[asked]
        texts = self._answer(query)
        start = _offset(token, len(texts), self.where)
        end = start + self.page_size
        return Page(texts[start:end], str(end) if end < len(texts) else None)

    def _answer(self, query: Query) -> list[str]:
        if query not in self._answers:
            keep = matcher(query)
            self._answers[query] = [
                entry_text(e) for e in in_order(self._entries, query.order_by) if keep(e)
            ]
        return self._answers[query]


def _offset(token: str | None, total: int, where: str) -> int:
    if not token:
        return 0
    if not token.isdigit() or int(token) > total:
        raise PullError(f"{where} does not know the page token {token!r}; run the pull again")
    return int(token)
