"""The replica's parts in-process: the auth checks, the Cloud Run converter, the export writers."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

import jwt
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from fixtures.replica import edge_entries
from fixtures.replica.app import build_app, setup_logging
from fixtures.replica.config import BYPASS_KEY, STAGING_SECRET, ServerConfig
from fixtures.replica.convert import Clock, Converter, rfc3339
from fixtures.replica.export import write_export
from fixtures.replica.harness import Captured

AUD, ISS = "chat-backend-staging", "https://auth.staging.acme-chat.dev"


def _token(secret: str = STAGING_SECRET, aud: str = AUD, ttl: int = 3600, tenant: str = "e2e") -> str:
    import time

    now = int(time.time())
    return jwt.encode({"sub": "e2e-runner", "tenant": tenant, "iss": ISS, "aud": aud, "iat": now - 5, "exp": now + ttl},
                      secret, algorithm="HS256")


def _headers(token: str | None = None, bypass: str | None = BYPASS_KEY) -> dict[str, str]:
    h = {"User-Agent": "python-httpx/0.28.1", "X-Cloud-Trace-Context": "0af7651916cd43dd8448eb211c80319c/12345;o=1"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    if bypass:
        h["X-E2E-Bypass-Key"] = bypass
    return h


class AppLog(io.StringIO):
    """What the app's StructuredLogHandler printed since the last read."""

    def lines(self) -> list[dict]:
        text, _ = self.getvalue(), (self.seek(0), self.truncate())
        return [json.loads(ln) for ln in text.splitlines() if '"message"' in ln]


@pytest.fixture
def applog() -> AppLog:
    stream = AppLog()
    setup_logging(stream)
    return stream


@pytest.fixture
def client(request: pytest.FixtureRequest, applog: AppLog) -> TestClient:
    config = ServerConfig(**getattr(request, "param", {}))
    return TestClient(build_app(config))


@pytest.mark.parametrize(("headers", "status", "words"), [
    (_headers(_token(), bypass=None), 403, "X-E2E-Bypass-Key missing"),
    (_headers(_token(), bypass="old-key"), 403, "does not match E2E_BYPASS_KEY"),
    (_headers(None), 401, "no bearer token"),
    (_headers(_token(ttl=-60)), 401, "Signature has expired"),
    (_headers(_token(secret="another-secret-of-thirty-two-bytes!")), 401, "Signature verification failed"),
    (_headers(_token(aud="chat-backend-prod")), 401, "Audience doesn't match"),
])
def test_rest_check_refuses_and_logs_its_reason_with_trace(client: TestClient, applog: AppLog,
                                                           headers: dict[str, str], status: int, words: str) -> None:
    """Each REST auth check answers its status and logs one structured line naming the check, with the trace."""
    applog.lines()
    response = client.get("/api/v1/status", headers=headers)
    assert response.status_code == status
    lines = applog.lines()
    assert len(lines) == 1 and words in lines[0]["message"]
    assert lines[0]["logging.googleapis.com/trace"] == "projects/acme-chat-staging/traces/0af7651916cd43dd8448eb211c80319c"
    assert lines[0]["logging.googleapis.com/spanId"] == f"{12345:016x}"
    assert BYPASS_KEY not in json.dumps(lines)


def test_valid_request_passes_without_app_log(client: TestClient, applog: AppLog) -> None:
    """A request with bypass key and a valid token is served and the checks stay silent."""
    applog.lines()
    assert client.get("/api/v1/status", headers=_headers(_token())).status_code == 200
    assert applog.lines() == []


def test_browser_needs_no_bypass_key(client: TestClient) -> None:
    """The E2E gate only applies to automated clients; a browser user agent passes it."""
    headers = {**_headers(_token(), bypass=None), "User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"}
    assert client.get("/api/v1/status", headers=headers).status_code == 200


@pytest.mark.parametrize("client", [{"deny_policy": True}], indirect=True)
def test_lockdown_policy_denies_test_tenant(client: TestClient, applog: AppLog) -> None:
    """With the lockdown policy on, the middleware refuses the e2e tenant and logs the policy and rule."""
    applog.lines()
    assert client.get("/api/v1/status", headers=_headers(_token())).status_code == 403
    (line,) = applog.lines()
    assert "policy=staging-lockdown" in line["message"] and line["severity"] == "ERROR"


@pytest.mark.parametrize("client", [{"rate_limit": 2}], indirect=True)
def test_rate_limiter_answers_429_after_the_limit(client: TestClient, applog: AppLog) -> None:
    """The third message in the window gets 429 and a slowapi-style limiter line."""
    codes = [client.post("/api/v1/threads/t1/messages", json={"c": i}, headers=_headers(_token())).status_code
             for i in range(3)]
    assert codes == [200, 200, 429]
    assert any("exceeded at endpoint: /api/v1/threads/t1/messages" in ln["message"] for ln in applog.lines())


