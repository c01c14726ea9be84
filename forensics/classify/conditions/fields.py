"""Field conditions: a log-frame column or a path into the entry's JSON, compared with a value.

Value forms (docs/rules.md has examples)::

    http_status: 403                 equality (strings compare case-insensitively)
    http_status: [401, 403]          in-list
    http_status: {gte: 500, lt: 600} comparisons: gt, gte, lt, lte (severity compares by rank)
    log_id: {regex: 'requests$'}     regex search (case-insensitive)
    payload.rateLimitAction: {exists: true}
    payload.authorizationInfo[].granted: false   ``[]`` walks every element of a list

A path's condition holds when any value it reaches matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from forensics.classify.conditions.base import Condition, ConditionProblem, compile_regex
from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow
from forensics.schema import LOG_SCHEMA, SEVERITIES

_SKIP_COLUMNS = {"timestamp", "receive_timestamp"}
#: Columns a rule may test, in frame order.
FIELD_COLUMNS: tuple[str, ...] = tuple(c for c in LOG_SCHEMA if c not in _SKIP_COLUMNS)
_NUMERIC = {c for c, t in LOG_SCHEMA.items() if t in (pl.Int32(), pl.Int64(), pl.Float64())}
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_OPS = ("in", "regex", "gt", "gte", "lt", "lte", "exists")
_MISSING = object()


def is_field(key: str) -> bool:
    """Whether ``key`` names a field: a column or a ``payload.``/``labels.`` path."""
    return key in FIELD_COLUMNS or key.startswith(("payload.", "labels."))


def _path_values(doc: Any, segments: tuple[str, ...]) -> list[Any]:
    values = [doc]
    for seg in segments:
        many = seg.endswith("[]")
        name = seg[:-2] if many else seg
        nxt: list[Any] = []
        for v in values:
            child = v.get(name, _MISSING) if isinstance(v, dict) else _MISSING
            if child is _MISSING:
                continue
            if many:
                if isinstance(child, list):
                    nxt.extend(child)
            else:
                nxt.append(child)
        values = nxt
    return values


def _scalar_ok(column: str | None, value: Any, line: int | None) -> None:
    if isinstance(value, (dict, list)):
        raise ConditionProblem(f"expected a scalar value, got {value!r}", line)
    if column in _NUMERIC and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ConditionProblem(f"{column} is a number column; {value!r} is not a number", line)
    if column == "severity" and value not in _SEVERITY_RANK:
        raise ConditionProblem(f"unknown severity {value!r}; one of {', '.join(SEVERITIES)}", line)
    if (
        column is not None
        and column not in _NUMERIC
        and value is not None
        and not isinstance(value, str)
    ):
        raise ConditionProblem(f"{column} is a text column; {value!r} is not a string", line)


def _norm(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


@dataclass(frozen=True)
class FieldMatches(Condition):
    """One field compared with a value (see the module docstring for the forms)."""

    kind: ClassVar[str] = "field"
    name: str
    column: str | None  # a log-frame column, or None for a JSON path
    source: str | None  # "payload" or "labels" for a path
    segments: tuple[str, ...]
    ops: tuple[tuple[str, Any], ...]

    def _values(self, row: LinkedRow) -> list[Any]:
        if self.column is not None:
            v = row.get(self.column)
            return [] if v is None else [v]
        doc = row.payload if self.source == "payload" else row.labels
        return [v for v in _path_values(doc, self.segments) if v is not None]

    def holds(self, row: LinkedRow, ctx: TestContext) -> bool:
        key = (id(self), row.row)
        if key not in ctx.memo:
            ctx.memo[key] = self._holds(row)
        return ctx.memo[key]

    def _holds(self, row: LinkedRow) -> bool:
        values = self._values(row)
        for op, arg in self.ops:
            if op == "exists":
                if bool(values) != arg:
                    return False
            elif not any(self._one(op, arg, v) for v in values):
                return False
        return True

    def _one(self, op: str, arg: Any, value: Any) -> bool:
        if op == "eq":
            if isinstance(arg, bool) or isinstance(value, bool):
                return value is arg
            return bool(_norm(value) == _norm(arg))
        if op == "in":
            return any(self._one("eq", a, value) for a in arg)
        if op == "regex":
            return arg.search(value if isinstance(value, str) else str(value)) is not None
        if self.column == "severity":
            value, arg = _SEVERITY_RANK.get(str(value), -1), _SEVERITY_RANK[arg]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return {"gt": value > arg, "gte": value >= arg, "lt": value < arg, "lte": value <= arg}[op]

    @classmethod
    def build_field(cls, key: str, value: Any, line: int | None) -> Condition:
        column = key if key in FIELD_COLUMNS else None
        source: str | None = None
        segments: tuple[str, ...] = ()
        if column is None:
            source, _, path = key.partition(".")
            segments = tuple(path.split("."))
            if not path or any(s in ("", "[]") for s in segments):
                raise ConditionProblem(
                    f"bad path {key!r}: use payload.a.b or payload.list[].field", line
                )
        return cls(key, column, source, segments, cls._ops(column, value, line))

    @staticmethod
    def _ops(column: str | None, value: Any, line: int | None) -> tuple[tuple[str, Any], ...]:
        if isinstance(value, list):
            if not value:
                raise ConditionProblem("an in-list needs at least one value", line)
            for v in value:
                _scalar_ok(column, v, line)
            return (("in", tuple(value)),)
        if not isinstance(value, dict):
            _scalar_ok(column, value, line)
            return (("eq", value),)
        if not value:
            raise ConditionProblem("an empty mapping compares nothing", line)
        ops: list[tuple[str, Any]] = []
        for op, arg in value.items():
            if op not in _OPS:
                raise ConditionProblem(f"unknown comparison {op!r}; one of {', '.join(_OPS)}", line)
            if op == "regex":
                ops.append((op, compile_regex(arg, line)))
            elif op == "exists":
                if not isinstance(arg, bool):
                    raise ConditionProblem(f"exists must be true or false, got {arg!r}", line)
                ops.append((op, arg))
            elif op == "in":
                ops.extend(
                    FieldMatches._ops(column, list(arg) if isinstance(arg, list) else arg, line)
                )
            else:
                numeric_ok = column in _NUMERIC or column is None
                if column == "severity":
                    _scalar_ok(column, arg, line)
                elif not numeric_ok or isinstance(arg, bool) or not isinstance(arg, (int, float)):
                    raise ConditionProblem(
                        f"{op} needs a number (or a severity), got {arg!r} for {column or 'path'}",
                        line,
                    )
                ops.append((op, arg))
        return tuple(ops)
