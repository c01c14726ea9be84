"""Live pull with the real google-cloud-logging client against the local Cloud Logging API server."""

from __future__ import annotations

import json
import socket
import urllib.request
from datetime import UTC, datetime

import pytest

from forensics.emulator import EntryStore, FaultPlan, LoggingEmulator
from forensics.emulator.filter import compile_filter
from forensics.emulator.synth import synthetic_entries
from forensics.exceptions import (
    CredentialsError,
    FilterError,
    PermissionDeniedError,
    ProjectNotFoundError,
    PullError,
    QuotaError,
)
from forensics.live import RetryPolicy, build_filter, make_client, pull_entries, resolve_target
from tests import _live_server

emulator = _live_server.emulator  # the fixture: the module's `server`, reset for each test

PROJECT = "demo-project"
ENTRIES = synthetic_entries(5000, project=PROJECT)  # 10:00:00 to 10:04:10, 50 ms apart
EVERYTHING = 'timestamp >= "2026-01-01T00:00:00Z"'


@pytest.fixture(scope="module")
def server():
    """One local server for the module; each test gets it with no faults and an empty request log."""
    with LoggingEmulator(EntryStore.from_entries(ENTRIES)) as srv:
        yield srv


def _plan(emulator: LoggingEmulator, *faults: dict) -> None:
    emulator.faults.replace(FaultPlan.parse(list(faults)))


class Sleeps(list):
    """Records waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _pull(emulator: LoggingEmulator, filter_text: str = EVERYTHING, project: str = PROJECT, **kw):
    kw.setdefault("sleep", Sleeps())
    return pull_entries(resolve_target(project, emulator.url), filter_text, progress=False, **kw)


def _ids(entries: list[dict]) -> list[str]:
    return [e["insertId"] for e in entries]


def test_pull_pages_through_every_entry_in_time_order(emulator: LoggingEmulator) -> None:
    """Every entry arrives once, in timestamp order, across pages of 1000 linked by tokens."""
    pulled = _pull(emulator)
    assert _ids(pulled.entries) == _ids(ENTRIES)
    assert pulled.stats.pages == 5
    seen = list(emulator.requests_seen)
    assert [r["pageSize"] for r in seen] == [1000] * 5
    assert seen[0]["pageToken"] is None
    tokens = [r["pageToken"] for r in seen[1:]]
    assert all(tokens) and len(set(tokens)) == 4


def test_pull_in_descending_order_with_small_pages(emulator: LoggingEmulator) -> None:
    """orderBy timestamp desc and small pages still give each entry exactly once, newest first."""
    pulled = _pull(emulator, page_size=300, order_by="timestamp desc")
    assert _ids(pulled.entries) == _ids(ENTRIES)[::-1]
    assert pulled.stats.pages == 17


def test_filter_is_evaluated_by_the_server(emulator: LoggingEmulator) -> None:
    """Only entries of the window and the resource types triage reads come back over the wire."""
    since, until = (
        datetime(2026, 1, 15, 10, 1, tzinfo=UTC),
        datetime(2026, 1, 15, 10, 2, tzinfo=UTC),
    )
    text = build_filter(since, until, slack_s=5)
    pulled = _pull(emulator, text)
    lo, hi = "2026-01-15T10:00:55", "2026-01-15T10:02:05.000001"
    expected = [
        e for e in ENTRIES if lo <= e["timestamp"] <= hi and e["resource"]["type"] != "gce_instance"
    ]
    assert _ids(pulled.entries) == _ids(expected)
    assert 0 < len(expected) < len(ENTRIES) / 2
    sent = emulator.requests_seen[0]["filter"]
    assert sent == text
    assert 'timestamp >= "2026-01-15T10:00:55.000000Z"' in sent
    assert 'timestamp <= "2026-01-15T10:02:05.000000Z"' in sent
    assert len(sent) < 20_000


def test_service_filter_keeps_front_end_entries(emulator: LoggingEmulator) -> None:
    """--service keeps that service's entries and the load balancer's, and drops other services'."""
    since, until = (
        datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        datetime(2026, 1, 15, 10, 5, tzinfo=UTC),
    )
    assert _pull(emulator, build_filter(since, until, services=["other"])).entries == [
        e for e in ENTRIES if e["resource"]["type"] == "http_load_balancer"
    ]
    kept = _pull(emulator, build_filter(since, until, services=["api"])).entries
    assert {e["resource"]["type"] for e in kept} == {"cloud_run_revision", "http_load_balancer"}


