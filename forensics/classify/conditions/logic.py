"""The combinators: ``all``, ``any`` and ``not`` over nested blocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from forensics.classify.conditions.base import (
    BuildBlock,
    Condition,
    ConditionProblem,
    ConditionProblems,
    line_of,
)
from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow


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
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        blocks = value if isinstance(value, list) else [value]
        if not blocks:
            raise ConditionProblem(f"{cls.kind} needs at least one block", line)
        parts: list[Condition] = []
        problems: list[ConditionProblem] = []
        for b in blocks:
            try:
                parts.append(nested(b, line_of(b) or line))
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
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        return cls(nested(value, line))
