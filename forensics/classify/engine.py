"""Weigh rule matches over a failed test's linked rows into one verdict.

For each failed test every rule is tried on every linked row (rules are screened once per row
on the row's own fields first). A match scores ``rule.weight * strength``, the strength being the
link's (an app line tied to a failing request entry borrows some of that entry's strength).
Within one request the most specific reading wins (a named check over ``middleware_rejection``
over ``app_error``). Per label, each independent proof (one reading of one request) counts once
and proofs combine as a noisy-or, so a 429 entry *and* the limiter's line add up while one line
repeated ten times does not.

The best label wins when its support reaches ``DECIDE``. When the runner-up is strong too
(``CONFLICT``) and close (``CONFLICT_RATIO``), the verdict is ``unknown``: "conflicting evidence".
Otherwise confidence is the best support minus half the runner-up's; below ``MIN_CONFIDENCE``
the label would be a guess and the verdict is ``unknown`` too. docs/rules.md tells the story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

import polars as pl

from forensics.classify.consensus import Agreement, agreement
from forensics.classify.context import TestContext
from forensics.classify.explain import (
    Decided,
    RunnerUp,
    WeakReading,
    evidence_of,
    explanation,
    summarize,
    unknown_reason,
)
from forensics.classify.gather import app_logs_kept, build_contexts, shared_counts
from forensics.classify.rows import LinkedRow
from forensics.classify.rules import Rule, RuleSet
from forensics.correlate import Correlation
from forensics.correlate.applines import APP_JOIN_CONTESTED
from forensics.correlate.entries import ACCESS_LINE
from forensics.labels import APP_ERROR, MIDDLEWARE_REJECTION, RATE_LIMITED, UNKNOWN
from forensics.logs.kinds import with_kinds
from forensics.result import Verdict
from forensics.schema import failed as is_failed

DECIDE = 0.45  # least support that names a cause
MIN_CONFIDENCE = 0.35  # below this, after the runner-up's share, a label would be a guess
CONFLICT = 0.5  # a runner-up at least this strong...
CONFLICT_RATIO = 0.75  # ...and at least this fraction of the best makes the test undecidable
MAX_EVIDENCE = 6
#: Within one request, a reading that names a specific cause outranks a generic one: "ERROR auth
#: middleware: token expired" is invalid_jwt, not middleware_rejection, and not app_error.
_GENERIC_RANK = {APP_ERROR: 2, MIDDLEWARE_REJECTION: 1}
_ACCESS = re.compile(ACCESS_LINE)


@dataclass(frozen=True)
class Match:
    """A rule that holds on one linked row, and what that is worth."""

    rule: Rule
    row: LinkedRow
    score: float

    @property
    def match_is_local(self) -> bool:
        """Whether the rule read only the row's own fields (not the test's other rows)."""
        return self.rule.match is None or self.rule.match.is_local()


def classify(
    tests: pl.DataFrame, logs: pl.DataFrame, correlation: Correlation, rules: RuleSet
) -> list[Verdict]:
    """One verdict per failed test, in test order. Evidence summaries are redacted.

    Args:
        tests: the test frame (``TEST_SCHEMA``); only outcomes ``failed``/``error`` get a verdict.
        logs: the log frame; its ``row`` and kind columns are added when missing (``with_kinds``).
        correlation: which log rows belong to which failed test (``Correlation.links``).
        rules: the rules in force (``load_rules()``).

    Returns:
        Verdicts in the order of ``tests`` (its ``order`` column when present).
    """
    failed = tests.filter(is_failed())
    if "order" in failed.columns:
        failed = failed.sort("order", nulls_last=True, maintain_order=True)
    logs = with_kinds(logs)
    contexts = build_contexts(
        failed, logs, correlation.links, shared_counts(correlation), app_logs_kept(logs)
    )
    candidates: dict[int, list[Rule]] = {}  # shared: a row linked to several tests is screened once
    return [decide(ctx, rules, correlation.notes.get(ctx.test_id), candidates) for ctx in contexts]


def find_matches(
    ctx: TestContext, rules: RuleSet, candidates: dict[int, list[Rule]] | None = None
) -> list[Match]:
    """Every (rule, row) that holds, minus generic readings of rows a specific rule explains.

    Rules are first screened on each row's own fields (``could_hold``, shared between tests
    through ``candidates``); only the survivors are checked against the test's other rows.
    """
    return most_specific(all_readings(ctx, rules, candidates))


def all_readings(
    ctx: TestContext, rules: RuleSet, candidates: dict[int, list[Rule]] | None = None
) -> list[Match]:
    """Every (rule, row) that holds, generic readings included (see ``find_matches``)."""
    candidates = {} if candidates is None else candidates
    found: list[Match] = []
    for row in ctx.rows:
        if row.row not in candidates:
            candidates[row.row] = [
                r for r in rules if r.match is not None and r.match.could_hold(row, ctx)
            ]
        found.extend(
            Match(rule, row, rule.weight * ctx.effective_strength(row))
            for rule in candidates[row.row]
            if rule.matches(row, ctx)
        )
    return found


def most_specific(found: list[Match]) -> list[Match]:
    """The matches left when, within one request, only the most specific readings count."""
    # Within one request (its entry and its app lines), the most specific reading wins: a 500
    # whose app line names the origin check is cors_origin, not app_error.
    most_specific: dict[int, int] = {}
    for m in found:
        rank = _GENERIC_RANK.get(m.rule.label, 0)
        most_specific[m.row.group] = min(rank, most_specific.get(m.row.group, rank))
    return [m for m in found if _GENERIC_RANK.get(m.rule.label, 0) <= most_specific[m.row.group]]


class Case(NamedTuple):
    """One label's case for a test: its support (0..1) and its proofs, strongest first."""

    label: str
    support: float
    proofs: list[Match]  # the best match of each independent proof


