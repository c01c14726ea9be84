"""Secrets known by their shape never reach output, not even in part; ids the triage needs stay.

Tokens are providers' documented examples (or their documented shape): each must vanish from
message text, payload fields, URLs and headers, and no 12-character piece of it may survive a
summary's cut, wherever the cut falls.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics import explore, plot
from forensics.classify.explain import summarize
from forensics.classify.rows import LinkedRow
from forensics.redact import (
    marker,
    redact,
    redact_mapping,
    redact_value,
    redaction_counts,
    shorten,
)
from forensics.redact.catalogue import NOT_USED, catalogue
from tests.test_explore import FAILED, make_result

# kind shown in the marker -> a token of that kind
SHAPED = {
    "google api key": "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe",
    "google oauth client secret": "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",
    "google refresh token": "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI",
    "google access token": "ya29.a0AfH6SMBx3kE9vQ7pLmN2oR8sT1uW4yZ6cD0fG5hJ",
    "github token": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "aws access key": "AKIAIOSFODNN7EXAMPLE",
    "slack token": "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "stripe access key": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "gitlab token": "glpat-9Z4zsW6bqLxC2kK7v8Ry",
    "sendgrid api key": "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",
}
#: AWS's documented secret access key: no shape, found by its randomness after any name.
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
NEUTRAL = ["ctx={}", "note: {}", '"ctx": "{}"', "ctx='{}'", "data = {}"]


def pieces(token: str, size: int = 12) -> list[str]:
    """Every ``size``-character piece of ``token``: none may appear in an output."""
    return [token[i : i + size] for i in range(len(token) - size + 1)]


def assert_hidden(token: str, out: object) -> None:
    text = repr(out)
    leaked = [p for p in pieces(token) if p in text]
    assert not leaked, f"{leaked[0]!r} of {token!r} survives in {text[:300]!r}"


def contexts(token: str, *, shaped: bool) -> list[str]:
    """Message text, URLs and captured headers holding ``token`` (bare ones only for shapes)."""
    texts = [f"upstream call failed ({n.format(token)}) on GET /api/v1/items" for n in NEUTRAL]
    texts += [
        f"GET https://api.example.com/v1/items?ctx={token}&page=2 403",
        f"headers={{'x-custom-ctx': '{token}', 'user-agent': 'python-httpx/0.28.1'}}",
        f'{{"message": "refused", "httpRequest": {{"requestUrl": "/ws?ctx={token}"}}}}',
    ]
    if shaped:
        texts += [
            f"refused {token} for the runner",
            f"{token}",
            f"GET https://api.example.com/v1/keys/{token}/usage 403",
            f"X-Goog-Api-Key: {token}",
        ]
    return texts


@pytest.mark.parametrize(("kind", "token"), SHAPED.items())
def test_shaped_token_is_hidden_in_text_urls_and_headers(kind: str, token: str) -> None:
    """A provider token vanishes from message text (bare or after a neutral name), URLs, headers."""
    for text in contexts(token, shaped=True):
        out = redact(text)
        assert_hidden(token, out)
        assert "[REDACTED" in out
    assert f"[REDACTED {kind} sha256:" in redact(f"refused {token} for the runner")


@pytest.mark.parametrize("token", [*SHAPED.values(), AWS_SECRET])
def test_token_is_hidden_in_payload_fields(token: str) -> None:
    """Payload fields under neutral names (nested, in lists, in captured headers) lose the token."""
    payload = {
        "ctx": token,
        "detail": {"note": token, "attempts": 3},
        "headers": {"x-goog-api-key": token, "x-custom": token, "user-agent": "curl/8.5"},
        "lines": [f"ctx={token}"],
    }
    out = redact_mapping(payload)
    assert_hidden(token, out)
    assert out["detail"]["attempts"] == 3
    assert out["headers"]["user-agent"] == "curl/8.5"


def test_aws_secret_key_after_a_neutral_name_is_hidden() -> None:
    """AWS's secret key has no shape: after ``=`` or ``:`` its randomness gives it away."""
    for text in contexts(AWS_SECRET, shaped=False):
        out = redact(text)
        assert_hidden(AWS_SECRET, out)
        assert "[REDACTED high-entropy sha256:" in out
    assert redact_value("ctx", AWS_SECRET) == marker(AWS_SECRET, "high-entropy")


