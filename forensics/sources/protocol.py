"""The log-source protocol: a query in, pages of raw LogEntries out, resumable at any page.

A source answers one ``Query`` (a Cloud Logging filter and the time window it covers) one
``Page`` at a time: ``source.page(query, token)`` gives the entries after ``token`` (None for the
first page) and the token of the next page. Retries, the cache, progress and the log frame are
the job of the layer above (``forensics.sources.pull``), which is written once for every source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from forensics.result import Skipped

#: One time range of a window, both ends timezone-aware and included.
TimeRange = tuple[datetime, datetime]


@dataclass(frozen=True)
class Query:
    """What to read: the entries matching ``filter`` within ``window``, in ``order_by`` order.

    Attributes:
        filter: a Cloud Logging filter (the logging query language), window clause included;
            "" matches every entry.
        window: the time ranges the filter's timestamp clause names, for sources that do not
            read the filter language; () means no time bound. It never widens the filter.
        order_by: ``"timestamp asc"`` or ``"timestamp desc"``.
    """

    filter: str = ""
    window: tuple[TimeRange, ...] = ()
    order_by: str = "timestamp asc"

    @property
    def everything(self) -> bool:
        """True when the query keeps every entry (no filter, no window)."""
        return not self.filter.strip() and not self.window


@dataclass(frozen=True)
class Page:
    """One answer of a source.

    Attributes:
        entries: the JSON text of each entry (a LogEntry object, ``entries.list`` shape, on one
            line), in the query's order.
        next_token: what to pass to ``page`` for the next page; None on the last page. A page
            may be empty and still carry a token (the API is still searching).
        origin: the ``source_file`` of these entries' rows, when it is not the source's own
            ``origin`` (a file source names each file).
        lines: the line of ``origin`` each entry starts at (files); None numbers the rows by
            their place in the pull.
        skipped: what the source passed over while reading this page (a README in a folder,
            an undecodable line), counted by reason.
    """

    entries: list[str]
    next_token: str | None = None
    origin: str | None = None
    lines: list[int] | None = None
    skipped: list[Skipped] = field(default_factory=list)


@runtime_checkable
class LogSource(Protocol):
    """Where entries come from: a file export, Cloud Logging, memory, (soon) BigQuery.

    Attributes:
        where: a short name for messages (``"Cloud Logging"``, ``"http://127.0.0.1:8086"``).
        origin: the ``source_file`` of its rows (``"cloud-logging:PROJECT"``).
        cache_identity: what, with the query, names a pull of this source in the cache (its
            endpoint and project); None for sources that are never cached (files).
    """

    where: str
    origin: str
    cache_identity: tuple[str, ...] | None

    def page(self, query: Query, token: str | None) -> Page:
        """The page of ``query`` that ``token`` names (None: the first).

        Raises:
            Retryable: a failure worth waiting out; asking again with the same token is safe.
            PullError: any other failure, as one line saying what to do.
        """
        ...


@dataclass
class Retryable(Exception):
    """A failure worth retrying with the same token.

    Attributes:
        kind: ``"quota"`` (429: wait ``retry_after``) or ``"server"`` (5xx: back off).
        status: the HTTP status, for stats and messages.
        retry_after: seconds the server asked to wait (None: the policy's backoff).
        message: the server's explanation, one line.
        quota: for ``"quota"``, the quota's name in the message when it stays exhausted.
        quota_rate: the quota's size, said after the count of tries.
    """

    kind: str
    status: int
    retry_after: float | None
    message: str
    quota: str = "the read quota"
    quota_rate: str = ""