def supports(matches: list[Match]) -> dict[str, Case]:
    """Label -> its ``Case``: the support and the best match of each independent proof.

    A proof is one reading of one request: its entry (Cloud Run / load balancer) or its app
    lines, read on their own fields or against the test's other rows (no app log for that
    request). Within a proof the best match counts (a line repeated ten times, or two wordings
    of one line, is one proof); app lines tied to no request form one pool. Proofs combine as a
    noisy-or: a 429 entry *and* the limiter's line add up, and so do the same refusal seen on
    several of the test's failing requests.
    """
    best: dict[str, dict[tuple[int, bool, bool], Match]] = {}
    for m in matches:
        if m.score <= 0:
            continue
        tied = m.row.is_request or any(r.is_request for r in m.row.same)
        key = (m.row.group if tied else -1, m.row.is_request, m.match_is_local)
        proofs = best.setdefault(m.rule.label, {})
        if key not in proofs or m.score > proofs[key].score:
            proofs[key] = m
    out = {}
    for label, proofs in best.items():
        miss = 1.0
        for m in proofs.values():
            miss *= 1.0 - m.score
        out[label] = Case(label, 1.0 - miss, sorted(proofs.values(), key=lambda m: -m.score))
    return out


def decide(
    ctx: TestContext,
    rules: RuleSet,
    note: str | None = None,
    candidates: dict[int, list[Rule]] | None = None,
) -> Verdict:
    """The verdict for one test from its context (``note``: correlate's word on what is missing)."""
    readings = own_words_first(all_readings(ctx, rules, candidates))
    found = most_specific(readings)
    table = supports(found)
    agreed = agreement(ctx, found)
    if (
        agreed is not None
        and agreed.label in table
        and agreed.support > table[agreed.label].support
    ):
        table[agreed.label] = table[agreed.label]._replace(support=agreed.support)
    else:
        agreed = None
    ranked = sorted(table.values(), key=lambda c: (-c.support, c.label))
    if not ranked or ranked[0].support < DECIDE:
        weak = None
        if ranked:
            first = ranked[0].proofs[0]
            weak = WeakReading(
                ranked[0].label, ranked[0].support, _weak_why(first), first.row.role == "app"
            )
        return _unknown(ctx, unknown_reason(ctx, note, weak), ranked)
    best = ranked[0]
    label, support = best.label, best.support
    contested = contested_conflict(label, readings) or contested_against_entry(label, readings)
    if contested:
        return _unknown(ctx, contested + (f" (correlation: {note})" if note else ""), ranked)
    bare = all(m.row.is_request and not (m.row.get("message") or "").strip() for m in best.proofs)
    if not ctx.app_logs_kept and label == APP_ERROR and bare:
        reason = (
            "the export keeps none of the app's lines below WARNING (filtered to warnings): "
            "a 5xx entry alone does not say why the request failed"
        )
        return _unknown(ctx, reason + (f" (correlation: {note})" if note else ""), ranked)
    runner = RunnerUp(ranked[1].label, ranked[1].support) if len(ranked) > 1 else None
    if runner and runner.support >= CONFLICT and runner.support >= CONFLICT_RATIO * support:
        reason = f"conflicting evidence: {label} ({support:.2f}) vs {runner.label} ({runner.support:.2f})"
        return _unknown(ctx, reason + (f" (correlation: {note})" if note else ""), ranked)
    confidence = round(min(max(support - 0.5 * (runner.support if runner else 0.0), 0.0), 1.0), 2)
    if confidence < MIN_CONFIDENCE:
        first = best.proofs[0]
        against = f", against {runner.label} at {runner.support:.2f}" if runner else ""
        weak = WeakReading(label, support, _weak_why(first) + against, first.row.role == "app")
        return _unknown(ctx, unknown_reason(ctx, note, weak), ranked)
    rows = _evidence_rows(best.proofs, ctx)
    decided = Decided(
        label=label,
        detail=next((m.rule.detail for m in best.proofs if m.rule.detail), None),
        evidence=tuple(rows),
        rule_ids=tuple(dict.fromkeys(m.rule.id for m in best.proofs)),
        proofs=len(best.proofs),
        confidence=confidence,
        support=support,
        runner_up=runner,
    )
    return Verdict(
        test_id=ctx.test_id,
        root_cause=label,
        confidence=confidence,
        layer=_layer(label, best.proofs, ctx),
        evidence=tuple(evidence_of(r) for r in rows),
        explanation=explanation(decided, ctx)
        + (_agreement_sentence(agreed) if agreed is not None and agreed.label == label else ""),
        detail=decided.detail,
        rule=best.proofs[0].rule.id,
    )