@pytest.mark.parametrize("token", [*SHAPED.values(), AWS_SECRET])
def test_a_cut_anywhere_in_a_token_leaves_no_part_of_it(token: str) -> None:
    """Summaries are cut after redaction: wherever the cut falls in the token, none of it shows."""
    head = "rejecting request (ctx="
    text = f"{head}{token}) while the runner retried"
    for k in range(8, len(token) + 1):
        out = shorten(text, len(head) + k + 1)
        assert_hidden(token, out)
        assert len(out) <= len(head) + k + 1


@pytest.mark.parametrize("token", [*SHAPED.values(), AWS_SECRET])
def test_evidence_summary_cut_leaves_no_part_of_a_token(token: str) -> None:
    """The evidence summary of an app line, cut at 160, never ends in the first part of a token."""
    for pad in range(100, 160 - 8 + 1, 3):
        message = "x" * pad + f" ctx={token} rejecting"
        row = LinkedRow(
            data={"row": 0, "message": message, "severity": "WARNING", "service": "api"},
            strength=1.0,
            via="app_join",
            role="app",
        )
        assert_hidden(token, summarize(row))


@pytest.mark.parametrize("kind", [k for k in SHAPED if k.startswith("google")])
def test_google_token_cut_short_in_the_log_is_still_hidden(kind: str) -> None:
    """An app that logs the first characters of a Google credential leaks none of them."""
    token = SHAPED[kind]
    for k in range(12, len(token) + 1):
        out = redact(f"refreshing with {token[:k]}… failed")
        assert_hidden(token[:k], out)
        assert f"[REDACTED {kind} sha256:" in out


def test_service_account_json_hides_the_key_and_its_id() -> None:
    """A service account key file logged whole keeps its type and email, never its private key or key id."""
    key_id = "3f1c2b7a9d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
    pem = f"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n"
    text = (
        f'{{"type": "service_account", "project_id": "acme-chat-staging", "private_key_id": "{key_id}", '
        f'"private_key": "{pem}", "client_email": "runner@acme-chat-staging.iam.gserviceaccount.com"}}'
    )
    for out in (
        redact(text),
        redact_mapping({"private_key_id": key_id, "private_key": pem.replace("\\n", "\n")}),
    ):
        assert_hidden(key_id, out)
        assert_hidden(body, out)
    assert '"private_key_id": "[REDACTED' in redact(text)
    assert "runner@acme-chat-staging.iam.gserviceaccount.com" in redact(text)


# one example of every kind the catalogue (detect-secrets) brings, besides the ones above
CATALOGUE_EXAMPLES = {
    "artifactory credentials": "AKCp8jQ8tQwKSX5gEXAMPLEnGZMWy3dGZ3t2yVBJkAbzk",
    "discord bot token": "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs",
    "mailchimp access key": "0123456789abcdef0123456789abcdef-us12",
    "openai token": "sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
    "pypi token": "pypi-AgEIcHlwaS5vcmc" + "A1b2C3d4E5" * 8,
    "square oauth secret": "sq0csp-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v",
    "telegram bot token": "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw7",
    "twilio api key": "SK" + "0123456789abcdef" * 2,
}


@pytest.mark.parametrize(("kind", "token"), CATALOGUE_EXAMPLES.items())
def test_catalogue_shapes_are_hidden_with_their_kind(kind: str, token: str) -> None:
    """Every provider detect-secrets knows is hidden, and the marker names it."""
    out = redact(f"upstream said {token} in the reply")
    assert_hidden(token, out)
    assert f"[REDACTED {kind} sha256:" in out


def test_azure_storage_connection_string_hides_its_key() -> None:
    """An Azure connection string keeps its account name and loses its 88-character key."""
    key = "Zm9yZW5zaWNzLWV4YW1wbGUta2V5" * 3 + "YWJjZA=="
    out = redact(
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key};EndpointSuffix=x"
    )
    assert_hidden(key, out)
    assert "AccountName=acme;AccountKey=[REDACTED" in out


def test_catalogue_brings_the_providers_and_leaves_out_what_other_passes_do() -> None:
    """The shapes come from detect-secrets: its providers are there, its IP and keyword detectors not."""
    kinds = {shape.kind for shape in catalogue()}
    assert {
        "aws access key",
        "github token",
        "gitlab token",
        "slack token",
        "stripe access key",
    } <= kinds
    assert not kinds & {k.lower() for k in NOT_USED}
    assert redact("rate limited client 34.127.88.14") == "rate limited client 34.127.88.14"


# --- what must stay readable ----------------------------------------------------------------------

