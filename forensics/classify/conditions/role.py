"""``role``: what kind of entry a row is (request, edge, app, audit, other)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from forensics.classify.conditions.base import BuildBlock, Condition, ConditionProblem
from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow
from forensics.logs.kinds import ROLES


@dataclass(frozen=True)
class RoleIs(Condition):
    """``role: app`` (or a list): what kind of entry the row is (request, edge, app, audit, other)."""

    kind: ClassVar[str] = "role"
    roles: frozenset[str]

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return row.role in self.roles

    @classmethod
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        items = value if isinstance(value, list) else [value]
        bad = [v for v in items if v not in ROLES]
        if bad or not items:
            raise ConditionProblem(
                f"unknown role {bad or items!r}; roles are {', '.join(ROLES)}", line
            )
        return cls(frozenset(items))