def own_words_first(readings: list[Match]) -> list[Match]:
    """The readings without contested lines of a request whose own app lines say why it failed.

    A line joined by time as near to another client's failing request as to this test's
    (``app_join_contested``) may be that client's reason: where the request's own app lines (by
    trace, or uncontested; not mere access lines) say why it failed, it never outranks them.
    """
    own = {m.row.group for m in readings if _own_words(m)}
    return [m for m in readings if m.row.via != APP_JOIN_CONTESTED or m.row.group not in own]


def _own_words(m: Match) -> bool:
    """The match reads an app line that is the request's own and says more than its status."""
    row = m.row
    return (
        row.role == "app"
        and row.via != APP_JOIN_CONTESTED
        and m.score > 0
        and not _ACCESS.search(str(row.get("message") or ""))
    )


def contested_against_entry(label: str, readings: list[Match]) -> str | None:
    """Why ``label`` cannot be told when only contested lines say it and the request's own entry
    (or access line) says another cause: whose line it is decides the verdict, and time cannot."""
    firm = [m for m in readings if m.row.via != APP_JOIN_CONTESTED]
    firm_case = supports(most_specific([m for m in firm if m.rule.label == label])).get(label)
    if firm_case is not None and firm_case.support >= DECIDE:
        return None
    groups = {
        m.row.group for m in readings if m.row.via == APP_JOIN_CONTESTED and m.rule.label == label
    }
    other = sorted({m.rule.label for m in firm if m.row.group in groups and m.rule.label != label})
    if not other:
        return None
    return (
        f"conflicting evidence: an untraced line as near to another client's failing request as "
        f"to this test's says {label}; the request's own entry says {', '.join(other)}"
    )


