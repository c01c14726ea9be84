"""End to end on the committed incident folders: every failed test gets its expected label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import forensics

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
INCIDENTS = sorted(p.parent for p in FIXTURES.glob("*/expected.json"))
CASES = [
    (inc, rep) for inc in INCIDENTS for rep in sorted([*inc.glob("*.xml"), *inc.glob("*.jsonl")])
]


@pytest.mark.parametrize(
    ("incident", "report"), CASES, ids=[f"{i.name}-{r.name}" for i, r in CASES]
)
def test_committed_incident_is_classified_as_expected(incident: Path, report: Path) -> None:
    """Each committed incident, read from either test report, gets exactly the expected labels."""
    expected = json.loads((incident / "expected.json").read_text())["failures"]
    result = forensics.triage(str(report), str(incident / "logs"))
    got = {v.test_id: v.root_cause for v in result.verdicts}
    assert got == expected
    for v in result.verdicts:
        if v.root_cause == "unknown":
            assert v.reason, v.test_id
        else:
            assert v.evidence and v.confidence >= 0.35, (v.test_id, v.confidence)
