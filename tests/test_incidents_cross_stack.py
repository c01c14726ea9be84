"""Triage on incidents written in the words of other stacks (Django, Express, Spring, Go, Google front ends).

The folders under tests/data/incidents/ are built by tests/data/incidents/build_incidents.py with
tests/incident_builder.py, independently of the FastAPI replica behind fixtures/. Each case is one
failed test: its root cause must be the label a careful engineer reads from the logs, and a named
cause must point at entries that are really in the export. Cases the engine gets wrong today are
strict xfails with the reason, so they turn red the moment the engine is fixed (then drop the mark).
"""

from __future__ import annotations

import filecmp
import gzip
import importlib.util
import json
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from forensics import TriageResult, triage
from forensics.labels import LABELS, UNKNOWN

INCIDENTS = Path(__file__).resolve().parent / "data" / "incidents"
NAMES = sorted(p.parent.name for p in INCIDENTS.glob("*/expected.json"))

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}


def expected(name: str) -> dict:
    return json.loads((INCIDENTS / name / "expected.json").read_text())


def reports(name: str) -> list[Path]:
    return [
        p
        for p in (INCIDENTS / name / "junit.xml", INCIDENTS / name / "report.jsonl")
        if p.is_file()
    ]


@cache
def result(name: str) -> TriageResult:
    """One triage per incident, shared by its cases: every report the run left, and its export."""
    return triage(reports(name), INCIDENTS / name / "logs")


@cache
def export_text(name: str) -> str:
    """Every file of the export as text (gzip opened), to look insert ids up without our own reader."""
    parts = []
    for path in sorted((INCIDENTS / name / "logs").rglob("*")):
        if path.is_file():
            raw = path.read_bytes()
            parts.append((gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode())
    return "\n".join(parts)


def _cases() -> list:
    params = []
    for name in NAMES:
        for test_id, label in expected(name)["failures"].items():
            short = test_id.split("::", 1)[1]
            reason = KNOWN_MISSES.get((name, short))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(name, test_id, label, id=f"{name}::{short}", marks=marks))
    return params


def test_corpus_covers_every_label() -> None:
    """The corpus has 16+ incidents and every label is some failure's truth outside the FastAPI replica."""
    labels = {label for name in NAMES for label in expected(name)["failures"].values()}
    assert len(NAMES) >= 16
    assert labels == set(LABELS)


@pytest.mark.parametrize("name", NAMES)
def test_every_failed_test_gets_one_verdict(name: str) -> None:
    """Triage answers exactly the failed tests of the run's reports, no more, no fewer."""
    got = [v.test_id for v in result(name).verdicts]
    assert sorted(got) == sorted(expected(name)["failures"])


@pytest.mark.parametrize(("name", "test_id", "label"), _cases())
def test_root_cause_matches_the_logs(name: str, test_id: str, label: str) -> None:
    """Each failure's root cause is the expected label; a named cause cites entries present in the export."""
    verdict = next(v for v in result(name).verdicts if v.test_id == test_id)
    assert verdict.root_cause == label, verdict.reason or verdict.explanation
    if label != UNKNOWN:
        assert verdict.evidence, "a named cause must cite log entries"
        text = export_text(name)
        foreign = set(expected(name)["foreign_insert_ids"])
        for ev in verdict.evidence:
            assert f'"insertId": "{ev.insert_id}"' in text or f'"insertId":"{ev.insert_id}"' in text
            assert ev.insert_id not in foreign, f"evidence {ev.summary!r} belongs to another client"
    else:
        assert verdict.reason, "unknown must say what is missing"


def test_committed_corpus_is_what_the_builder_writes(tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so the definitions are the corpus's truth."""
    spec = importlib.util.spec_from_file_location(
        "build_incidents", INCIDENTS / "build_incidents.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = tmp_path
    module.main()
    built = sorted(p.name for p in tmp_path.iterdir())
    assert built == NAMES
    for name in NAMES:
        files = sorted(
            str(p.relative_to(tmp_path / name)) for p in (tmp_path / name).rglob("*") if p.is_file()
        )
        assert files == sorted(
            str(p.relative_to(INCIDENTS / name))
            for p in (INCIDENTS / name).rglob("*")
            if p.is_file()
        )
        _, mismatch, errors = filecmp.cmpfiles(
            tmp_path / name, INCIDENTS / name, files, shallow=False
        )
        assert not mismatch and not errors, (
            f"{name}: {mismatch or errors} differ from the builder's output"
        )


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints per-incident and overall accuracy; the misses are exactly the cases marked as known misses."""
    rows, misses, hits, total = [], set(), 0, 0
    for name in NAMES:
        got = {v.test_id: v.root_cause for v in result(name).verdicts}
        for test_id, label in expected(name)["failures"].items():
            answer = got.get(test_id, "<none>")
            total += 1
            hits += answer == label
            if answer != label:
                misses.add((name, test_id.split("::", 1)[1]))
            rows.append(
                f"{'ok  ' if answer == label else 'MISS'} {name:34} {test_id.split('::', 1)[1]:42} "
                f"expected={label:22} got={answer}"
            )
    by_label = Counter(label for name in NAMES for label in expected(name)["failures"].values())
    with capsys.disabled():
        print("\n" + "\n".join(rows))
        print(
            f"cross-stack accuracy: {hits}/{total} = {hits / total:.1%} over {len(NAMES)} incidents; "
            f"truth by label: {dict(sorted(by_label.items()))}"
        )
    assert misses == set(KNOWN_MISSES)
