"""What each log row is (``layer``, ``role``, ``client_kind``), decided once for every stage."""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest

from forensics import KIND_SCHEMA, LOG_SCHEMA, entries_to_frame, load_logs, load_tests, triage
from forensics.labels import LABELS, MEANING, UNKNOWN, WHAT_HAPPENED
from forensics.logs.kinds import ACCESS_LINE, ROLES, client_kinds, entry_kinds, with_kinds
from forensics.schema import TEST_SCHEMA, failed
from tests.conftest import FIXTURES

P = "projects/shop-prod/logs/"
RUN = {"type": "cloud_run_revision", "labels": {"service_name": "api", "location": "us-central1"}}
LB = {"type": "http_load_balancer", "labels": {"backend_service_name": "api-be", "zone": "global"}}
HTTPX = "python-httpx/0.27.0"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"


def http(status: int, agent: str | None = HTTPX, ip: str | None = "34.1.2.3") -> dict[str, Any]:
    return {
        "requestMethod": "GET",
        "requestUrl": "https://api.example.dev/ws",
        "status": status,
        "userAgent": agent,
        "remoteIp": ip,
    }


#: One entry of each stack, as Cloud Logging writes it, and what the row is: (layer, role, client).
STACKS: dict[str, tuple[dict[str, Any], tuple[str, str, str]]] = {
    "Cloud Run request log": (
        {"logName": P + "run.googleapis.com%2Frequests", "resource": RUN, "httpRequest": http(403)},
        ("service", "request", "script"),
    ),
    "App Engine request log": (
        {
            "logName": P + "appengine.googleapis.com%2Frequest_log",
            "resource": {"type": "gae_app", "labels": {"module_id": "default"}},
            "httpRequest": http(200, CHROME),
        },
        ("service", "request", "browser"),
    ),
    "API Gateway request log": (
        {
            "logName": P + "apigateway.googleapis.com%2Frequests",
            "resource": {"type": "apigateway.googleapis.com/Gateway"},
            "httpRequest": http(401),
            "jsonPayload": {"response_code_detail": "jwt_authn_access_denied{Jwt_is_missing}"},
        },
        ("service", "request", "script"),
    ),
    "load balancer request log (Cloud Armor deny)": (
        {
            "logName": P + "requests",
            "resource": LB,
            "httpRequest": http(403),
            "jsonPayload": {
                "statusDetails": "denied_by_security_policy",
                "enforcedSecurityPolicy": {"name": "edge", "outcome": "DENY", "priority": 1000},
            },
        },
        ("edge", "edge", "script"),
    ),
    "regional load balancer log": (
        {
            "logName": P + "loadbalancing.googleapis.com%2Fexternal_regional_requests",
            "resource": {"type": "http_external_regional_lb_rule", "labels": {}},
            "httpRequest": http(502, CHROME),
        },
        ("edge", "edge", "browser"),
    ),
    "IAP audit decision": (
        {
            "logName": P + "cloudaudit.googleapis.com%2Fdata_access",
            "resource": {"type": "gce_backend_service", "labels": {}},
            "protoPayload": {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "serviceName": "iap.googleapis.com",
                "methodName": "AuthorizeUser",
                "status": {"code": 7, "message": "PERMISSION_DENIED"},
                "requestMetadata": {"callerIp": "34.1.2.3", "callerSuppliedUserAgent": HTTPX},
            },
        },
        ("edge", "audit", "unknown"),
    ),
    "Cloud Armor audit entry": (
        {
            "logName": P + "cloudaudit.googleapis.com%2Factivity",
            "resource": {"type": "gce_backend_service", "labels": {}},
            "protoPayload": {"serviceName": "compute.googleapis.com", "securityPolicy": "edge"},
        },
        ("edge", "audit", "unknown"),
    ),
    "audit entry of another service": (
        {
            "logName": P + "cloudaudit.googleapis.com%2Factivity",
            "resource": {"type": "cloud_run_revision", "labels": {}},
            "protoPayload": {"serviceName": "run.googleapis.com", "methodName": "ReplaceService"},
        },
        ("other", "audit", "unknown"),
    ),
    "app stdout JSON": (
        {
            "logName": P + "run.googleapis.com%2Fstdout",
            "resource": RUN,
            "jsonPayload": {"message": "token rejected", "reason": "jwt expired"},
        },
        ("app", "app", "unknown"),
    ),
    "app JSON line with its own httpRequest": (
        {
            "logName": P + "run.googleapis.com%2Fstdout",
            "resource": RUN,
            "jsonPayload": {"message": "request finished"},
            "httpRequest": http(403),
        },
        ("app", "app", "script"),
    ),
    "uvicorn access line on stderr": (
        {
            "logName": P + "run.googleapis.com%2Fstderr",
            "resource": RUN,
            "textPayload": 'INFO:     1.2.3.4:0 - "GET /x HTTP/1.1" 403',
        },
        ("app", "app", "unknown"),
    ),
    "Express access line (GKE)": (
        {
            "logName": P + "stdout",
            "resource": {"type": "k8s_container", "labels": {"container_name": "web"}},
            "textPayload": '::ffff:10.0.0.1 - - [07/Sep/2025:09:00:00 +0000] "GET /api/items?page=2 HTTP/1.1" 401 12 "-" "node-fetch/1.0"',
        },
        ("app", "app", "unknown"),
    ),
    "Go access line (Cloud Functions)": (
        {
            "logName": P + "cloudfunctions.googleapis.com%2Fcloud-functions",
            "resource": {"type": "cloud_function", "labels": {"function_name": "rooms"}},
            "textPayload": '10.0.0.1 - - [07/Sep/2025:09:00:00 +0000] "POST /v1/rooms HTTP/1.1" 500 23',
        },
        ("app", "app", "unknown"),
    ),
    "Cloud Run system line": (
        {
            "logName": P + "run.googleapis.com%2Fvarlog%2Fsystem",
            "resource": RUN,
            "textPayload": "Container called exit(1).",
        },
        ("other", "other", "unknown"),
    ),
    "hand-made request entry without logName": (
        {"httpRequest": http(403, "kube-probe/1.29", "10.0.0.7")},
        ("service", "request", "probe"),
    ),
}


