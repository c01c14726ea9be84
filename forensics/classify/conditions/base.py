"""What every condition is: the ``Condition`` base, its build problems, and regex compiling.

A condition kind is a small frozen class with ``build`` (from the YAML value, validated; nested
blocks are built with the ``nested`` builder it is handed, the registry's ``build_block``) and
``holds`` (on a linked row, with the test's context).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import regex

from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow


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
        self.problems: list[ConditionProblem] = flat


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
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        raise NotImplementedError


#: Builds a nested ``match`` block (the registry's ``build_block``), handed to every ``build``.
BuildBlock = Callable[[Any, "int | None"], Condition]


def compile_regex(pattern: Any, line: int | None) -> regex.Pattern[str]:
    """A case-insensitive compiled pattern; a bad one is a ``ConditionProblem`` on ``line``."""
    if not isinstance(pattern, str) or not pattern:
        raise ConditionProblem(f"regex must be a non-empty string, got {pattern!r}", line)
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION1)
    except regex.error as err:
        raise ConditionProblem(f"bad regex {pattern!r}: {err}", line) from None
