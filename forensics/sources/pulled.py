"""What a pull gives back: each entry's JSON text, where each came from, and how the pull went."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from forensics.logs import LoadedLogs
from forensics.sources.frame import Part, parts_to_frame, parts_to_logs
from forensics.sources.protocol import Query


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
    """The entries of one pull, each as the JSON text the source gave, and how they were obtained.

    Attributes:
        origin: the source's ``origin`` (``"cloud-logging:PROJECT"``).
        query: what was asked for.
        texts: each entry's JSON text, in the order the source gave them.
        stats: pages, requests, retries, time.
        from_cache: read from the cache, with no request.
        parts: which origin each run of texts came from (one part for a remote source).
    """

    origin: str
    query: Query
    texts: list[str]
    stats: PullStats
    from_cache: bool = False
    parts: list[Part] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = [Part(self.origin, len(self.texts))]

    @property
    def entries(self) -> list[dict[str, Any]]:
        """The entries as LogEntry dicts (parsed on each access; the frame does not need them)."""
        return [json.loads(t) for t in self.texts]

    @property
    def cacheable(self) -> bool:
        """True when every row is the source's own (a cache file keeps texts, not their origins)."""
        return (
            len(self.parts) == 1
            and self.parts[0].origin == self.origin
            and self.parts[0].lines is None
            and not self.parts[0].skipped
        )

    def to_frame(self) -> pl.DataFrame:
        """The entries as the log frame (``forensics.schema.LOG_SCHEMA``), in pull order."""
        return parts_to_frame(self.texts, self.parts)[0]

    def to_logs(self) -> LoadedLogs:
        """The entries as ``LoadedLogs`` (frame, skipped entries, duplicates), ready for ``triage``."""
        return parts_to_logs(self.texts, self.parts)
