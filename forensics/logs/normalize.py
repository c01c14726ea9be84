"""LogEntry JSON text -> the typed log frame, as a chain of polars steps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl


def entries_to_frame(entries: Iterable[dict[str, Any]], source: str) -> pl.DataFrame:
    """Normalize already-parsed LogEntry dicts (API ``entries.list`` shape) into the log frame."""
    raise NotImplementedError
