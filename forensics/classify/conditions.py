"""Condition kinds over one log row: text, role, and the combinators any/all/not.

Each kind is a small frozen class with ``build`` (from the YAML value, validated) and ``holds``
(on a linked row, with the test's context). ``registry.CONDITIONS`` maps kind names to classes;
fields live in ``fields``, conditions over the test's other rows in ``structure``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import regex

from forensics.classify.context import TestContext
from forensics.classify.rows import ROLES, LinkedRow


class ConditionProblem(Exception):
    """A condition that cannot be built; ``line`` is where in the rule file (if known)."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class ConditionProblems(ConditionProblem):
    """Several problems found in one block (so a lint run reports all of them)."""

    def __init__(self, problems: list[ConditionProblem]):
        flat: list[ConditionProblem] = []
        for p in problems:
            flat.extend(p.problems if isinstance(p, ConditionProblems) else [p])
        super().__init__(flat[0].message, flat[0].line)
        self.problems = flat


def line_of(value: Any, key: Any = None) -> int | None:
    """The 1-based source line of ``value`` (or of ``key`` inside it) when the loader recorded it."""
    lines = getattr(value, "key_lines", None)
    if key is not None and lines and key in lines:
        return int(lines[key])
    return getattr(value, "line", None)


class Condition:
    """One test on a linked row; ``holds`` may also look at the test's other rows."""

    kind: ClassVar[str] = ""
    #: Evaluation order inside a block: cheap row checks first, text next, other rows last.
    cost: ClassVar[int] = 1
    #: Whether the condition looks at the row alone (not at the test's other rows).
    local: ClassVar[bool] = True

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        raise NotImplementedError

    def is_local(self) -> bool:
        return self.local

    def could_hold(self, row: LinkedRow, ctx: TestContext) -> bool:
        """False only when the row's own fields already rule the condition out (a cheap prefilter)."""
        return self.holds(row, ctx) if self.is_local() else True

    @classmethod
    def build(cls, value: Any, line: int | None) -> Condition:
        raise NotImplementedError


def build_nested(block: Any, line: int | None) -> Condition:
    from forensics.classify.registry import build_block  # the registry imports this module

    return build_block(block, line)


def compile_regex(pattern: Any, line: int | None) -> regex.Pattern[str]:
    """A case-insensitive compiled pattern; a bad one is a ``ConditionProblem`` on ``line``."""
    if not isinstance(pattern, str) or not pattern:
        raise ConditionProblem(f"regex must be a non-empty string, got {pattern!r}", line)
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION1)
    except regex.error as err:
        raise ConditionProblem(f"bad regex {pattern!r}: {err}", line) from None


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
    def build(cls, value: Any, line: int | None) -> Condition:
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


@dataclass(frozen=True)
class RoleIs(Condition):
    """``role: app`` (or a list): what kind of entry the row is (request, edge, app, audit, other)."""

    kind: ClassVar[str] = "role"
    roles: frozenset[str]

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return row.role in self.roles

    @classmethod
    def build(cls, value: Any, line: int | None) -> Condition:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in ROLES]
        if bad or not items:
            raise ConditionProblem(
                f"unknown role {bad or items!r}; roles are {', '.join(ROLES)}", line
            )
        return cls(frozenset(items))


@dataclass(frozen=True)
class AllOf(Condition):
    """``all: [ {...}, {...} ]``: every sub-block holds (a plain mapping means the same)."""

    kind: ClassVar[str] = "all"
    cost: ClassVar[int] = 2
    parts: tuple[Condition, ...]

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return all(c.holds(row, ctx) for c in self.parts)

    def is_local(self) -> bool:
        return all(c.is_local() for c in self.parts)

    def could_hold(self, row: LinkedRow, ctx: TestContext) -> bool:
        return all(c.could_hold(row, ctx) for c in self.parts)

    @classmethod
    def build(cls, value: Any, line: int | None) -> Condition:
        blocks = value if isinstance(value, list) else [value]
        if not blocks:
            raise ConditionProblem(f"{cls.kind} needs at least one block", line)
        parts: list[Condition] = []
        problems: list[ConditionProblem] = []
        for b in blocks:
            try:
                parts.append(build_nested(b, line_of(b) or line))
            except ConditionProblem as p:
                problems.append(p)
        if problems:
            raise ConditionProblems(problems)
        return cls(tuple(parts))


@dataclass(frozen=True)
class AnyOf(AllOf):
    """``any: [ {...}, {...} ]``: at least one sub-block holds."""

    kind: ClassVar[str] = "any"

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return any(c.holds(row, ctx) for c in self.parts)

    def could_hold(self, row: LinkedRow, ctx: TestContext) -> bool:
        return any(c.could_hold(row, ctx) for c in self.parts)


@dataclass(frozen=True)
class Not(Condition):
    """``not: {...}``: the sub-block does not hold."""

    kind: ClassVar[str] = "not"
    cost: ClassVar[int] = 2
    part: Condition

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return not self.part.holds(row, ctx)

    def is_local(self) -> bool:
        return self.part.is_local()

    @classmethod
    def build(cls, value: Any, line: int | None) -> Condition:
        return cls(build_nested(value, line))


def walk(cond: Condition) -> Iterator[Condition]:
    """Every condition in a tree, depth first."""
    yield cond
    for child in getattr(cond, "parts", ()) or ():
        yield from walk(child)
    part = getattr(cond, "part", None)
    if isinstance(part, Condition):
        yield from walk(part)
