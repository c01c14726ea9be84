"""Words of a verdict: one-line evidence summaries, the explanation paragraph, unknown reasons.

Everything here that can carry log text goes through ``scrub`` (the project's redaction), so
tokens, cookies and bypass keys quoted by a log line never reach a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

import regex

from forensics.classify.context import TestContext
from forensics.classify.rows import LinkedRow
from forensics.labels import LAYERS, WHAT_HAPPENED
from forensics.redact import redact, shorten
from forensics.result import Evidence

_TRACEBACK = regex.compile(r"Traceback \(most recent call last\)")
_WS_HINT = regex.compile(r"websocket|\bws\b|/ws\b|InvalidStatus|handshake", regex.IGNORECASE)


def scrub(text: str | None) -> str:
    """``text`` with secrets replaced (the project's ``redact``), "" for nothing."""
    return (redact(text) or "") if text else ""


def rfc3339(value: object) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return ""


def _one_line(message: str | None, limit: int = 160) -> str:
    """One line of ``message``, redacted before it is cut: a cut never leaves part of a secret."""
    text = scrub(message).strip()
    if not text:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    # A traceback's first line says nothing; its last line names the exception.
    line = lines[-1] if _TRACEBACK.search(text) and len(lines) > 1 else lines[0]
    return shorten(line, limit)


def summarize(row: LinkedRow) -> str:
    """One line for an evidence row: ``403 GET /ws run.googleapis.com/requests`` or ``WARNING app: ...``."""
    if row.is_request:
        parts = [
            str(row.get("http_status") or "-"),
            row.get("http_method") or "-",
            row.get("http_path") or row.get("http_url") or "-",
        ]
        parts.append(row.get("log_id") or "")
        payload = row.payload if isinstance(row.payload, dict) else {}
        details = payload.get("statusDetails")
        if details:
            parts.append(f"[{details}]")
        parts.extend(_policy(payload))
        text = _one_line(row.get("message"), 120)
        if text == details:  # the loader uses statusDetails as an LB entry's message
            text = ""
        return scrub(" ".join(p for p in parts if p) + (f": {text}" if text else ""))
    who = row.get("service") or ("app" if row.role == "app" else row.get("log_id") or row.role)
    severity = row.get("severity") or "DEFAULT"
    return scrub(f"{severity} {who}: {_one_line(row.get('message')) or '(no message)'}")


def _policy(payload: dict[str, object]) -> list[str]:
    """Cloud Armor's decision in words: which policy and rule priority matched (the remediation)."""
    out = []
    for key in ("enforcedSecurityPolicy", "enforcedEdgeSecurityPolicy"):
        policy = payload.get(key)
        if not isinstance(policy, dict):
            continue
        words = [f"policy {policy.get('name') or '?'}"]
        if policy.get("priority") is not None:
            words.append(f"priority {policy['priority']}")
        if policy.get("configuredAction"):
            words.append(f"action {policy['configuredAction']}")
        limit = policy.get("rateLimitAction")
        if isinstance(limit, dict) and limit.get("outcome"):
            words.append(f"rate limit {limit['outcome']}")
        if policy.get("outcome"):
            words.append(f"outcome {policy['outcome']}")
        out.append(", ".join(words))
    return out


def evidence_of(row: LinkedRow) -> Evidence:
    return Evidence(
        insert_id=row.get("insert_id") or f"row:{row.row}",
        timestamp=rfc3339(row.get("timestamp")),
        log_id=row.get("log_id") or "",
        summary=summarize(row),
        log_name=row.get("log_name"),
    )


def is_websocket(ctx: TestContext, row: LinkedRow | None = None) -> bool:
    """Whether the failure looks like a WebSocket handshake (test message, path or app line)."""
    texts = [ctx.test_message or ""]
    if row is not None:
        texts += [
            row.get("http_path") or "",
            row.get("message") or "",
            row.get("http_protocol") or "",
        ]
    return any(_WS_HINT.search(t) for t in texts)


class WeakReading(NamedTuple):
    """The best label that fell short of deciding."""

    label: str
    support: float
    why: str  # the line that fell short, and how it is tied to the test
    from_app_line: bool  # whether the line is the app's own


class RunnerUp(NamedTuple):
    """The second-best label of a decided test."""

    label: str
    support: float


@dataclass(frozen=True)
class Decided:
    """What decided a test: its label, the rows and rules behind it, and what the confidence rests on."""

    label: str
    detail: str | None  # finer cause from the rule: "expired", "bad_signature", ...
    evidence: tuple[LinkedRow, ...]  # the deciding rows and their requests, oldest first
    rule_ids: tuple[str, ...]
    proofs: int  # independent proofs behind the support
    confidence: float
    support: float
    runner_up: RunnerUp | None


def unknown_reason(ctx: TestContext, note: str | None, weak: WeakReading | None) -> str:
    """Why nothing decides for this test, in one sentence a user can act on.

    Args:
        ctx: the test's linked rows.
        note: correlate's note for the test (what it could not link), if any.
        weak: the best label that fell short, if any.
    """
    if not ctx.rows:
        return note or "no log entries linked to this test (nothing in its window)"
    parts = []
    if weak is not None and weak.support >= 0.15:
        parts.append(f"only weak evidence for {weak.label} ({weak.support:.2f}): {weak.why}")
    if weak is None or weak.support < 0.15 or not weak.from_app_line:  # no app line says why
        parts.append(_structure_reason(ctx))
    if note:
        parts.append(f"correlation: {note}")
    return "; ".join(p for p in parts if p)


def _structure_reason(ctx: TestContext) -> str:
    """What the linked rows show about the failing request, when no rule decides."""
    rejected = [r for r in ctx.requests if (r.get("http_status") or 0) in (401, 403)]
    if rejected:
        req = max(rejected, key=lambda r: r.strength)
        if any(r.role == "app" for r in ctx.same_request(req)):
            return _from_app(ctx, req)
        return (
            f"{req.get('http_status')} with no app log for this request and no front-end text naming the "
            f"cause ({summarize(req)}); the export may lack the app's logs"
        )
    bare = [r for r in ctx.app_rows if _BARE_REJECT.search(r.get("message") or "")]
    if bare:
        return _from_app(ctx, bare[0])
    errors = [r for r in ctx.requests if (r.get("http_status") or 0) >= 400]
    if errors:
        return f"{len(errors)} failing request entries ({summarize(errors[0])}) but no rule explains them"
    if ctx.requests and not ctx.app_rows:
        # only the runner's successful calls around the test (context): its failing call left
        # no entry (a client timeout, a network error, a call that never reached the service)
        return (
            f"no failing request from the runner in the window, only {len(ctx.requests)} successful "
            f"one(s) nearby ({summarize(ctx.requests[0])}); the failing call may never have reached "
            "the service"
        )
    return f"{len(ctx.rows)} linked entries, none shows a rejection, an error or an app decision"


_BARE_REJECT = regex.compile(
    r'"WebSocket [^"]*" 403|connection rejected \(403|\bWebSocket\b.*\bREJECT\b', regex.IGNORECASE
)


def _from_app(ctx: TestContext, row: LinkedRow) -> str:
    status = row.get("http_status") or 403
    tail = (
        "; Starlette/uvicorn answer 403 to any WebSocket closed before accept(), so the status alone does "
        "not tell a missing or invalid token, a refused origin, a missing bypass header or a middleware apart"
        if is_websocket(ctx, row)
        else ""
    )
    return f"{status} from the app but no app log says why ({summarize(row)}){tail}"


def explanation(decided: Decided, ctx: TestContext) -> str:
    """The paragraph: what happened, which entries prove it, what the confidence rests on."""
    d = decided
    what = WHAT_HAPPENED[d.label] + (f" ({d.detail})" if d.detail else "")
    proofs = "; ".join(f"{summarize(r)} at {rfc3339(r.get('timestamp'))}" for r in d.evidence)
    vias = sorted({r.via for r in d.evidence if r.via})
    strongest = max((r.strength for r in d.evidence), default=0.0)
    stopped = ""
    if LAYERS.get(d.label) == "edge" and not any(
        r.role == "app" for e in d.evidence for r in [e, *e.same]
    ):
        stopped = " No app log belongs to this request: it was stopped before the container."
    runner = (
        f"; runner-up {d.runner_up.label} at {d.runner_up.support:.2f}"
        if d.runner_up
        else "; no other cause is supported"
    )
    return scrub(
        f"{what[0].upper()}{what[1:]}. Entries: {proofs}.{stopped} Rules: {', '.join(d.rule_ids)}. "
        f"Confidence {d.confidence:.2f}: support {d.support:.2f} from {d.proofs} independent proof(s) over rows linked by "
        f"{', '.join(vias) or 'unknown'} (strongest link {strongest:.2f}){runner}."
    )