def test_429_waits_retry_after_and_resumes_from_the_same_page_token(
    emulator: LoggingEmulator,
) -> None:
    """A 429 waits what Retry-After says, then asks for the same page again: no entry lost or repeated."""
    _plan(emulator, {"kind": "429", "after": 2, "retry_after": 7})
    sleeps = Sleeps()
    pulled = _pull(emulator, page_size=500, sleep=sleeps)
    assert _ids(pulled.entries) == _ids(ENTRIES)
    assert sleeps == [7]
    seen = list(emulator.requests_seen)
    assert [r["status"] for r in seen[:4]] == [200, 200, 429, 200]
    assert seen[2]["pageToken"] is not None and seen[3]["pageToken"] == seen[2]["pageToken"]
    assert pulled.stats.retries == {"429": 1}


def test_429_wait_is_capped_and_backs_off_without_retry_after(emulator: LoggingEmulator) -> None:
    """A huge Retry-After is capped; without one the wait doubles from the policy's backoff."""
    _plan(emulator, {"kind": "429", "retry_after": 3600}, {"kind": "429", "after": 1, "times": 2})
    sleeps = Sleeps()
    policy = RetryPolicy(max_wait_s=30, backoff_s=1.5)
    assert len(_pull(emulator, sleep=sleeps, policy=policy).entries) == len(ENTRIES)
    assert sleeps == [30, 1.5, 3.0]


def test_429_honours_retry_info_when_there_is_no_header(emulator: LoggingEmulator) -> None:
    """Google states the wait in a google.rpc.RetryInfo detail; that wait is honoured too."""
    _plan(emulator, {"kind": "429", "after": 1, "retry_after": 12.5, "header": False})
    sleeps = Sleeps()
    assert _ids(_pull(emulator, sleep=sleeps).entries) == _ids(ENTRIES)
    assert sleeps == [12.5]


def test_quota_still_exhausted_raises_quota_error(emulator: LoggingEmulator) -> None:
    """After the allowed 429 retries, QuotaError says to wait and narrow the window."""
    _plan(emulator, {"kind": "429", "times": 50, "retry_after": 1})
    sleeps = Sleeps()
    with pytest.raises(QuotaError) as err:
        _pull(emulator, sleep=sleeps, policy=RetryPolicy(quota_retries=4))
    assert len(sleeps) == 4
    message = str(err.value)
    assert "quota" in message and "wait a minute" in message and "\n" not in message


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retried_a_bounded_number_of_times(
    emulator: LoggingEmulator, kind: str
) -> None:
    """500/503 are retried with backoff; a few in a row do not lose entries."""
    _plan(emulator, {"kind": kind, "after": 1, "times": 3})
    sleeps = Sleeps()
    pulled = _pull(emulator, sleep=sleeps, policy=RetryPolicy(server_retries=3, backoff_s=1))
    assert _ids(pulled.entries) == _ids(ENTRIES)
    assert sleeps == [1, 2, 4]


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_beyond_the_bound_raise(emulator: LoggingEmulator, kind: str) -> None:
    """One failure more than allowed ends the pull with a one-line PullError naming the status."""
    _plan(emulator, {"kind": kind, "times": 4})
    with pytest.raises(PullError) as err:
        _pull(emulator, policy=RetryPolicy(server_retries=3))
    assert type(err.value) is PullError
    assert f"({kind}:" in str(err.value) and "try again later" in str(err.value)
    assert len(emulator.requests_seen) == 4


@pytest.mark.parametrize(
    ("kind", "error", "phrases"),
    [
        ("403", PermissionDeniedError, ["roles/logging.viewer", PROJECT]),
        ("404", ProjectNotFoundError, [PROJECT, "check --project"]),
        ("400", FilterError, ["rejected the filter", "--filter"]),
    ],
)
def test_fatal_faults_become_one_line_errors_saying_what_to_do(
    emulator: LoggingEmulator, kind: str, error: type, phrases: list[str]
) -> None:
    """403, 404 and 400 are not retried and become the matching forensics error."""
    _plan(emulator, {"kind": kind, "after": 1})
    with pytest.raises(error) as err:
        _pull(emulator)
    message = str(err.value)
    assert all(p in message for p in phrases), message
    assert "\n" not in message and "Traceback" not in message
    assert len(emulator.requests_seen) == 2