def _frame(entries: list[dict[str, Any]]) -> pl.DataFrame:
    stamped = [
        {"timestamp": f"2026-03-01T10:00:{i % 60:02d}Z", "insertId": f"e{i}", **e}
        for i, e in enumerate(entries)
    ]
    frame = entries_to_frame(stamped, "test")
    assert frame.height == len(entries)
    return frame


@pytest.mark.parametrize("stack", STACKS)
def test_the_kind_of_a_row_of_each_stack(stack: str) -> None:
    """Every log frame says who wrote each entry, what rules call it, and what sent the request."""
    entry, expected = STACKS[stack]
    row = _frame([entry]).row(0, named=True)
    assert (row["layer"], row["role"], row["client_kind"]) == expected
    assert row["role"] in ROLES


@pytest.mark.parametrize(
    ("line", "path", "status"),
    [
        ('INFO:     1.2.3.4:0 - "GET /x HTTP/1.1" 403', "/x", "403"),
        ('INFO:     1.2.3.4:0 - "WebSocket /ws?token=abc" 403', "/ws", "403"),
        (
            '::ffff:10.0.0.1 - - [07/Sep/2025:09:00:00 +0000] "GET /api/items?page=2 HTTP/1.1" 401 12 "-" "node-fetch/1.0"',
            "/api/items",
            "401",
        ),
        (
            '10.0.0.1 - - [07/Sep/2025:09:00:00 +0000] "POST /v1/rooms HTTP/1.1" 500 23',
            "/v1/rooms",
            "500",
        ),
        ('"OPTIONS /api HTTP/1.1" 200 OK', "/api", "200"),
    ],
)
def test_access_lines_are_read_one_way(line: str, path: str, status: str) -> None:
    """uvicorn, Express (morgan) and Go combined access lines give their path and status."""
    found = re.search(ACCESS_LINE, line)
    assert found is not None and found.groups() == (path, status)
    polars_read = pl.Series([line]).str.extract_groups(ACCESS_LINE).struct.unnest().row(0)
    assert polars_read == (path, status)


@pytest.mark.parametrize(
    "line",
    [
        'GET /x HTTP/1.1" 403',  # no opening quote: not a request line
        '"GET /x HTTP/1.1" 4031',  # not a status
        'client said "GET /x" and gave up',  # no status after the quote
        '"GET http://other/x HTTP/1.1" 200',  # a proxy's absolute URL: not the app's path
    ],
)
def test_lines_that_only_look_like_access_lines(line: str) -> None:
    assert re.search(ACCESS_LINE, line) is None


