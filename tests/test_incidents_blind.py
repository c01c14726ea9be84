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

import json
from pathlib import Path

import pytest

from forensics.labels import LABELS
from tests._incident_corpus import DATA, Corpus

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}

# incidents whose verdicts cite another client's entries today (the evidence check is a strict xfail)
FOREIGN_EVIDENCE: dict[str, str] = {}

# A token-shaped secret the Phoenix incident sends in the query string; output must redact it.
FAKE_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.bm90LWEtcmVhbC1zaWduYXR1cmU"

CORPUS = Corpus(DATA / "incidents_blind", KNOWN_MISSES, title="blind")
NAMES = CORPUS.names


def test_corpus_is_broad() -> None:
    """The blind corpus has 20+ incidents and every TAXONOMY label is the truth of some failure."""
    assert len(NAMES) >= 20
    assert CORPUS.labels() == set(LABELS)


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers exactly the failed tests of the run's reports, no more, no fewer."""
    CORPUS.assert_one_verdict_per_failure(name)


@pytest.mark.parametrize(("name", "test_id", "label"), CORPUS.cases())
def test_root_cause_is_what_the_logs_show(name: str, test_id: str, label: str) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    CORPUS.assert_root_cause(name, test_id, label)


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
    CORPUS.assert_named_causes_cite_the_runners_entries(name)


def test_token_in_a_request_url_never_reaches_the_output() -> None:
    """A JWT the client put in the handshake's query string is absent from the JSON result."""
    name = "phoenix_refused_and_guardian"
    assert FAKE_JWT in "".join(
        (CORPUS.folder / name / "logs").joinpath(p).read_text() for p in ("entries.jsonl",)
    )
    out = json.dumps(CORPUS.result(name).to_dict())
    assert FAKE_JWT not in out
    assert FAKE_JWT.split(".")[2] not in out


def test_committed_corpus_is_what_the_builder_writes(tmp_path: Path) -> None:
    """Rebuilding every incident gives byte-identical folders, so build_blind.py is the corpus's truth."""
    CORPUS.assert_builder_reproduces("build_blind.py", tmp_path)


def test_accuracy_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints the expected-vs-got table and accuracy; the misses are exactly KNOWN_MISSES."""
    CORPUS.print_accuracy_and_assert_misses(capsys)
