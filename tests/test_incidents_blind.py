"""Triage on a blind corpus: incidents written without reading the engine's rules or correlation.

The folders under tests/data/incidents_blind/ come from tests/data/incidents_blind/build_blind.py
(on tests/incident_builder.py), in the words of stacks the engine was not tuned on (Flask, ASP.NET
Core, Rails, NestJS, Fastify, Phoenix, Quarkus, Laravel, Echo, Fiber, chi, Koa, Envoy, nginx) and
of Google front ends, each with the messiness of real runs. A case is one failed test: its verdict
must be the label a careful engineer reads from the logs, and a named cause must cite entries of
the runner that are really in the export. Today's misses are strict xfails naming what the engine
gets wrong, so each turns red the moment it is fixed (then drop its entry from KNOWN_MISSES).
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

CORPUS = Path(__file__).resolve().parent / "data" / "incidents_blind"
NAMES = sorted(p.parent.name for p in CORPUS.glob("*/expected.json"))

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

# incidents whose verdicts cite another client's entries today (the evidence check is a strict xfail)
FOREIGN_EVIDENCE: dict[str, str] = {}

# A token-shaped secret the Phoenix incident sends in the query string; output must redact it.
FAKE_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.bm90LWEtcmVhbC1zaWduYXR1cmU"


def expected(name: str) -> dict:
    return json.loads((CORPUS / name / "expected.json").read_text())


def reports(name: str) -> list[Path]:
    return [p for p in (CORPUS / name / "junit.xml", CORPUS / name / "report.jsonl") if p.is_file()]


@cache
def result(name: str) -> TriageResult:
    """One triage per incident, shared by its cases: the run's reports and its whole export folder."""
    return triage(reports(name), CORPUS / name / "logs")


@cache
def export_ids(name: str) -> frozenset[str]:
    """Every insertId written in the export, read with json (gzip opened), not with forensics' reader."""
    ids: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("insertId"), str):
                ids.add(node["insertId"])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    decoder = json.JSONDecoder()
    for path in sorted((CORPUS / name / "logs").rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        pos = 0
        while True:  # arrays, JSON lines and pasted pretty objects alike: values one after another
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            value, pos = decoder.raw_decode(text, pos)
            walk(value)
    return frozenset(ids)


def _cases() -> list:
    params = []
    for name in NAMES:
        for test_id, label in expected(name)["failures"].items():
            short = test_id.split("::", 1)[1]
            reason = KNOWN_MISSES.get((name, short))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(name, test_id, label, id=f"{name}::{short}", marks=marks))
    return params


def test_corpus_is_broad() -> None:
    """The blind corpus has 20+ incidents and every TAXONOMY label is the truth of some failure."""
    labels = {label for name in NAMES for label in expected(name)["failures"].values()}
    assert len(NAMES) >= 20
    assert labels == set(LABELS)


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers exactly the failed tests of the run's reports, no more, no fewer."""
    got = [v.test_id for v in result(name).verdicts]
    assert sorted(got) == sorted(expected(name)["failures"])


@pytest.mark.parametrize(("name", "test_id", "label"), _cases())
def test_root_cause_is_what_the_logs_show(name: str, test_id: str, label: str) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    verdict = next(v for v in result(name).verdicts if v.test_id == test_id)
    assert verdict.root_cause == label, verdict.reason or verdict.explanation
    if label == UNKNOWN:
        assert verdict.reason, "unknown must say what is missing"


def _evidence_cases() -> list:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=FOREIGN_EVIDENCE[name])]
            if name in FOREIGN_EVIDENCE
            else [],
        )
        for name in NAMES
    ]


@pytest.mark.parametrize("name", _evidence_cases())
def test_named_causes_cite_the_runners_entries(name: str) -> None:
    """Any non-unknown verdict cites entries that exist in the export and never another client's."""
    foreign = set(expected(name)["foreign_insert_ids"])
    for verdict in result(name).verdicts:
        if verdict.root_cause == UNKNOWN:
            continue
        assert verdict.evidence, f"{verdict.test_id}: a named cause must cite log entries"
        for ev in verdict.evidence:
            assert ev.insert_id in export_ids(name), f"{verdict.test_id}: {ev.insert_id} not in export"
            assert ev.insert_id not in foreign, f"{verdict.test_id}: {ev.summary!r} is another client's"


def test_token_in_a_request_url_never_reaches_the_output() -> None:
    """A JWT the client put in the handshake's query string is absent from the JSON result."""
    name = "phoenix_refused_and_guardian"
    assert FAKE_JWT in "".join(
        (CORPUS / name / "logs").joinpath(p).read_text() for p in ("entries.jsonl",)
    )
    out = json.dumps(result(name).to_dict())
    assert FAKE_JWT not in out
    assert FAKE_JWT.split(".")[2] not in out


def test_committed_corpus_is_what_the_builder_writes(tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so build_blind.py is the corpus's truth."""
    spec = importlib.util.spec_from_file_location("build_blind", CORPUS / "build_blind.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = tmp_path
    module.main()
    assert sorted(p.name for p in tmp_path.iterdir()) == NAMES
    for name in NAMES:
        files = sorted(str(p.relative_to(tmp_path / name)) for p in (tmp_path / name).rglob("*") if p.is_file())
        committed = sorted(str(p.relative_to(CORPUS / name)) for p in (CORPUS / name).rglob("*") if p.is_file())
        assert files == committed, name
        _, mismatch, errors = filecmp.cmpfiles(tmp_path / name, CORPUS / name, files, shallow=False)
        assert not mismatch and not errors, f"{name}: {mismatch or errors} differ from the builder"


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the expected-vs-got table and accuracy; the misses are exactly KNOWN_MISSES."""
    rows, misses, hits, total, confident = [], set(), 0, 0, 0
    for name in NAMES:
        got = {v.test_id: v.root_cause for v in result(name).verdicts}
        for test_id, label in expected(name)["failures"].items():
            short = test_id.split("::", 1)[1]
            answer = got.get(test_id, "<none>")
            total += 1
            hits += answer == label
            if answer != label:
                misses.add((name, short))
                confident += answer != UNKNOWN
            mark = "ok  " if answer == label else "MISS"
            rows.append(f"{mark} {name:40} {short:36} expected={label:22} got={answer}")
    truth = Counter(label for name in NAMES for label in expected(name)["failures"].values())
    with capsys.disabled():
        print("\n" + "\n".join(rows))
        print(
            f"blind accuracy: {hits}/{total} = {hits / total:.1%} over {len(NAMES)} incidents; "
            f"confident mistakes (wrong non-unknown): {confident}; truth by label: {dict(sorted(truth.items()))}"
        )
    assert misses == set(KNOWN_MISSES)