def test_unknown_project_raises_project_not_found(emulator: LoggingEmulator) -> None:
    """A project the server does not hold is reported as not found, naming it."""
    with pytest.raises(ProjectNotFoundError, match="project no-such-project was not found"):
        _pull(emulator, project="no-such-project")


def test_unparseable_filter_raises_filter_error_with_the_server_reason(
    emulator: LoggingEmulator,
) -> None:
    """The server's explanation of a bad filter reaches the user."""
    with pytest.raises(FilterError, match="RFC 3339"):
        _pull(emulator, 'timestamp >= "yesterday"')


def test_empty_pages_with_a_token_continue(emulator: LoggingEmulator) -> None:
    """Empty pages that carry a token are followed, not taken as the end."""
    _plan(emulator, {"kind": "empty", "after": 1, "times": 3})
    sleeps = Sleeps()
    pulled = _pull(emulator, sleep=sleeps)
    assert _ids(pulled.entries) == _ids(ENTRIES)
    assert pulled.stats.pages == 8 and sleeps == []


def test_endless_empty_pages_end_with_an_error(emulator: LoggingEmulator) -> None:
    """A server that only ever sends empty pages cannot keep the pull looping forever."""
    _plan(emulator, {"kind": "empty", "times": 100})
    with pytest.raises(PullError, match="empty pages in a row"):
        _pull(emulator, policy=RetryPolicy(max_empty_pages=20))


def test_max_entries_stops_early_and_says_so(emulator: LoggingEmulator) -> None:
    """--max-entries bounds the pull and marks it truncated."""
    pulled = _pull(emulator, max_entries=1500)
    assert _ids(pulled.entries) == _ids(ENTRIES[:1500])
    assert pulled.stats.truncated and len(emulator.requests_seen) == 2


def test_control_endpoint_installs_a_fault_plan(emulator: LoggingEmulator) -> None:
    """POST /_emulator/faults sets the plan a running server serves."""
    plan = json.dumps([{"kind": "403"}]).encode()
    req = urllib.request.Request(emulator.url + "/_emulator/faults", data=plan, method="POST")
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp)["faults"][0]["kind"] == "403"
    with pytest.raises(PermissionDeniedError):
        _pull(emulator)


def test_unreachable_endpoint_says_to_start_the_server() -> None:
    """A closed port gives a one-line error asking whether the local server runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PullError, match="is the local server running"):
        pull_entries(resolve_target(PROJECT, f"127.0.0.1:{port}"), EVERYTHING, progress=False)


def test_endpoint_pull_never_leaves_loopback_or_asks_google_auth(
    emulator: LoggingEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With an endpoint, no metadata server, DNS or google.auth.default is touched; only 127.0.0.1."""
    import google.auth

    def no_default(*a: object, **k: object) -> None:
        raise AssertionError("google.auth.default was called")

    looked_up: list[object] = []
    connected: list[object] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
    monkeypatch.setattr(google.auth, "default", no_default)
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: (looked_up.append(host), real_getaddrinfo(host, *a, **k))[1],
    )
    monkeypatch.setattr(
        socket.socket,
        "connect",
        lambda self, addr: (connected.append(addr), real_connect(self, addr))[1],
    )
    monkeypatch.setenv("LOGGING_EMULATOR_HOST", emulator.host)
    pulled = pull_entries(resolve_target(PROJECT), EVERYTHING, progress=False)
    assert len(pulled.entries) == len(ENTRIES)
    assert set(looked_up) == {"127.0.0.1"}
    assert connected and all(addr[0] == "127.0.0.1" for addr in connected)


