"""The condition kinds of a rule's ``match`` block, and the one registry that builds them.

A ``match`` block is a mapping; every key is one condition and all of them must hold. Keys are
either a condition kind from ``CONDITIONS`` (``message``, ``any``, ``no_app_log``, ...) or a field:
a log-frame column (``http_status``, ``log_id``, ``severity``, ...) or a path into the entry's JSON
(``payload.enforcedSecurityPolicy.outcome``, ``payload.authorizationInfo[].granted``,
``labels.reason``). docs/rules.md documents every kind.

To add a kind: a frozen ``Condition`` subclass with a ``kind`` name, ``holds`` and ``build`` in the
module of its family (``text``, ``role``, ``logic``, ``fields``, ``structure``), then list it in
``CONDITIONS`` here. ``build`` is handed ``build_block`` for nested blocks, so no module of the
package imports this one.
"""

from __future__ import annotations

import difflib
from typing import Any

from forensics.classify.conditions.base import (
    Condition,
    ConditionProblem,
    ConditionProblems,
    line_of,
)
from forensics.classify.conditions.fields import FIELD_COLUMNS, FieldMatches, is_field
from forensics.classify.conditions.logic import AllOf, AnyOf, Not
from forensics.classify.conditions.role import RoleIs
from forensics.classify.conditions.structure import AppLogHas, NoAppLog, RequestHas
from forensics.classify.conditions.text import MessageMatches, TextMatches

__all__ = [
    "CONDITIONS",
    "Condition",
    "ConditionProblem",
    "ConditionProblems",
    "build_block",
    "line_of",
]

#: Condition kind -> class. Field conditions (columns, ``payload.``/``labels.`` paths) are not here:
#: ``build_block`` recognises them by name.
CONDITIONS: dict[str, type[Condition]] = {
    c.kind: c
    for c in (
        MessageMatches,
        TextMatches,
        RoleIs,
        AllOf,
        AnyOf,
        Not,
        NoAppLog,
        RequestHas,
        AppLogHas,
    )
}


def build_block(block: Any, line: int | None) -> Condition:
    """A ``match`` mapping -> one condition (all keys must hold); problems carry their line."""
    if not isinstance(block, dict) or not block:
        raise ConditionProblem(
            f"a condition block must be a non-empty mapping, got {block!r}", line
        )
    parts: list[Condition] = []
    problems: list[ConditionProblem] = []
    for key, value in block.items():
        key_line = line_of(block, key) or line
        try:
            if key in CONDITIONS:
                parts.append(CONDITIONS[key].build(value, key_line, build_block))
            elif isinstance(key, str) and is_field(key):
                parts.append(FieldMatches.build_field(key, value, key_line))
            else:
                names = [*CONDITIONS, *FIELD_COLUMNS]
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "see docs/rules.md for fields and kinds"
                )
                raise ConditionProblem(f"unknown field or condition {key!r} ({hint})", key_line)
        except ConditionProblems as many:
            problems.extend(many.problems)
        except ConditionProblem as one:
            problems.append(one)
    if problems:
        raise ConditionProblems(problems)
    return parts[0] if len(parts) == 1 else AllOf(tuple(sorted(parts, key=lambda c: c.cost)))