def contested_conflict(label: str, readings: list[Match]) -> str | None:
    """Why ``label`` cannot be told, when it rests on contested untraced lines that disagree.

    Two clients fail on one route at once and the app writes untraced lines naming neither:
    correlate marks each line ``app_join_contested`` (as near to another failing request). If
    those lines name different causes, which one is this test's is a guess, however the time
    join paired them; a cause also proved by uncontested rows still stands.
    """
    per_line: dict[int, dict[str, int]] = {}  # contested line -> its labels and their rank
    for m in readings:
        if m.row.via == APP_JOIN_CONTESTED and m.rule.label != APP_ERROR:
            per_line.setdefault(m.row.row, {})[m.rule.label] = _GENERIC_RANK.get(m.rule.label, 0)
    # each line's most specific reading: one line read two ways is not two lines disagreeing
    says = [
        {lab for lab, rank in labels.items() if rank == min(labels.values())}
        for labels in per_line.values()
    ]
    if not any(label in s for s in says) or all(label in s for s in says):
        return None
    firm = [m for m in readings if m.rule.label == label and m.row.via != APP_JOIN_CONTESTED]
    firm_case = supports(most_specific(firm)).get(label)
    if firm_case is not None and firm_case.support >= DECIDE:
        return None
    others = sorted({lab for s in says if label not in s for lab in s})
    return (
        f"conflicting evidence: untraced lines as near to another client's failing request as "
        f"to this test's, naming neither, disagree: {label} vs {', '.join(others)}"
    )


def _weak_why(match: Match) -> str:
    """The line that fell short, and why it counts little: how it is tied to the test."""
    return (
        f"{summarize(match.row)} [{match.rule.description.rstrip('.')}; tied to this test by "
        f"{match.row.via or 'window'} at {match.row.strength:.2f}]"
    )


def _agreement_sentence(agreed: Agreement) -> str:
    return (
        f" This test's own request could not be told apart from other failed tests' "
        f"({agreed.candidates} failing candidate request(s) shared between them), but every "
        f"candidate whose log says why ({agreed.explained}) says {agreed.label}."
    )


def _evidence_rows(best: list[Match], ctx: TestContext) -> list[LinkedRow]:
    """The deciding rows plus the request entries they belong to, oldest first."""
    chosen: dict[int, LinkedRow] = {}
    for m in best:
        for r in [m.row, *ctx.request_of(m.row)]:
            if len(chosen) < MAX_EVIDENCE:
                chosen.setdefault(r.row, r)
    return sorted(
        chosen.values(), key=lambda r: (r.get("timestamp") is None, r.get("timestamp") or 0, r.row)
    )


def _layer(label: str, best: list[Match], ctx: TestContext) -> str | None:
    """The label's layer; for rate_limited, where the 429 came from."""
    if label != RATE_LIMITED:
        return best[0].rule.layer
    layers = [m.rule.layer for m in best if m.rule.layer]
    if layers:
        return layers[0]
    rows = [r for m in best for r in (m.row, *ctx.same_request(m.row))]
    if any(r.role == "app" for r in rows):
        return "app"
    # a load balancer that passed the backend's own 429 through says so
    if any(
        isinstance(r.payload, dict) and r.payload.get("statusDetails") == "response_sent_by_backend"
        for r in rows
    ):
        return "app"
    return None


def _unknown(ctx: TestContext, reason: str, ranked: list[Case]) -> Verdict:
    rows: list[LinkedRow] = []
    for case in ranked[:2]:
        rows.extend(m.row for m in case.proofs[:1])
    if not rows:  # show what was linked that failed, so the reader can look for the rest
        rows = sorted(
            (r for r in ctx.requests if (r.get("http_status") or 0) >= 400),
            key=lambda r: -r.strength,
        )[:2]
    seen: dict[int, LinkedRow] = {r.row: r for r in rows}
    return Verdict(
        test_id=ctx.test_id,
        root_cause=UNKNOWN,
        confidence=0.0,
        layer=None,
        evidence=tuple(evidence_of(r) for r in seen.values()),
        explanation=f"No cause decided: {reason}.",
        reason=reason,
    )
