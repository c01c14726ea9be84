"""Agreement among shared candidates: when a test's own request cannot be told apart.

Without per-test start times (JUnit) several failed tests can overlap, and correlate links each
of them to every failing request of the overlap, its strength divided among them (``shared``).
Weighted by those divided strengths, even a clear decision line counts for little. But if every
failing candidate request was refused for the same reason, which of them is this test's own does
not matter: the cause is the same. This module finds that agreement and scores it on the
undivided strengths, a little below what the test's own evidence would get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow

#: Agreement among candidates is worth a little less than evidence known to be the test's own.
AGREEMENT_DISCOUNT = 0.9
#: A candidate request counts as explained when its own lines support a label this much.
EXPLAINED = 0.45


@dataclass(frozen=True)
class Agreement:
    """Every explained failing candidate of a test points at one label."""

    label: str
    support: float
    explained: int  # failing candidate requests whose lines support the label
    candidates: int  # failing candidate requests linked to the test


def _noisy_or(scores: list[float]) -> float:
    miss = 1.0
    for s in scores:
        miss *= 1.0 - s
    return 1.0 - miss


def agreement(ctx: TestContext, matches: list[Any]) -> Agreement | None:
    """The label all failing shared candidates agree on, or None when there is no such agreement.

    Args:
        ctx: the test's linked rows.
        matches: the engine's ``Match`` objects (rule, row, score) for this test.
    """
    failing: dict[int, list[LinkedRow]] = {}
    for row in ctx.requests:
        if (row.get("http_status") or 0) >= 400:
            failing.setdefault(row.group, []).append(row)
    if not failing or not any(r.share > 1 for rows in failing.values() for r in rows):
        return None  # nothing was divided: the ordinary weighing already says it all
    per_group: dict[int, dict[str, dict[str, float]]] = {}
    for m in matches:
        g = m.row.group
        if g not in failing:
            continue
        score = m.rule.weight * ctx.effective_strength(m.row, undivided=True)
        rules = per_group.setdefault(g, {}).setdefault(m.rule.label, {})
        rules[m.rule.id] = max(score, rules.get(m.rule.id, 0.0))
    verdicts: dict[int, tuple[str, float]] = {}
    for g, labels in per_group.items():
        scored = sorted(
            ((_noisy_or(list(r.values())), lab) for lab, r in labels.items()), reverse=True
        )
        if scored and scored[0][0] >= EXPLAINED:
            verdicts[g] = (scored[0][1], scored[0][0])
    named = {lab for lab, _ in verdicts.values()}
    if len(named) != 1:
        return None
    label = named.pop()
    coverage = len(verdicts) / len(failing)
    best = max(s for _, s in verdicts.values())
    return Agreement(label, best * coverage * AGREEMENT_DISCOUNT, len(verdicts), len(failing))