@pytest.fixture
def not_on_gce(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No gcloud login of the machine running the tests, and no metadata server probe.

    google-auth reads NO_GCE_CHECK once, at import, so the flag itself is patched.
    """
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_NO_GCE_CHECK", True)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))


@pytest.mark.usefixtures("not_on_gce")
def test_missing_google_credentials_say_how_to_log_in() -> None:
    """Without an endpoint and without credentials, the error names the gcloud command to run."""
    with pytest.raises(CredentialsError) as err:
        make_client(resolve_target(PROJECT))
    assert "gcloud auth application-default login" in str(err.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.usefixtures("not_on_gce")
def test_credentials_file_that_does_not_exist_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """A GOOGLE_APPLICATION_CREDENTIALS pointing nowhere is reported with its path."""
    missing = tmp_path / "nope.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))
    with pytest.raises(CredentialsError, match=r"nope\.json"):
        make_client(resolve_target(PROJECT))


@pytest.mark.parametrize(
    ("value", "endpoint"),
    [
        ("127.0.0.1:8086", "http://127.0.0.1:8086"),
        ("http://localhost:9000/", "http://localhost:9000"),
        ("http://127.0.0.1:9000/v2", "http://127.0.0.1:9000"),
    ],
)
def test_endpoint_forms_are_normalised(value: str, endpoint: str) -> None:
    """host:port (as LOGGING_EMULATOR_HOST is written) and full URLs both work."""
    assert resolve_target(PROJECT, value).endpoint == endpoint


def test_built_filters_parse_on_the_server() -> None:
    """Every filter forensics builds is valid in the server's query language."""
    since = datetime(2026, 1, 15, 10, tzinfo=UTC)
    text = build_filter(since, since, services=['we"ird', "api"], extra="severity >= WARNING")
    assert compile_filter(text)(
        {
            "timestamp": "2026-01-15T10:00:00Z",
            "severity": "ERROR",
            "resource": {"type": "http_load_balancer"},
        }
    )


def test_progress_shows_entries_pages_and_rate_on_a_terminal() -> None:
    """On a terminal the progress line counts entries, pages and entries per second."""
    import io

    from rich.console import Console

    from forensics.sources.progress import PullProgress

    screen = io.StringIO()
    with PullProgress(
        enabled=True, console=Console(file=screen, force_terminal=True, width=120)
    ) as bar:
        bar.update(2500, 3)
    assert "2,500 entries" in screen.getvalue() and "3 pages" in screen.getvalue()
    assert "entries/s" in screen.getvalue()


def test_no_progress_output_when_stderr_is_not_a_terminal(
    emulator: LoggingEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped or captured stderr gets no progress bar (logs and CI stay clean)."""
    pull_entries(resolve_target(PROJECT, emulator.url), EVERYTHING)
    assert capsys.readouterr().err == ""


def test_401_says_the_credentials_were_not_accepted(emulator: LoggingEmulator) -> None:
    """An endpoint refusing the credentials gives CredentialsError with the login hint."""
    _plan(emulator, {"kind": "401"})
    with pytest.raises(CredentialsError) as err:
        _pull(emulator)
    assert "did not accept the credentials" in str(err.value)
    assert "gcloud auth application-default login" in str(err.value)


def test_translation_covers_auth_and_disabled_api_errors() -> None:
    """google.auth failures and a disabled Logging API become one-line errors saying what to run."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    from forensics.sources.cloud_logging.errors import translate

    target = resolve_target(PROJECT, None)
    disabled = translate(
        api.Forbidden(
            "Cloud Logging API has not been used in project 1 before or it is "
            "disabled. Enable it by visiting https://console..."
        ),
        target,
    )
    assert isinstance(disabled, PermissionDeniedError)
    assert f"gcloud services enable logging.googleapis.com --project {PROJECT}" in str(disabled)
    refresh = translate(
        auth.RefreshError("invalid_grant: Token has been expired or revoked."), target
    )
    assert isinstance(refresh, CredentialsError) and "expired or revoked" in str(refresh)
    assert "application-default login" in str(refresh)
    transport = translate(auth.TransportError("Failed to retrieve http://metadata/token"), target)
    assert type(transport) is PullError and "check the network" in str(transport)
    assert translate(KeyError("x"), target) is None
    token = translate(
        api.BadRequest("Invalid page token: it does not belong to this query"), target
    )
    assert type(token) is PullError and "run the pull again" in str(token)
    for err in (disabled, refresh, transport, token):
        assert "\n" not in str(err)
