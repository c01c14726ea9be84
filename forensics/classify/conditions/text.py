"""Text conditions: ``message`` and ``text`` regexes over a row's words."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import regex

from forensics.classify.conditions.base import (
    BuildBlock,
    Condition,
    ConditionProblem,
    compile_regex,
    line_of,
)
from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow


def _patterns(value: Any, line: int | None) -> tuple[regex.Pattern[str], ...]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConditionProblem("needs at least one regex", line)
    lines = getattr(value, "item_lines", None) or [line_of(value) or line] * len(items)
    return tuple(compile_regex(p, at) for p, at in zip(items, lines, strict=True))


@dataclass(frozen=True)
class MessageMatches(Condition):
    """``message: REGEX`` (or a list: any of them) searched in the row's message.

    The payload's error/reason fields (``rows.REASON_KEYS``) are searched with it.
    """

    kind: ClassVar[str] = "message"
    cost: ClassVar[int] = 2
    patterns: tuple[regex.Pattern[str], ...]

    def _text(self, row: LinkedRow) -> str:
        return row.message_text

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        key = (id(self), row.row)
        if key not in ctx.memo:
            text = self._text(row)
            ctx.memo[key] = bool(text) and self.combined.search(text) is not None
        return ctx.memo[key]

    @property
    def combined(self) -> regex.Pattern[str]:
        """All patterns as one alternation: one search per row instead of one per pattern."""
        return _combine(self.patterns)

    @classmethod
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        return cls(_patterns(value, line))


@functools.lru_cache(maxsize=1024)
def _combine(patterns: tuple[regex.Pattern[str], ...]) -> regex.Pattern[str]:
    if len(patterns) == 1:
        return patterns[0]
    return regex.compile(
        "|".join(f"(?:{p.pattern})" for p in patterns), regex.IGNORECASE | regex.VERSION1
    )


@dataclass(frozen=True)
class TextMatches(MessageMatches):
    """``text: REGEX``: like ``message`` but also searches every string value of the payload."""

    kind: ClassVar[str] = "text"

    def _text(self, row: LinkedRow) -> str:
        return row.text
