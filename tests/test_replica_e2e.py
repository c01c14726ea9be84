"""The replica end to end: real uvicorn, real pytest subprocess, converter; and the committed fixtures.

Each scenario below runs once per session (a few seconds each). Set ``REPLICA_ALL_SCENARIOS=1`` to
regenerate and compare every scenario, not only the representative ones.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn")

from fixtures.replica.edge import RUNNER_IP
from fixtures.replica.export import read_export
from fixtures.replica.run import Incident, generate, made_with
from fixtures.replica.scenarios import SCENARIOS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPRESENTATIVE = ["seed", "iam_denied", "iap_denied", "cloud_armor_denied", "multi_cause", "no_trace_ids"]
CHOSEN = list(SCENARIOS) if os.environ.get("REPLICA_ALL_SCENARIOS") == "1" else REPRESENTATIVE

#: Words of the app's decision line for each app-side label (the replica's own wording).
DECISION_WORDS = {
    "missing_bypass_header": "X-E2E-Bypass-Key|E2E bypass key", "missing_jwt": "No JWT|no bearer token",
    "invalid_jwt": "JWT validation failed", "cors_origin": "Origin .* not in CORS allowlist",
    "middleware_rejection": "AuthPolicyMiddleware: DENY", "rate_limited": "ratelimit .* exceeded",
    "app_error": "Unhandled exception in",
}

pytestmark = pytest.mark.realrun


@pytest.fixture(scope="session")
def incidents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Incident]:
    """Scenarios generated for real once per session, by name."""
    cache: dict[str, Incident] = {}
    root = tmp_path_factory.mktemp("incidents")

    class Lazy(dict):  # type: ignore[type-arg]
        def __missing__(self, name: str) -> Incident:
            cache[name] = generate(name, root / name)
            self[name] = cache[name]
            return cache[name]

    return Lazy()


def _is_stdout(entry: dict[str, Any]) -> bool:
    return entry["logName"].endswith("run.googleapis.com%2Fstdout") and "jsonPayload" in entry


def _trace(entry: dict[str, Any]) -> str | None:
    trace = entry.get("trace")
    return trace.rsplit("/", 1)[1] if trace else None


def _google_time(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(entry["timestamp"]).timestamp()


@pytest.mark.parametrize("name", CHOSEN)
def test_each_failure_has_its_decisive_entries(incidents: dict[str, Incident], name: str) -> None:
    """For every failed test, the export holds the refused request and the entry that says why, at its layer."""
    inc = incidents[name]
    if SCENARIOS[name].export_window == "before":
        pytest.skip("the export misses the run on purpose")
    for test, label in inc.expected["failures"].items():
        fact = min((f for f in inc.facts if f["test"] == test and f["truth"]), key=lambda f: f["start"])
        requests = [e for e in inc.entries if "httpRequest" in e and _trace(e) == fact["trace"]]
        assert any(e["httpRequest"]["status"] == fact["status"] for e in requests), (test, fact["status"])
        app_lines = [e for e in inc.entries if _is_stdout(e) and _trace(e) == fact["trace"]]
        if fact["edge"]:  # stopped before the container: no app line on its trace
            assert not app_lines and not any("instanceId" in e.get("labels", {}) for e in requests)
            payloads = [str(e.get("jsonPayload", "")) + e.get("textPayload", "") for e in requests]
            marker = {"iam": "not authenticated", "iap": "handled_by_identity_aware_proxy",
                      "armor": "'outcome': 'DENY'", "lb_ratelimit": "BAN_THRESHOLD_EXCEED"}[fact["edge"]]
            assert any(marker in p for p in payloads), (test, marker)
            continue
        if not app_lines:  # app logs without trace ids: the line sits in the request's time span
            start, end = inc.clock.google(fact["start"]), inc.clock.google(fact["end"])
            # stdout lines are stamped when they arrive, a little after the app wrote them
            app_lines = [e for e in inc.entries if _is_stdout(e) and start <= _google_time(e) <= end + 0.5]
        assert any(re.search(DECISION_WORDS[label], e["jsonPayload"].get("message", "")) for e in app_lines), test


def test_seed_run_fails_like_the_seed(incidents: dict[str, Incident]) -> None:
    """The replica's seed run fails the seed's six WebSocket tests with HTTP 403 out of 58."""
    inc = incidents["seed"]
    assert len(inc.expected["failures"]) == 6
    assert set(inc.expected["failures"].values()) == {"missing_bypass_header"}
    assert "server rejected WebSocket connection: HTTP 403" in inc.captured.pytest_output
    assert "6 failed, 52 passed" in inc.captured.pytest_output


def test_browser_noise_is_not_the_runner(incidents: dict[str, Incident]) -> None:
    """In the seed run other clients' requests come from other addresses and user agents than the runner's."""
    inc = incidents["seed"]
    ips = {e["httpRequest"]["remoteIp"] for e in inc.entries if "httpRequest" in e}
    assert RUNNER_IP in ips and len(ips) >= 3


def _message(entry: dict[str, Any]) -> str:
    proto = entry.get("protoPayload", {})
    text = entry.get("textPayload") or entry.get("jsonPayload", {}).get("message") or proto.get("methodName", "")
    text = re.sub(r"\[\d+\]|\b[0-9a-f]{8,}\b|\d+", "N", text)
    return re.sub(r"(t-|coord-)\w+", r"\1X", text)[:200]


def _signature(entry: dict[str, Any]) -> tuple[Any, ...]:
    http = entry.get("httpRequest", {})
    path = re.sub(r"/threads/[^/]+", "/threads/X", http.get("requestUrl", "").split("?")[0])
    return (entry["logName"].rsplit("/", 1)[1], entry["resource"]["type"], entry.get("severity"),
            http.get("status"), path, _message(entry))


def _runner_requests(entries: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(_signature(e) for e in entries
                   if e.get("httpRequest", {}).get("remoteIp") == RUNNER_IP and e.get("labels", {}).get("instanceId"))


def _is_chatter(entry: dict[str, Any]) -> bool:
    """What the server process printed as plain text: uvicorn's and websockets' own lines, access
    lines, tracebacks. Their wording moves between releases; the app's decisions (its JSON lines)
    and what Google's layers wrote (request logs, load balancer, IAP, audit) do not."""
    log_id = entry["logName"].rsplit("/", 1)[1]
    return log_id.startswith("run.googleapis.com%2Fstd") and "textPayload" in entry


