"""Structural conditions: what the test's other linked rows show about this row's request.

``no_app_log`` (did the container answer this request at all?), ``request`` (a request entry of
this request matches a block: status 429, a 5xx, ...) and ``app_log`` (an app line of this
request matches a block). "This request" is the group ``TestContext`` builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from forensics.classify.conditions.base import BuildBlock, Condition, ConditionProblem
from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow


@dataclass(frozen=True)
class NoAppLog(Condition):
    """``no_app_log: true``: no app line belongs to this row's request (false: at least one does).

    In an export filtered to warnings (app lines, none below WARNING) a missing app line proves
    nothing, and ``no_app_log: true`` never holds.
    """

    kind: ClassVar[str] = "no_app_log"
    cost: ClassVar[int] = 3
    local: ClassVar[bool] = False
    expected: bool

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        has_app = row.role == "app" or any(r.role == "app" for r in ctx.same_request(row))
        if self.expected and not has_app and not ctx.app_logs_kept:
            return False
        return has_app != self.expected

    @classmethod
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        if not isinstance(value, bool):
            raise ConditionProblem(f"no_app_log must be true or false, got {value!r}", line)
        return cls(value)


@dataclass(frozen=True)
class RequestHas(Condition):
    """``request: {...}``: a request entry of this row's request matches the block.

    An app line tied to no request entry is checked against the test's failing request entries
    (all of them when none failed).
    """

    kind: ClassVar[str] = "request"
    cost: ClassVar[int] = 3
    local: ClassVar[bool] = False
    part: Condition

    def _candidates(self, row: LinkedRow, ctx: TestContext) -> list[LinkedRow]:
        own = ctx.request_of(row)
        if own or row.is_request:
            return own
        # A line tied to no request entry is read against the test's failing requests: if it is
        # about anything the test did, it is about what failed.
        failing = [r for r in ctx.requests if (r.get("http_status") or 0) >= 400]
        return failing or ctx.requests

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        return any(self.part.holds(r, ctx) for r in self._candidates(row, ctx))

    @classmethod
    def build(cls, value: Any, line: int | None, nested: BuildBlock) -> Condition:
        return cls(nested(value, line))


@dataclass(frozen=True)
class AppLogHas(RequestHas):
    """``app_log: {...}``: an app line of this row's request matches the block."""

    kind: ClassVar[str] = "app_log"

    def _candidates(self, row: LinkedRow, ctx: TestContext) -> list[LinkedRow]:
        own = [row] if row.role == "app" else []
        return own + [r for r in ctx.same_request(row) if r.role == "app"]