READABLE = [
    "insertId=68bda3250000e28ef288dcf8",
    '"insertId": "1x2y3z4a5b6c7d8e9f0g1h2i3j"',
    "insertId: Ab3dE5fG7hI9jK1lM3nO5pQ7rS",
    '"trace": "projects/acme-chat-staging/traces/49d0e6dfc6a138fbc7c2a582188e3f6a"',
    "logging.googleapis.com/trace=projects/p/traces/49d0e6dfc6a138fbc7c2a582188e3f6a",
    '"spanId": "22bda39e387eae94"',
    "X-Cloud-Trace-Context: 105445aa7843bc8bf206b12000100000/1234567890;o=1",
    "revision_name=chat-backend-staging-00042-xum",
    "revision: netra-backend-staging-00123-AbC9x",
    "request_id=3fa85f64-5717-4562-b3fc-2c963f66afa6",
    '"requestId": "QmFzZTY0UmVxdWVzdElkMTIzNDU2Nzg5"',
    "x-request-id: 0HMVFE42U1KQF:00000001",
    '"instanceId": "0021c91b0e0c20ac082b80ad3ff0d3d8b44dd8b4a95a6203c8d0fb6a87a13097cd3163e5282aec75512d4268ecf9be83f421da11b9866e21b785336cc3295230bc"',
    "thread=default-nioEventLoopGroup-1-3",
    "handler: WebSocketHandshakeHandler2 refused",
    "class=OrderServiceV2Controller method=stream",
    "ctx=2025-09-07T15:22:13.057998Z",
    "ctx=/v1/projects/acme-chat-staging/locations/us-central1/services/chat",
    "ctx: https://storage.googleapis.com/acme-artifacts/AbCdEf1234567890XyZaBcDeF/log.txt",
    "image=us-docker.pkg.dev/acme/chat/backend@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "user-agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0.0.0",
]


@pytest.mark.parametrize("text", READABLE)
def test_ids_revisions_and_identifiers_stay_readable(text: str) -> None:
    """insertIds, trace and span ids, revision names, request ids, names of code and paths are kept."""
    assert redact(text) == text


def test_ids_in_payload_fields_stay_readable() -> None:
    """A random-looking value under an id name (insertId, requestId, trace) is kept in a payload."""
    payload = {
        "insertId": "Ab3dE5fG7hI9jK1lM3nO5pQ7rS",
        "requestId": "QmFzZTY0UmVxdWVzdElkMTIzNDU2Nzg5",
        "trace": "projects/p/traces/49d0e6dfc6a138fbc7c2a582188e3f6a",
        "labels": {"instanceId": "00bf4bf02dA1b2C3d4E5f6G7h8I9j0K1"},
    }
    assert redact_mapping(payload) == payload


# --- generated tokens ----------------------------------------------------------------------------

_B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _body(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=max_size or size)