def test_raising_route_answers_500_and_logs_the_exception(applog: AppLog) -> None:
    """The agent route raises; the app logs the exception with its traceback and answers 500."""
    app = build_app(ServerConfig(raise_route=True))
    with TestClient(app, raise_server_exceptions=False) as c:
        applog.lines()
        assert c.post("/api/v1/agents/run", json={"tool": "search"}, headers=_headers(_token())).status_code == 500
    (line,) = applog.lines()
    assert line["severity"] == "ERROR" and "KeyError: 'search'" in line["message"]


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"headers": _headers(_token(), bypass=None)}, "X-E2E-Bypass-Key missing"),
    ({"headers": _headers(None)}, "No JWT in subprotocols"),
    ({"headers": {**_headers(_token()), "Origin": "https://evil.example"}}, "not in CORS allowlist"),
])
def test_websocket_handshake_is_refused_before_accept(client: TestClient, applog: AppLog,
                                                      kwargs: dict, words: str) -> None:
    """A refused handshake never opens (the client sees a close before accept) and the check logs why."""
    applog.lines()
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws", **kwargs) as ws:
        ws.receive_json()
    assert any(words in ln["message"] for ln in applog.lines())


def test_websocket_token_subprotocol_is_accepted(client: TestClient) -> None:
    """A token sent as a ``jwt.<token>`` subprotocol opens the socket, which answers ping with pong."""
    headers = {**_headers(None), "Origin": "https://staging.acme-chat.dev"}
    with client.websocket_connect("/ws", headers=headers, subprotocols=["jwt-auth", f"jwt.{_token()}"]) as ws:
        assert ws.receive_json()["type"] == "connection_established"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def _fact(**over: object) -> dict:
    fact = {"start": 1757258530.25, "end": 1757258530.375, "kind": "websocket", "method": "GET", "path": "/ws",
            "query": "", "user_agent": "Python/3.11 websockets/15.0.1", "referer": None, "remote_ip": "34.127.88.14",
            "trace": "a" * 32, "span": "b" * 16, "request_size": 700, "response_size": 118, "status": 403,
            "edge": None, "truth": "missing_bypass_header", "test": "t::x"}
    fact.update(over)
    return fact


def _captured(tmp_path: Path, lines: list[tuple[float, str, str]], facts: list[dict]) -> Captured:
    req = tmp_path / "requests.jsonl"
    req.write_text("".join(json.dumps(f) + "\n" for f in facts))
    return Captured(lines=lines, requests_file=req)


def test_converter_lifts_structured_fields_like_cloud_logging(tmp_path: Path) -> None:
    """A StructuredLogHandler line becomes jsonPayload with severity, trace, span, labels, sourceLocation lifted."""
    line = ('{"message": "denied", "reason": "x","severity": "WARNING", "logging.googleapis.com/labels": '
            '{"python_logger": "app.ws"}, "logging.googleapis.com/trace": "projects/p/traces/abc", '
            '"logging.googleapis.com/spanId": "00f067aa0ba902b7", "logging.googleapis.com/trace_sampled": true, '
            '"logging.googleapis.com/sourceLocation": {"line": 5, "file": "/x/app.py", "function": "f"}, "httpRequest": {} }')
    entries = Converter(Clock()).convert(_captured(tmp_path, [(1757258530.5, "stdout", line)], []))
    entry = next(e for e in entries if "jsonPayload" in e)
    assert entry["jsonPayload"] == {"message": "denied", "reason": "x"}
    assert (entry["severity"], entry["trace"], entry["spanId"], entry["traceSampled"]) == (
        "WARNING", "projects/p/traces/abc", "00f067aa0ba902b7", True)
    assert entry["labels"]["python_logger"] == "app.ws" and entry["labels"]["instanceId"].startswith("00")
    assert entry["sourceLocation"] == {"file": "/x/app.py", "line": "5", "function": "f"}
    assert "httpRequest" not in entry and entry["logName"].endswith("run.googleapis.com%2Fstdout")


def test_converter_keeps_plain_lines_as_text_and_drops_empty_trace(tmp_path: Path) -> None:
    """uvicorn's plain lines become textPayload on their stream; loopback peers read as Cloud Run's."""
    lines = [(1757258530.5, "stderr", 'INFO:     127.0.0.1:50640 - "WebSocket /ws" 403'),
             (1757258530.6, "stdout", '{"message": "m", "severity": "INFO", "logging.googleapis.com/trace": ""}')]
    entries = Converter(Clock()).convert(_captured(tmp_path, lines, []))
    text = next(e for e in entries if "textPayload" in e and "WebSocket" in e["textPayload"])
    assert text["logName"].endswith("%2Fstderr") and "169.254.169.126:50640" in text["textPayload"]
    assert all("trace" not in e for e in entries)


