"""What a triage answers: one verdict per failed test, and the run they belong to.

These are the shapes of the JSON contract (``TriageResult.to_dict``)::

    {"run": {...}, "failures": [{"test_id", "root_cause", "confidence", "layer",
      "evidence": [{"insert_id", "timestamp", "log_id", "summary"}], "explanation"}],
     "summary": {...}}

``run`` is ``RunFacts`` (``forensics.runfacts``): the inputs read, the runner's clock and
fingerprint, the rule count.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from forensics.correlate.link import TEST_TIME_SCHEMA, Correlation
from forensics.labels import LABELS, UNKNOWN
from forensics.oneline import clip
from forensics.redact import redact as _redact
from forensics.redact import redaction_counts
from forensics.runfacts import ClockFacts, RunFacts

#: The notebook table's "why" column is cut here, at a word, with an ellipsis.
WHY_HTML_LIMIT = 300


def _safe_repr(obj: Any) -> str:
    """``Name(field=value, ...)`` with every string redacted: reprs end up in notebooks and logs."""
    fields = ", ".join(
        f"{name}={_safe_value(getattr(obj, name))}"
        for name in obj.__dataclass_fields__
        if obj.__dataclass_fields__[name].repr
    )
    return f"{type(obj).__name__}({fields})"


def _safe_value(value: Any) -> str:
    if isinstance(value, str):
        return repr(_redact(value))
    if isinstance(value, tuple):
        return (
            "(" + ", ".join(_safe_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_safe_value(v) for v in value) + "]"
    return repr(value)


def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map_strings(v, fn) for v in value]
    return value


@dataclass(frozen=True)
class Evidence:
    """One log entry that backs a verdict."""

    insert_id: str
    timestamp: str  # RFC 3339, UTC, as in the entry
    log_id: str
    summary: str  # one redacted line: "403 GET /ws (run.googleapis.com/requests)"
    log_name: str | None = None  # full logName, to find the entry again

    def __repr__(self) -> str:
        return _safe_repr(self)


@dataclass(frozen=True)
class Verdict:
    """The root cause of one failed test."""

    test_id: str
    root_cause: str
    confidence: float
    layer: str | None
    evidence: tuple[Evidence, ...]
    explanation: str
    detail: str | None = None  # finer cause from the rule: "expired", "bad_signature", ...
    rule: str | None = None  # id of the rule that decided
    reason: str | None = None  # for unknown: what is missing

    def __post_init__(self) -> None:
        if self.root_cause not in LABELS:
            raise ValueError(f"root_cause {self.root_cause!r} is not a TAXONOMY label")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence"] = [asdict(e) for e in self.evidence]
        return d

    def __repr__(self) -> str:
        return _safe_repr(self)


@dataclass(frozen=True)
class Skipped:
    """Input that was passed over, counted by reason (never silently dropped)."""

    source: str  # file path
    reason: str  # "not JSON", "not a LogEntry", "no timestamp", ...
    count: int
    first_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        return _safe_repr(self)


@dataclass
class TriageResult:
    """The answer of a triage: verdicts plus the frames they came from."""

    verdicts: list[Verdict]
    run: RunFacts  # inputs, how the logs were read (clock, fingerprint), rule count
    logs: pl.DataFrame = field(repr=False)
    tests: pl.DataFrame = field(repr=False)
    skipped: list[Skipped] = field(default_factory=list)
    #: How failed tests were tied to log rows (windows, links, each test's times on Google's
    #: clock); None if built by hand without one.
    correlation: Correlation | None = field(default=None, repr=False)
    #: Secrets are redacted in every output unless the user turned this off (``--no-redact``).
    redact: bool = True

    def __repr__(self) -> str:
        summary = self.summary
        causes = ", ".join(f"{k} {n}" for k, n in summary["by_root_cause"].items()) or "none"
        return (
            f"TriageResult({len(self.verdicts)} failed test(s): {causes}; "
            f"{self.logs.height} log rows; skipped {summary['skipped_input']}; redact={self.redact})"
        )

    @property
    def clock(self) -> ClockFacts | None:
        """The runner's clock as the triage used it (``run.correlation``), None when unknown."""
        return self.run.clock

    @property
    def test_times(self) -> pl.DataFrame:
        """Each test's start and stop on Google's clock (``Correlation.test_times``): the only
        times reports show; empty without a correlation."""
        if self.correlation is None:
            return pl.DataFrame(schema=TEST_TIME_SCHEMA)
        return self.correlation.test_times

    def scrub(self, text: str | None) -> str | None:
        """``text`` as it may be shown: redacted unless redaction is off."""
        return _redact(text) if self.redact else text

    @property
    def summary(self) -> dict[str, Any]:
        by_cause: dict[str, int] = {}
        for v in self.verdicts:
            by_cause[v.root_cause] = by_cause.get(v.root_cause, 0) + 1
        return {
            "failed_tests": len(self.verdicts),
            "by_root_cause": dict(sorted(by_cause.items(), key=lambda kv: (-kv[1], kv[0]))),
            "unknown": by_cause.get(UNKNOWN, 0),
            "skipped_input": sum(s.count for s in self.skipped),
        }

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract, every string passed through ``scrub``; ``run.redacted`` counts the
        secrets it hides by kind (distinct values, never the values)."""
        raw = {
            "run": {**self.run.to_dict(), "skipped": [s.to_dict() for s in self.skipped]},
            "failures": [v.to_dict() for v in self.verdicts],
            "summary": self.summary,
        }
        out: dict[str, Any] = _map_strings(raw, self.scrub) if self.redact else raw
        out["run"]["redacted"] = redaction_counts(out)
        return out

    def to_frame(self) -> pl.DataFrame:
        """One row per failed test, with the names and types of ``Verdict`` and the JSON.

        Columns: test_id, root_cause, detail, confidence, layer, evidence, explanation, rule,
        reason, evidence_ids. ``evidence`` is a count here (``Verdict.evidence`` and the JSON hold
        the entries); ``evidence_ids`` lists their insertIds in the same order.
        Test ids, details, explanations and reasons pass through ``scrub``: a parametrized id can
        carry a secret.
        """
        return pl.DataFrame(
            {
                "test_id": [self.scrub(v.test_id) for v in self.verdicts],
                "root_cause": [v.root_cause for v in self.verdicts],
                "detail": [self.scrub(v.detail) for v in self.verdicts],
                "confidence": [v.confidence for v in self.verdicts],
                "layer": [v.layer for v in self.verdicts],
                "evidence": [len(v.evidence) for v in self.verdicts],
                "explanation": [self.scrub(v.explanation) for v in self.verdicts],
                "rule": [v.rule for v in self.verdicts],
                "reason": [self.scrub(v.reason) for v in self.verdicts],
                "evidence_ids": [[e.insert_id for e in v.evidence] for v in self.verdicts],
            },
            schema={
                "test_id": pl.String,
                "root_cause": pl.String,
                "detail": pl.String,
                "confidence": pl.Float64,
                "layer": pl.String,
                "evidence": pl.Int64,
                "explanation": pl.String,
                "rule": pl.String,
                "reason": pl.String,
                "evidence_ids": pl.List(pl.String),
            },
        )

    def to_pandas(self) -> Any:
        """The verdict table as a pandas DataFrame."""
        return self.to_frame().to_pandas()

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr><td><code>{}</code></td><td><b>{}</b></td><td>{:.2f}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(self.scrub(v.test_id) or ""),
                html.escape(v.root_cause),
                v.confidence,
                html.escape(v.layer or "-"),
                len(v.evidence),
                html.escape(clip(self.scrub(v.explanation), WHY_HTML_LIMIT)),
            )
            for v in self.verdicts
        )
        return (
            f"<p>forensics triage: {len(self.verdicts)} failed tests</p>"
            "<table><thead><tr><th>test</th><th>root cause</th><th>confidence</th>"
            "<th>layer</th><th>evidence</th><th>why</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