_SHAPES = st.one_of(
    _body(_B64URL, 35).map(lambda b: "AIza" + b),
    _body(_B64URL, 28).map(lambda b: "GOCSPX-" + b),
    _body(_B64URL, 20, 160).map(lambda b: "ya29." + b),
    _body(_B64URL, 30, 120).map(lambda b: "1//0" + b),
    _body(_ALNUM, 36).map(lambda b: "ghp_" + b),
    _body(_ALNUM + "_", 82).map(lambda b: "github_pat_" + b),
    _body("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16).map(lambda b: "AKIA" + b),
    st.tuples(_body("0123456789", 10, 13), _body("0123456789", 10, 13), _body(_ALNUM, 24)).map(
        lambda p: f"xoxb-{p[0]}-{p[1]}-{p[2]}"
    ),
    _body(_ALNUM, 24).map(lambda b: "sk_live_" + b),
    _body(_B64URL, 20).map(lambda b: "glpat-" + b),
)
_WORDS = st.lists(
    st.sampled_from(["rejecting", "request", "ws", "403", "on", "the", "runner", "(retry)", "—"]),
    max_size=6,
).map(" ".join)


_NAMED = [*NEUTRAL, "url", "header", "payload", "cut"]


@st.composite
def _token_in_output(
    draw: st.DrawFn, tokens: st.SearchStrategy[str], places: list[str]
) -> tuple[str, str]:
    """A token drawn from ``tokens``, and one output that held it at one of ``places``."""
    token = draw(tokens)
    where = draw(st.sampled_from(places))
    before, after = draw(_WORDS), draw(_WORDS)
    if where == "bare":
        out = redact(f"{before} {token} {after}")
    elif where == "url":
        out = redact(f"{before} GET /v1/items?ctx={token}&x=1 {after}")
    elif where == "header":
        out = redact(f"{before} headers={{'x-custom': '{token}'}} {after}")
    elif where == "payload":
        out = repr(redact_mapping({"ctx": token, "headers": {"x-goog-api-key": token}}))
    elif where == "cut":
        text = f"{before} ctx={token} {after}"
        out = shorten(text, draw(st.integers(min_value=8, max_value=len(text))))
    else:
        out = redact(f"{before} {where.format(token)} {after}")
    return token, out or ""


@settings(max_examples=400, deadline=None)
@given(_token_in_output(_SHAPES, ["bare", *_NAMED]))
def test_generated_tokens_of_every_shape_never_survive(case: tuple[str, str]) -> None:
    """Tokens of each shape, anywhere (bare, after a neutral name, in a URL, a header, a payload, a
    cut summary), leave no 12-character piece behind."""
    token, out = case
    assert_hidden(token, out)


def _random_secret(seed: int) -> str:
    """A 40-character secret as AWS and most providers issue them: random base64."""
    rng = random.Random(seed)
    return "".join(rng.choice(_ALNUM + "+/") for _ in range(40))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(_token_in_output(st.integers(min_value=0, max_value=2**32).map(_random_secret), _NAMED))
def test_generated_random_secrets_after_a_name_never_survive(case: tuple[str, str]) -> None:
    """Random 40-character secrets (AWS's shape) after any name are hidden, also in a cut summary.

    Drawn from a seeded generator (as a key is issued), not shrunk into ``AAAA…``: randomness is
    what gives them away. A bare one in prose has neither name nor shape, and is not asserted.
    """
    token, out = case
    assert_hidden(token, out)


def test_a_cut_never_shows_part_of_a_marker() -> None:
    """Wherever a summary is cut, a marker is shown whole or not at all."""
    text = "rejecting " + "~" * 20 + f" {SHAPED['github token']} then more words"
    shown = redact(text) or ""
    for limit in range(10, len(shown) + 2):
        out = shorten(text, limit)
        assert len(out) <= limit
        assert out.count("[REDACTED") == out.count("]"), out


# --- plots and notebook helpers ---------------------------------------------------------------


def test_plot_text_and_notebook_frames_never_show_a_token(tmp_path: Path) -> None:
    """Test ids, details and log lines holding tokens leave none of them in a figure's SVG text
    (lane names are cut, after redaction) or in the frames notebook helpers return."""
    result = make_result()
    github, google = SHAPED["github token"], SHAPED["google api key"]
    tid = f"tests/e2e/test_a_rather_long_parametrized_name.py::test_token[{google}-{github}]"
    result.verdicts[0] = type(result.verdicts[0])(
        **{**result.verdicts[0].__dict__, "test_id": tid, "detail": f"ctx={AWS_SECRET}"}
    )
    result.tests = result.tests.with_columns(
        test_id=result.tests.get_column("test_id").replace(FAILED[0][0], tid)
    )
    result.logs = result.logs.with_columns(
        message=pl.col("message") + f" (ctx={AWS_SECRET}, {github}, note: {google})"
    )
    shown = []
    for name, fig in (
        ("t", plot.timeline(result)),
        ("c", plot.causes(result)),
        ("r", plot.requests_by_status(result)),
    ):
        shown.append(plot.save(fig, tmp_path / f"{name}.svg").read_text(encoding="utf-8"))
    frames = [
        explore.unexplained(result),
        explore.readable(result, result.logs),
        explore.templates(result.logs.get_column("message")),
        explore.templates(explore.unexplained(result)),
        result.to_frame(),
    ]
    shown += [f.select(pl.col(pl.String)).write_csv() for f in frames]
    for token in (github, google, AWS_SECRET):
        for text in shown:
            assert_hidden(token, text)
    assert "[REDACTED" in shown[0]  # the test id's tokens reached the timeline, as markers
    assert "[REDACTED github token" in shown[3] + shown[4]


def test_redaction_counts_distinct_secrets_by_kind_never_values() -> None:
    """Counts come from the markers: a secret mentioned twice counts once, name-found ones as "by name"."""
    github = SHAPED["github token"]
    out = redact_mapping(
        {
            "summary": f"ctx={github} and again {github}",
            "lines": [f"x-e2e-bypass-key=k1 {SHAPED['google api key']}", f"ctx={AWS_SECRET}"],
        }
    )
    assert redaction_counts(out) == {
        "by name": 1,
        "github token": 1,
        "google api key": 1,
        "high-entropy": 1,
    }
    assert redaction_counts({"a": "no secret here"}) == {}
