"""Replay every incident corpus inside busy background traffic and score the verdicts.

Each incident (``tests/data/*/<name>/`` and ``fixtures/<name>/``, anything with an
``expected.json``) is triaged on its own export plus ``busy_traffic``'s background at one rate.
A verdict is *right* (the expected label), *unknown* (allowed: it says what is missing) or *wrong*
(any other label: the one result that is never acceptable).

    from tests.busy_replay import incidents, replay_all
    scores = replay_all(incidents(), rates=(0, 5, 30), tmp=Path("/tmp/busy"))
    print(table(scores))
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from forensics import triage
from forensics.classify import RuleSet, load_rules
from forensics.labels import UNKNOWN
from forensics.result import Verdict
from tests.busy_traffic import run_span, write_variant_export

ROOT = Path(__file__).resolve().parents[1]
REPORT_NAMES = ("junit.xml", "report.jsonl", "report.json")


@cache
def shipped_rules() -> RuleSet:
    """The shipped rules, read once for every replay."""
    return load_rules()


@dataclass(frozen=True)
class Incident:
    """One incident folder: its reports, export and expected labels."""

    folder: Path

    @property
    def name(self) -> str:
        """``<corpus>/<incident>``, e.g. ``incidents_blind7/django_unauthorized_bare``."""
        return f"{self.folder.parent.name}/{self.folder.name}"

    @property
    def reports(self) -> list[Path]:
        """The run's report files, every format present."""
        return [self.folder / n for n in REPORT_NAMES if (self.folder / n).is_file()]

    @cached_property
    def failures(self) -> dict[str, str]:
        """Failed test id -> expected label."""
        return json.loads((self.folder / "expected.json").read_text())["failures"]


def incidents() -> list[Incident]:
    """Every incident of every corpus, in a stable order."""
    found = sorted(ROOT.glob("tests/data/*/*/expected.json")) + sorted(
        ROOT.glob("fixtures/*/expected.json")
    )
    return [Incident(p.parent) for p in found]


def replay(incident: Incident, rate: float, tmp: Path, variant: str = "busy") -> list[Verdict]:
    """The verdicts triage gives with ``rate`` entries/s of background (0 and "busy": the export
    alone), the export cut as ``variant`` says (``busy_traffic.VARIANTS``); none when the cut
    leaves no entry."""
    logs: list[Path] = [incident.folder / "logs"]
    out = tmp / incident.name.replace("/", "__")
    if rate or variant != "busy":
        logs = write_variant_export(
            logs[0], out, rate, incident.name, variant, run_span(incident.reports)
        )
    if not logs:
        return []  # the cut left no entry at all: nothing to triage, nothing scored
    try:
        result = triage(incident.reports, logs, rules=shipped_rules())
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return list(result.verdicts)


def verdicts(incident: Incident, rate: float, tmp: Path, variant: str = "busy") -> dict[str, str]:
    """Test id -> label triage gives (see ``replay``)."""
    return {v.test_id: v.root_cause for v in replay(incident, rate, tmp, variant)}


@dataclass
class Score:
    """Right, wrong and unknown verdicts at one rate, with every wrong one named."""

    rate: float
    right: int = 0
    unknown: int = 0
    wrong: list[str] = field(default_factory=list)
    #: verdicts that were right on the quiet export and are not any more (unknown or wrong)
    lost: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.right + self.unknown + len(self.wrong)

    def add(self, incident: Incident, got: dict[str, str]) -> None:
        """Score one incident's verdicts against its expected labels (none: its export was cut
        to nothing, and it is not scored)."""
        if not got:
            return
        for test_id, label in incident.failures.items():
            answer = got.get(test_id, "<none>")
            if answer == label:
                self.right += 1
            elif answer == UNKNOWN:
                self.unknown += 1
            else:
                self.wrong.append(
                    f"{incident.name}::{test_id.split('::')[-1]}: {label} -> {answer}"
                )


def replay_all(cases: Iterable[Incident], rates: Iterable[float], tmp: Path) -> dict[float, Score]:
    """Score every incident at every rate."""
    cases = list(cases)
    scores = {}
    for rate in rates:
        score = Score(rate)
        for incident in cases:
            score.add(incident, verdicts(incident, rate, tmp))
        scores[rate] = score
    return scores


def table(scores: dict[float, Score]) -> str:
    """A markdown table: background rate, right, wrong label, unknown, in counts and shares."""
    rows = [
        "| background (entries/s) | right | wrong label | unknown |",
        "|---|---|---|---|",
    ]
    for rate, s in scores.items():
        n = max(s.total, 1)
        rows.append(
            f"| {rate:g} | {s.right}/{s.total} ({s.right / n:.1%}) | {len(s.wrong)} | "
            f"{s.unknown} ({s.unknown / n:.1%}) |"
        )
    return "\n".join(rows)