@pytest.mark.parametrize(
    ("agent", "kind"),
    [
        ("GoogleHC/1.0", "probe"),
        ("kube-probe/1.29", "probe"),
        ("GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)", "probe"),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "scanner"),
        ("Mozilla/5.0 zgrab/0.x", "scanner"),
        ("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "scanner"),
        ("okhttp/4.12.0", "mobile"),
        ("MyApp/3 CFNetwork/1490.0.4 Darwin/23.2.0", "mobile"),
        (HTTPX, "script"),
        ("Python/3.11 websockets/12.0", "script"),
        ("curl/8.5.0", "script"),
        ("Go-http-client/1.1", "script"),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36", "script"),
        (CHROME, "browser"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1", "browser"),
        ("", "unknown"),
        (None, "unknown"),
        ("ShopClient", "unknown"),
    ],
)
def test_client_kind_of_a_user_agent(agent: str | None, kind: str) -> None:
    """Bots, scanners, probes, scripts, phone apps and browsers are told apart by their agent."""
    assert client_kinds(pl.Series([agent], dtype=pl.String)).to_list() == [kind]


def _mixed_frame() -> pl.DataFrame:
    """Every stack's entry many times over, with agents and audit payloads varying row by row."""
    entries = []
    agents = [HTTPX, CHROME, None, "GoogleHC/1.0", "okhttp/4.12.0", "zgrab/0.x", ""]
    for i in range(7):
        for entry, _ in STACKS.values():
            entry = {**entry}
            if "httpRequest" in entry:
                entry["httpRequest"] = {**entry["httpRequest"], "userAgent": agents[i]}
                if i % 3 == 0:
                    entry["httpRequest"] = {**entry["httpRequest"], "remoteIp": None}
            entries.append(entry)
    return _frame(entries).sample(fraction=1.0, shuffle=True, seed=3)


def test_kinds_of_distinct_values_are_the_kinds_of_each_row() -> None:
    """Deciding once per distinct log id / agent and joining back gives every row its own answer."""
    frame = _mixed_frame()
    together = entry_kinds(frame).select(*KIND_SCHEMA)
    alone = pl.concat(
        [entry_kinds(frame.slice(i, 1)).select(*KIND_SCHEMA) for i in range(frame.height)]
    )
    assert together.equals(alone)
    assert together.n_unique() > 10  # the frame mixes many kinds, not one repeated


def test_a_frame_built_by_hand_gets_the_loaders_kinds_and_a_row_index() -> None:
    """A hand-built frame (LOG_SCHEMA only) gets the row index and the same kinds the loader gives."""
    loaded = _mixed_frame()
    by_hand = with_kinds(loaded.select(*LOG_SCHEMA))
    assert by_hand.get_column("row").to_list() == list(range(loaded.height))
    assert by_hand.select(*KIND_SCHEMA).equals(loaded.select(*KIND_SCHEMA))
    assert by_hand.schema["row"] == pl.UInt32


def test_a_frame_with_its_kinds_is_left_as_it_is() -> None:
    """with_kinds adds only what is missing: a loaded frame gets its row index, and then nothing."""
    loaded = load_logs(FIXTURES / "iap_denied" / "logs")
    indexed = with_kinds(loaded)
    assert indexed.columns == ["row", *loaded.columns]
    assert with_kinds(indexed) is indexed


@pytest.mark.parametrize("fixture", ["iap_denied", "cloud_armor_denied", "rate_limited", "seed"])
def test_triage_of_a_frame_built_by_hand_equals_triage_of_the_export(fixture: str) -> None:
    """Notebooks pass their own frames: without the kind columns, triage decides them the same way."""
    folder = FIXTURES / fixture
    tests = load_tests(folder / "junit.xml")
    loaded = load_logs(folder / "logs")
    from_export = triage(tests, loaded)
    by_hand = triage(tests, loaded.select(*LOG_SCHEMA))
    assert by_hand.to_dict() == from_export.to_dict()


@pytest.mark.parametrize(
    "fixture", sorted(p.name for p in FIXTURES.iterdir() if (p / "logs").is_dir())
)
def test_correlate_links_call_a_row_what_the_log_frame_calls_it(fixture: str) -> None:
    """One role per row: every link's role is its row's ``role`` in the log frame."""
    folder = FIXTURES / fixture
    reports = [folder / f for f in ("junit.xml", "report.jsonl") if (folder / f).is_file()]
    if not reports:
        pytest.skip("no test report")
    result = triage(reports, folder / "logs")
    links = result.correlation.links
    joined = links.join(result.logs.select("row", own="role"), on="row")
    assert joined.height == links.height
    assert joined.filter(pl.col("role") != pl.col("own")).is_empty()


def test_failed_is_failed_or_error() -> None:
    """The failed-test filter keeps failed and error outcomes, and nothing else."""
    tests = pl.DataFrame(
        [
            {"test_id": o, "outcome": o}
            for o in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
        ],
        schema={"test_id": TEST_SCHEMA["test_id"], "outcome": TEST_SCHEMA["outcome"]},
    )
    assert tests.filter(failed()).get_column("test_id").to_list() == ["failed", "error"]


def test_every_label_has_its_phrases_in_one_place() -> None:
    """Reports and explanations say each label in words from the labels module."""
    assert set(MEANING) == set(LABELS)
    assert set(WHAT_HAPPENED) == set(LABELS) - {UNKNOWN}
    assert all(
        text and text == text.strip() for text in [*MEANING.values(), *WHAT_HAPPENED.values()]
    )
