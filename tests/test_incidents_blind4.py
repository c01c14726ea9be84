"""Triage on the fourth blind corpus: stacks the other corpora do not speak, with run messiness.

The folders under tests/data/incidents_blind4/ come from build_blind4.py (on
tests/incident_builder.py), written without reading the engine's rules or correlation: Litestar,
Sanic, aiohttp, Tornado, Next.js with Supabase, Koa (pino), Gin and Connect-go with Firebase Auth, Ktor with a Supabase audience, ASP.NET Core
JwtBearer with Auth0, Micronaut with resilience4j, chi, Hapi, Cloud Endpoints (ESPv2) and API Gateway
in front; clocks 2-9 s off, naive or missing JUnit stamps, untraced lines on two instances, a browser
and an uptime check failing at the same moment, overlapping exports, an export cut mid-run, two causes
overlapping in time, an out-of-memory crash, two clients' untraced lines that name neither, a setup error, an assertion the logs cannot explain and a bare 403. Today's
misses are strict xfails naming what the engine gets wrong, so each turns red when fixed.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path

import pytest

from forensics import TriageResult, triage
from forensics.labels import UNKNOWN

CORPUS = Path(__file__).resolve().parent / "data" / "incidents_blind4"
NAMES = sorted(p.parent.name for p in CORPUS.glob("*/expected.json"))
REPORT_NAMES = ("junit.xml", "report.jsonl", "report.json")

# (incident, test name after the module's "::") -> what the engine gets wrong today
KNOWN_MISSES: dict[tuple[str, str], str] = {}


def expected(name: str) -> dict:
    return json.loads((CORPUS / name / "expected.json").read_text())


def reports(name: str) -> list[Path]:
    return [CORPUS / name / f for f in REPORT_NAMES if (CORPUS / name / f).is_file()]


@cache
def result(name: str) -> TriageResult:
    """One triage per incident, shared by its cases: the run's reports and its whole export folder."""
    return triage(reports(name), CORPUS / name / "logs")


@cache
def export_ids(name: str) -> frozenset[str]:
    """Every insertId in the export, read with plain json (gzip opened), independently of forensics."""
    ids: set[str] = set()
    decoder = json.JSONDecoder()

    def walk(node: object) -> None:
        if isinstance(node, dict) and isinstance(node.get("insertId"), str):
            ids.add(node["insertId"])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted((CORPUS / name / "logs").rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        pos = 0
        while True:  # arrays, JSON lines and pasted pretty objects: JSON values one after another
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


def _verdict(name: str, test_id: str):
    return next(v for v in result(name).verdicts if v.test_id == test_id)


def test_corpus_covers_the_brief() -> None:
    """The corpus has 12+ incidents, every export shape, and app, edge-proxy and unknown labels."""
    assert len(NAMES) >= 12
    labels = {label for name in NAMES for label in expected(name)["failures"].values()}
    assert {UNKNOWN, "invalid_jwt", "missing_jwt", "cors_origin", "missing_bypass_header",
            "rate_limited", "app_error", "middleware_rejection"} <= labels
    files = [p for name in NAMES for p in (CORPUS / name / "logs").rglob("*") if p.is_file()]
    assert any(p.suffix == ".gz" for p in files)
    assert any("run.googleapis.com" in p.parts for p in files)  # a Cloud Storage sink tree


@pytest.mark.parametrize("name", NAMES)
def test_one_verdict_per_failed_test(name: str) -> None:
    """Triage answers each failed or setup-errored test exactly once, even with overlapping exports."""
    got = [v.test_id for v in result(name).verdicts]
    assert sorted(got) == sorted(expected(name)["failures"])


@pytest.mark.parametrize(("name", "test_id", "label"), _cases())
def test_root_cause_is_what_the_logs_show(name: str, test_id: str, label: str) -> None:
    """Each failure gets the label a careful engineer reads from the logs; unknown says what is missing."""
    verdict = _verdict(name, test_id)
    assert verdict.root_cause == label, verdict.explanation
    if label == UNKNOWN:
        assert verdict.reason


@pytest.mark.parametrize("name", NAMES)
def test_evidence_is_in_the_export_and_never_another_clients(name: str) -> None:
    """Every non-unknown verdict cites entries that exist in the input, none written for a browser or probe."""
    foreign = set(expected(name)["foreign_insert_ids"])
    for verdict in result(name).verdicts:
        if verdict.root_cause == UNKNOWN:
            continue
        ids = {e.insert_id for e in verdict.evidence}
        assert ids, f"{verdict.test_id}: {verdict.root_cause} without evidence"
        assert ids <= export_ids(name), f"{verdict.test_id}: evidence not in the export"
        assert not ids & foreign, f"{verdict.test_id}: evidence from another client"