def test_request_entry_has_cloud_run_shape_and_clock_offset(tmp_path: Path) -> None:
    """A handshake becomes a run.googleapis.com/requests entry; timestamps move by the Google clock offset."""
    entries = Converter(Clock(offset_s=2.0)).convert(_captured(tmp_path, [], [_fact()]))
    (entry,) = entries
    http = entry["httpRequest"]
    assert http["status"] == 403 and http["latency"] == "0.125s" and http["requestUrl"].endswith("a.run.app/ws")
    assert entry["timestamp"] == rfc3339(1757258532.25) and entry["receiveTimestamp"] > entry["timestamp"]
    assert entry["resource"]["type"] == "cloud_run_revision" and entry["severity"] == "WARNING"
    assert entry["insertId"].startswith(f"{1757258532:08x}") and len(entry["insertId"]) == 24


def test_edge_entries_carry_the_denial_and_no_instance(tmp_path: Path) -> None:
    """IAM denials carry Google's text and no instance; Armor and IAP denials are load balancer entries."""
    iam = edge_entries.cloud_run_request(_fact(edge="iam", start=1.0, end=1.0), "00ab", via_lb=False)
    assert iam["textPayload"].startswith("The request was not authenticated") and "labels" not in iam
    armor = edge_entries.load_balancer_request(_fact(edge="armor"), armor=True)
    assert armor["jsonPayload"]["enforcedSecurityPolicy"]["outcome"] == "DENY"
    assert armor["jsonPayload"]["statusDetails"] == "denied_by_security_policy"
    facts = [_fact(edge="iap", status=401)]
    entries = Converter(Clock(), via_lb=True).convert(_captured(tmp_path, [], facts))
    kinds = sorted(e["logName"].rsplit("/", 1)[1] for e in entries)
    assert kinds == ["cloudaudit.googleapis.com%2Fdata_access", "requests"]


def _entries() -> list[dict]:
    return [{"insertId": f"id{i}", "logName": "projects/p/logs/run.googleapis.com%2Fstdout",
             "timestamp": f"2025-09-07T15:{20 + i * 30:02d}:00.000000Z", "textPayload": f"line {i}"} for i in range(2)]


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", ["gcloud", "jsonl", "console", "sink"])
def test_export_shapes_round_trip(tmp_path: Path, shape: str, gz: bool) -> None:
    """Every export shape holds every entry once; gcloud is newest first; sink shards by log id and hour."""
    files = write_export(_entries(), tmp_path, shape, gzip=gz)
    texts = [(gzip.decompress(f.read_bytes()) if gz else f.read_bytes()).decode() for f in files]
    decoder, found = json.JSONDecoder(), []
    for text in texts:
        pos = 0
        while pos < len(text.strip()):
            while text[pos].isspace():
                pos += 1
            obj, pos = decoder.raw_decode(text, pos)
            found += obj if isinstance(obj, list) else [obj]
    assert sorted(e["insertId"] for e in found) == ["id0", "id1"]
    if shape == "gcloud":
        assert [e["insertId"] for e in found] == ["id1", "id0"]
    if shape == "sink":
        names = sorted(str(f.relative_to(tmp_path)) for f in files)
        suffix = ".gz" if gz else ""
        assert names == [f"run.googleapis.com/stdout/2025/09/07/15:00:00_15:59:59_S0.json{suffix}"]


def test_cli_lists_scenarios_and_refuses_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m fixtures.replica --list`` names every scenario; an unknown one is a one-line error, exit 2."""
    from fixtures.replica.__main__ import main
    from fixtures.replica.scenarios import SCENARIOS

    assert main(["--list"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed == list(SCENARIOS)
    assert main(["--scenario", "nope", "--out", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown scenario 'nope'" in err


def test_generate_refuses_to_replace_a_folder_that_is_not_an_incident(tmp_path: Path) -> None:
    """Regenerating into a folder with foreign files (e.g. ``fixtures/`` itself) stops before deleting anything."""
    from fixtures.replica.run import ScenarioMismatch, _check_replaceable

    (tmp_path / "__init__.py").write_text("")
    with pytest.raises(ScenarioMismatch, match="refusing to replace"):
        _check_replaceable(tmp_path)
    assert (tmp_path / "__init__.py").exists()