def _fixture_versions(name: str) -> dict[str, str]:
    return json.loads((FIXTURES / SCENARIOS[name].folder / "expected.json").read_text())["made_with"]


@pytest.mark.parametrize("name", CHOSEN)
def test_committed_fixture_matches_a_fresh_run(incidents: dict[str, Incident], name: str) -> None:
    """A fresh run decides what the committed incident holds, and Google's layers write the same
    entries, apart from times, ids and noise counts. Server chatter is compared separately."""
    inc = incidents[name]
    folder = FIXTURES / SCENARIOS[name].folder
    committed = read_export(folder / "logs")
    fresh = read_export(inc.folder / "logs")
    assert inc.expected["failures"] == json.loads((folder / "expected.json").read_text())["failures"]
    assert _runner_requests(fresh) == _runner_requests(committed)
    assert {_signature(e) for e in fresh if not _is_chatter(e)} == \
        {_signature(e) for e in committed if not _is_chatter(e)}
    assert sorted(p.relative_to(inc.folder).parts[0] for p in inc.folder.iterdir()) == \
        sorted(p.relative_to(folder).parts[0] for p in folder.iterdir())


@pytest.mark.parametrize("name", CHOSEN)
def test_committed_fixture_chatter_matches_on_its_versions(incidents: dict[str, Incident], name: str) -> None:
    """With the server and client versions the fixture was made with (constraints.txt pins them),
    a fresh run prints the same server chatter too."""
    recorded, installed = _fixture_versions(name), made_with()
    if installed != recorded:
        moved = ", ".join(f"{k} {recorded.get(k)} -> {v}" for k, v in installed.items() if recorded.get(k) != v)
        pytest.skip(f"made with other versions ({moved}): chatter may differ; install with -c constraints.txt")
    inc = incidents[name]
    committed = read_export(FIXTURES / SCENARIOS[name].folder / "logs")
    fresh = read_export(inc.folder / "logs")
    assert {_signature(e) for e in fresh if _is_chatter(e)} == {_signature(e) for e in committed if _is_chatter(e)}


def test_fresh_incident_records_the_versions_that_made_it(incidents: dict[str, Incident]) -> None:
    """expected.json names the server, framework and client versions of the run that wrote it."""
    assert incidents["seed"].expected["made_with"] == made_with()
    assert {"uvicorn", "websockets", "httpx"} <= set(_fixture_versions("seed"))
