"""Text cut to one line for tables: the terminal summary, the postmortem, the notebook repr."""

from __future__ import annotations


def clip(text: str | None, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    one = " ".join((text or "").split())
    if len(one) <= limit:
        return one
    cut = max(limit - 1, 0)
    marker = "[REDACTED"
    mark = one.rfind(marker, 0, cut + len(marker) - 1)  # a marker that starts before the cut
    if mark != -1 and mark < cut and one.find("]", mark, cut) == -1:
        cut = mark  # never show half a redaction marker
    return one[:cut].rstrip() + "…"
