"""What a comparison of runs answers, as typed results whose ``to_dict`` is the JSON contract::

    {"runs": [{"run_id", "started", "ended", "tests", "failed", "revisions": [...], "commit", ...}],
     "tests": [{"test_id", "status", "history": [{"run_id", "outcome", "root_cause"}]}],
     "deploys": [{"between": [run_id, run_id], "revisions": {"before": [...], "after": [...]},
                  "fixed": n, "new": n, "cause_changed": n, ...}],
     "signatures": [{"root_cause", "template", "first_seen", "last_seen", "runs", "tests", ...}]}

``outcome`` is one of ``passed|failed|error|skipped|absent`` and ``root_cause`` a TAXONOMY label
or null. Keys may be added, never renamed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from forensics.exceptions import UsageError
from forensics.history.schema import OUTCOME_SHOWN

#: A test's status across the compared runs, in the order reports list them.
STATUSES = ("new", "cause_changed", "persistent", "flaky", "fixed", "passing", "skipped")
#: What each status means, for reports and docs.
STATUS_MEANING = {
    "new": "passed before (or first seen), fails now",
    "cause_changed": "failed before and fails now, for another reason",
    "persistent": "failed before and fails now, for the same reason",
    "flaky": "passed and failed on the same revisions and commit, with no change between",
    "fixed": "failed before, passes now",
    "passing": "passes now and passed before",
    "skipped": "never ran in the compared runs (skipped or absent)",
}
OUTCOMES = ("passed", "failed", "error", "skipped", "absent")


def iso(value: datetime | None) -> str | None:
    """RFC 3339 UTC with a ``Z`` (microseconds kept when present)."""
    if value is None:
        return None
    text = value.isoformat().replace("+00:00", "Z")
    return text if text.endswith("Z") else text + "Z"


@dataclass(frozen=True)
class RunSummary:
    """One compared run: when, how it went, what served it, where it came from."""

    index: int  # 1-based position among the compared runs, oldest first
    run_id: str
    started: datetime | None
    ended: datetime | None
    tests: int
    passed: int
    failed: int  # failed or error
    skipped: int
    revisions: tuple[str, ...]
    services: tuple[str, ...] = ()
    commit: str | None = None
    branch: str | None = None
    job_url: str | None = None
    by_root_cause: dict[str, int] = field(default_factory=dict)

    @property
    def pass_rate(self) -> float | None:
        """Passed among passed + failed (skipped tests left out), None when nothing ran."""
        ran = self.passed + self.failed
        return self.passed / ran if ran else None

    @property
    def duration_s(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started": iso(self.started),
            "ended": iso(self.ended),
            "tests": self.tests,
            "failed": self.failed,
            "revisions": list(self.revisions),
            "commit": self.commit,
            "index": self.index,
            "passed": self.passed,
            "skipped": self.skipped,
            "pass_rate": self.pass_rate,
            "services": list(self.services),
            "branch": self.branch,
            "job_url": self.job_url,
            "by_root_cause": dict(self.by_root_cause),
        }


@dataclass(frozen=True)
class TestStatus:
    """One test across the compared runs."""

    __test__ = False  # not a pytest test class

    test_id: str
    status: str  # one of STATUSES
    root_cause: str | None  # the cause of its latest failure (None: passes now, or never failed)
    previous_cause: str | None  # the cause of the failure before it, when it failed before
    runs_failed: int


@dataclass(frozen=True)
class Deploy:
    """A change of the revisions serving the runner between two consecutive compared runs."""

    before_index: int
    after_index: int
    between: tuple[str, str]  # run ids
    before: tuple[str, ...]
    after: tuple[str, ...]
    fixed: int
    new: int
    cause_changed: int
    persistent: int

    @property
    def introduced(self) -> tuple[str, ...]:
        """The revisions serving after it that did not before."""
        return tuple(r for r in self.after if r not in self.before)

    def sentence(self) -> str:
        """``revision X between runs 3 and 4: 5 fixed, 1 new, cause of 2 changed``."""
        names = (
            ", ".join(self.introduced) or "(revisions withdrawn: " + ", ".join(self.before) + ")"
        )
        label = "revision" if len(self.introduced) == 1 else "revisions"
        return (
            f"{label} {names} between runs {self.before_index} and {self.after_index}: "
            f"{self.fixed} fixed, {self.new} new, cause of {self.cause_changed} changed"
            + (f", {self.persistent} still failing" if self.persistent else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "between": list(self.between),
            "revisions": {"before": list(self.before), "after": list(self.after)},
            "fixed": self.fixed,
            "new": self.new,
            "cause_changed": self.cause_changed,
            "persistent": self.persistent,
            "runs": [self.before_index, self.after_index],
        }


@dataclass(frozen=True)
class Signature:
    """Failures grouped across runs by cause and the template of their deciding line."""

    root_cause: str
    template: str
    first_seen: datetime | None  # start of the first run it was seen in
    last_seen: datetime | None
    first_run: str
    last_run: str
    runs: int  # runs it was seen in
    tests: int  # distinct tests it failed
    failures: int  # (run, test) failures
    revisions: tuple[str, ...]
    example: str | None  # one deciding line, as logged (redacted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root_cause": self.root_cause,
            "template": self.template,
            "first_seen": iso(self.first_seen),
            "last_seen": iso(self.last_seen),
            "runs": self.runs,
            "tests": self.tests,
            "failures": self.failures,
            "first_run": self.first_run,
            "last_run": self.last_run,
            "revisions": list(self.revisions),
            "example": self.example,
        }


@dataclass(frozen=True)
class Comparison:
    """Runs of a history compared: each test's status, the deploys, the recurring failures.

    ``rows`` holds the history rows of the compared runs (``HISTORY_SCHEMA`` plus ``run_index``),
    for drilling down: ``comparison.rows.filter(pl.col("test_id") == t)``.
    """

    runs: tuple[RunSummary, ...]
    tests: tuple[TestStatus, ...]
    deploys: tuple[Deploy, ...]
    signatures: tuple[Signature, ...]
    rows: pl.DataFrame = field(repr=False)
    folder: Path | None = None
    damaged: tuple[str, ...] = ()  # partitions skipped while reading

    def counts(self) -> dict[str, int]:
        """Tests per status, in ``STATUSES`` order (statuses with no test left out)."""
        found: dict[str, int] = {}
        for t in self.tests:
            found[t.status] = found.get(t.status, 0) + 1
        return {s: found[s] for s in STATUSES if s in found}

    def run(self, ref: str | int) -> RunSummary:
        """A compared run by id, id prefix, or 1-based index (negative counts from the end)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.lstrip("-").isdigit()):
            i = int(ref)
            if 1 <= i <= len(self.runs) or -len(self.runs) <= i <= -1:
                return self.runs[i - 1 if i > 0 else i]
            raise UsageError(f"no run {i}: {len(self.runs)} run(s) compared")
        hits = [r for r in self.runs if r.run_id.startswith(str(ref))]
        if len(hits) != 1:
            raise UsageError(
                f"run {ref!r} " + ("matches several runs" if hits else "is not in the history")
            )
        return hits[0]

    def history(self, test_id: str) -> list[dict[str, Any]]:
        """The test in each compared run, oldest first: run_id, outcome, root_cause."""
        return self.histories([test_id])[test_id]

    def histories(self, test_ids: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Per test, its outcome and cause in every compared run (``absent`` where it did not run)."""
        ids = [t.test_id for t in self.tests] if test_ids is None else test_ids
        index = {r.run_id: i for i, r in enumerate(self.runs)}
        out = {
            t: [{"run_id": r.run_id, "outcome": "absent", "root_cause": None} for r in self.runs]
            for t in ids
        }
        rows = self.rows.filter(pl.col("test_id").is_in(ids)) if test_ids is not None else self.rows
        for test_id, run_id, outcome, cause in rows.select(
            "test_id", "run_id", "outcome", "root_cause"
        ).iter_rows():
            shown = OUTCOME_SHOWN.get(outcome, outcome)
            out[test_id][index[run_id]] = {
                "run_id": run_id,
                "outcome": shown,
                "root_cause": cause if shown in ("failed", "error") else None,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see the module docstring)."""
        histories = self.histories()
        return {
            "runs": [r.to_dict() for r in self.runs],
            "tests": [
                {
                    "test_id": t.test_id,
                    "status": t.status,
                    "history": histories[t.test_id],
                    "root_cause": t.root_cause,
                    "previous_cause": t.previous_cause,
                    "runs_failed": t.runs_failed,
                }
                for t in self.tests
            ],
            "deploys": [d.to_dict() for d in self.deploys],
            "signatures": [s.to_dict() for s in self.signatures],
            "statuses": self.counts(),
            "history": str(self.folder) if self.folder else None,
            "damaged": list(self.damaged),
        }
