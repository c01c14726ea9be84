"""A query evaluated where the entries already are (memory, files), as the local Cloud Logging server does.

The filter goes through the same evaluator as ``python -m forensics.emulator``
(``forensics.emulator.filter``), so a local source and the server answer a query alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from forensics.exceptions import FilterError
from forensics.sources.protocol import Query

Entry = dict[str, Any]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def matcher(query: Query) -> Callable[[Entry], bool]:
    """``keep(entry)``: the entry matches the query's filter and lies in its window.

    Raises:
        FilterError: the filter is outside the subset forensics evaluates.
    """
    from forensics.emulator.filter import FilterSyntaxError, compile_filter, entry_timestamp_ns

    try:
        predicate = compile_filter(query.filter)
    except FilterSyntaxError as err:
        raise FilterError(f"the filter cannot be evaluated locally: {err}; fix --filter") from None
    ranges = [(_ns(lo), _ns(hi)) for lo, hi in query.window]
    if not ranges:
        return predicate

    def keep(entry: Entry) -> bool:
        moment = entry_timestamp_ns(entry)
        return (
            moment is not None and any(lo <= moment <= hi for lo, hi in ranges) and predicate(entry)
        )

    return keep


def in_order(entries: Iterable[Entry], order_by: str) -> list[Entry]:
    """The entries by timestamp (those without one last), newest first for ``"timestamp desc"``."""
    from forensics.emulator.filter import entry_timestamp_ns

    def when(entry: Entry) -> tuple[bool, int]:
        moment = entry_timestamp_ns(entry)
        return moment is None, moment or 0

    ordered = sorted(entries, key=when)
    if order_by.strip().lower() == "timestamp desc":
        ordered.reverse()
    return ordered


def entry_text(entry: Entry) -> str:
    """An entry's compact JSON text, as the API sends it."""
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=False)


def _ns(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
