"""Secrets found in logs never reach output; prose, ids and paths stay readable."""

from __future__ import annotations

import re

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.redact import marker, redact, redact_mapping, redact_value, secret_name, value_hash

JWT = jwt.encode(
    {"sub": "user-1", "aud": "netra"}, "a-signing-secret-of-32-bytes-long!", algorithm="HS256"
)
GOOGLE_KEY = "AIzaSyA1234567890abcdefghijklmnopqrstuv"
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nbm90LWEtcmVhbC1rZXk=\n-----END PRIVATE KEY-----"

# (text, the secret that must vanish, what must stay to recognise it)
SECRETS = [
    (f"Authorization: Bearer {JWT}", JWT, "Authorization: Bearer [REDACTED jwt sha256:"),
    (f'{{"authorization": "Bearer {JWT}"}}', JWT, '"authorization": "Bearer [REDACTED jwt'),
    (
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "dXNlcjpwYXNzd29yZA==",
        "Authorization: Basic [REDACTED",
    ),
    (
        "proxy-authorization=Token s3cr3t-v4lue",
        "s3cr3t-v4lue",
        "proxy-authorization=Token [REDACTED",
    ),
    (f"ws connect token {JWT} failed", JWT, "[REDACTED jwt sha256:"),
    (f"cut short: {JWT[:50]}…", JWT[:50], "cut short: [REDACTED jwt sha256:"),
    (
        "retrying with bearer ya29.a0AfH6SMBxQ1234567890abcdef",
        "ya29.a0AfH6SMBxQ1234567890abcdef",
        "bearer [REDACTED",
    ),
    ("sent Bearer abcDEF123456ghi", "abcDEF123456ghi", "Bearer [REDACTED"),
    ("Cookie: session=9f8e7d6c5b; theme=dark", "9f8e7d6c5b", "Cookie: session=[REDACTED"),
    (
        "Sec-WebSocket-Protocol: access_token, opaqueTok",
        "opaqueTok",
        "Sec-WebSocket-Protocol: access_token, [REDACTED",
    ),
    (
        "sec-websocket-protocol: chat.v1, base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpTVXpJ",
        "ZXlKaGJHY2lPaUpTVXpJ",
        "sec-websocket-protocol: chat.v1, [REDACTED",
    ),
    ("Set-Cookie: sid=abc123xyz; Path=/; HttpOnly", "abc123xyz", "Set-Cookie: sid=[REDACTED"),
    ('{"cookie": "csrftoken=q1w2e3r4"}', "q1w2e3r4", '"cookie": "csrftoken=[REDACTED'),
    (f"GET /maps?key={GOOGLE_KEY}", GOOGLE_KEY, "key=[REDACTED google api key sha256:"),
    (f"key leaked: {GOOGLE_KEY}.", GOOGLE_KEY, "[REDACTED google api key"),
    (
        "wss://api.example.com/ws?access_token=tok_9A8b7C&x=1",
        "tok_9A8b7C",
        "access_token=[REDACTED",
    ),
    ("/cb?id_token=abc.def.ghi&state=1", "abc.def.ghi", "id_token=[REDACTED"),
    ("/x?api_key=k-123&apikey=k-456", "k-456", "apikey=[REDACTED"),
    ("/x?sig=Zm9vYmFy&signature=YmF6", "Zm9vYmFy", "sig=[REDACTED"),
    ("/x?password=hunter2&secret=shh", "hunter2", "password=[REDACTED"),
    ("/x?bypass=e2e-key-1", "e2e-key-1", "bypass=[REDACTED"),
    ('{"x-e2e-bypass-key": "abc"}', '"abc"', '"x-e2e-bypass-key": "[REDACTED sha256:'),
    ("E2E_BYPASS_KEY=abc", "=abc", "E2E_BYPASS_KEY=[REDACTED sha256:"),
    ("X-E2E-Bypass-Key: staging-key-2025", "staging-key-2025", "X-E2E-Bypass-Key: [REDACTED"),
    ('{"password": "correct horse"}', "correct horse", '"password": "[REDACTED'),
    ("db_passwd='pa ss'", "pa ss", "db_passwd='[REDACTED"),
    ('{"client_secret": "GOCSPX-abc"}', "GOCSPX-abc", '"client_secret": "[REDACTED'),
    ('{"sessionId": "s-77"}', "s-77", '"sessionId": "[REDACTED'),
    ('{"credentials": "u:p"}', "u:p", '"credentials": "[REDACTED'),
    (r"log: {\"api_key\": \"zz-top-99\"}", "zz-top-99", r"\"api_key\": \"[REDACTED"),
    ("headers [(b'x-e2e-bypass-key', b'kv-1')]", "kv-1", "b'x-e2e-bypass-key', b'[REDACTED"),
    (
        "[(b'authorization', b'Basic dXNlcjpwYXNz')]",
        "dXNlcjpwYXNz",
        "b'authorization', b'Basic [REDACTED",
    ),
    ("[('cookie', 'sid=s3ss10n; lang=en')]", "s3ss10n", "'cookie', 'sid=[REDACTED"),
    (PEM, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "[REDACTED private key sha256:"),
    (
        '{"type": "service_account", "private_key": "' + PEM.replace("\n", "\\n") + '"}',
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        '"private_key": "[REDACTED private key',
    ),
    ("postgres://admin:pa55word@db:5432/app", "pa55word", "postgres://admin:[REDACTED"),
    ("api_key_value=k-v-1 AUTH_TOKEN_V2: t0k3n-two", "t0k3n-two", "AUTH_TOKEN_V2: [REDACTED"),
    ("api_key_value=k-v-1", "k-v-1", "api_key_value=[REDACTED"),
    ("bypass key mismatch: got 'e2e-k1', expected 'e2e-k2'", "e2e-k2", "got '[REDACTED"),
    ('X-E2E-Bypass-Key value "stg-0042" does not match', "stg-0042", 'value "[REDACTED'),
    ("invalid bypass key e2e-key-77 rejected", "e2e-key-77", "bypass key [REDACTED"),
    ("token 'tok_live_9x8y' was revoked", "tok_live_9x8y", "token '[REDACTED"),
    (
        "gh token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "[REDACTED github token",
    ),
]

NEAR_MISSES = [
    "token expired",
    "missing token",
    "invalid signature",
    "Invalid token: Signature verification failed",
    "jwt.exceptions.ExpiredSignatureError: Signature has expired",
    "auth: token expired",
    "WebSocket auth failed: Bearer token missing",
    "Authorization header missing",
    "authorization: Bearer",
    'WWW-Authenticate: Bearer realm="api", error="invalid_token"',
    "trace=105445aa7843bc8bf206b12000100000 spanId=000000000000004a",
    "insertId=67c9f1ab000d2c8e4a1b3d5f",
    "request_id=3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "GET /auth/login 403",
    "POST /api/v1/token/refresh 401",
    "token_type=Bearer key_id=abc123 kid=k1",
    "JWT=REDACTED",
    "author: Jane Doe",
    "missing cookie: session",
    "the session expired, log in again",
    "rejected: bypass key missing",
    "x-e2e-bypass-key header absent",
    "monkey=banana",
    "server rejected WebSocket connection: HTTP 403",
    "projects/p/logs/run.googleapis.com%2Frequests",
]


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS)
def test_secret_is_replaced_by_a_recognisable_marker(text: str, secret: str, kept: str) -> None:
    """Each kind of secret vanishes and leaves its name/scheme and a marker."""
    out = redact(text)
    assert secret not in out
    assert kept in out


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_prose_ids_and_paths_stay_readable(text: str) -> None:
    """Words, trace ids, insertIds, request UUIDs and paths are not mistaken for secrets."""
    assert redact(text) == text


@pytest.mark.parametrize(("text", "secret", "kept"), SECRETS)
def test_redaction_is_idempotent(text: str, secret: str, kept: str) -> None:
    """Redacting output twice changes nothing: markers are never redacted again."""
    once = redact(text)
    assert redact(once) == once


def test_same_value_same_hash_different_value_different_hash() -> None:
    """Two mentions of one token share a hash; two tokens can be told apart."""
    out = redact("E2E_BYPASS_KEY=alpha then x-e2e-bypass-key: alpha, later E2E_BYPASS_KEY=beta")
    hashes = re.findall(r"sha256:([0-9a-f]{8})", out)
    assert hashes == [value_hash("alpha"), value_hash("alpha"), value_hash("beta")]
    assert hashes[0] != hashes[2]


def test_sentence_punctuation_is_not_part_of_the_value() -> None:
    """A key at the end of a sentence hashes like the same key elsewhere."""
    assert redact("rejected E2E_BYPASS_KEY=alpha.") == f"rejected E2E_BYPASS_KEY={marker('alpha')}."


def test_jwt_hash_is_the_same_in_any_context() -> None:
    """A JWT in a header, a query and prose gets one marker, so mentions can be matched up."""
    out = redact(f"Authorization: Bearer {JWT} | /ws?token={JWT} | saw {JWT}")
    assert out.count(marker(JWT)) == 3
    assert marker(JWT).startswith("[REDACTED jwt sha256:")


def test_none_and_empty_pass_through() -> None:
    """redact accepts None and the empty string unchanged."""
    assert redact(None) is None
    assert redact("") == ""


@pytest.mark.parametrize(
    ("name", "strength"),
    [
        ("x-e2e-bypass-key", "strong"),
        ("password", "strong"),
        ("X-Api-Key", "strong"),
        ("sessionId", "strong"),
        ("token", "weak"),
        ("auth", "weak"),
        ("token_type", None),
        ("key_id", None),
        ("author", None),
        ("insertId", None),
        ("trace", None),
        ("session_id", "strong"),
    ],
)
def test_secret_name_says_how_sure_a_field_name_is(name: str, strength: str | None) -> None:
    """Field names are judged by their parts: identifiers strong, bare words weak, descriptors not."""
    assert secret_name(name) == strength


def test_redact_mapping_hides_secret_fields_at_any_depth() -> None:
    """A JSON-like object loses secret values (strings and numbers) but keeps the rest."""
    obj = {
        "headers": {"x-e2e-bypass-key": "k1", "user-agent": "py"},
        "pin": 1234,
        "items": [{"token": "t-1"}, "Bearer abcdef123456"],
        "status": 403,
    }
    out = redact_mapping(obj)
    flat = repr(out)
    for secret in ("k1", "1234", "t-1", "abcdef123456"):
        assert secret not in flat
    assert out["headers"]["user-agent"] == "py"
    assert out["status"] == 403


def test_redact_value_keeps_placeholders_and_non_secret_names() -> None:
    """A secret name with a placeholder value, or a plain name, keeps its value."""
    assert redact_value("token", "missing") == "missing"
    assert redact_value("path", "/auth/login") == "/auth/login"
    assert redact_value("api_key", "abc").startswith("[REDACTED")


_B64 = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    min_size=8,
    max_size=40,
)
_jwts = st.builds(lambda h, p, s: f"eyJ{h}.eyJ{p}.{s}", _B64, _B64, _B64)
_keys = st.builds(lambda s: "AIza" + (s * 35)[:35], _B64)
_tokens = st.builds(lambda s: f"{s}9", _B64)  # token-like: always carries a digit
_names = st.sampled_from(
    ["x-e2e-bypass-key", "E2E_BYPASS_KEY", "api_key", "password", "client_secret", "X-Auth-Token"]
)
_filler = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@st.composite
def _secret_in_context(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(
        st.sampled_from(["jwt", "bearer", "apikey", "field_json", "field_eq", "header", "query"])
    )
    secret = draw({"jwt": _jwts, "apikey": _keys}.get(kind, _tokens))
    name = draw(_names)
    shaped = {
        "jwt": secret,
        "bearer": f"Authorization: Bearer {secret}",
        "apikey": secret,
        "field_json": f'{{"{name}": "{secret}"}}',
        "field_eq": f"{name}={secret}",
        "header": f"{name}: {secret}",
        "query": f"/ws?{name}={secret}&x=1",
    }[kind]
    return draw(_filler) + " " + shaped + " " + draw(_filler), secret


@settings(max_examples=300, deadline=None)
@given(_secret_in_context())
def test_generated_secrets_never_survive_redaction(case: tuple[str, str]) -> None:
    """Any generated secret in any surrounding text is gone after redact."""
    text, secret = case
    assert secret not in redact(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_redact_never_fails_and_is_idempotent_on_any_text(text: str) -> None:
    """Arbitrary text (untrusted log content) is handled, and a second pass changes nothing."""
    once = redact(text)
    assert isinstance(once, str)
    assert redact(once) == once


@pytest.mark.parametrize(
    "text",
    [
        '{"labels":{"python_logger":"app.auth.jwt","instanceId":"004a6992b2a6"}}',
        '{"rateLimitAction":{"key":"34.127.88.14","outcome":"BAN_THRESHOLD_EXCEED"}}',
        "a debug line prints the raw `Authorization: Bearer` header",
        "AuthPolicyMiddleware: rejected request for tenant-42",
        "JWTAuthentication: Given token not valid for any token type",
        "token_ttl_s=300 session_start=2025-09-07T09:00:00Z ws_token_via=query",
        "bypass key missing on automated request",
        "JWT audience 'netra-api' does not match 'netra-web'",
        "secret rotated at 2025-09-07, token for user 'alice' expired",
        "api key quota exceeded for project 12345",
        "Sec-WebSocket-Protocol: graphql-transport-ws, chat.v1",
        "password reset-link sent to the user",
        '{"message": "ws rejected: missing token","severity": "WARNING", "logging.googleapis.com/labels": {"python_logger": "app.ws"}}',
        "Invalid token type. Token must be a <class 'bytes'>",
        "jwt audience invalid. expected: netra-api",
        "An error occurred while attempting to decode the Jwt: Signed JWT rejected: Invalid signature",
        "Authentication credentials were not provided.",
        "CSRF Failed: CSRF token missing.",
        "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header",
        "The request was not authenticated. Either allow unauthenticated invocations or set the proper Authorization header.",
        "Full authentication is required to access this resource",
        '{"enforcedSecurityPolicy":{"rateLimitAction":{"key":"2001:db8::1"}}}',
    ],
)
def test_log_structure_seen_in_fixtures_is_not_mistaken_for_secrets(text: str) -> None:
    """Logger names, JSON value lists, limiter keys that are IPs and prose about headers stay as logged."""
    assert redact(text) == text


@pytest.mark.parametrize("prefix", ["svc-", "id_", "token:", "x/", "["])
def test_jwt_glued_to_a_prefix_is_still_redacted(prefix: str) -> None:
    """A JWT right after a hyphen or underscore (``svc-eyJ...``) is found, not taken for part of a word."""
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl"
    out = redact(f"caller {prefix}{jwt} rejected")
    assert jwt not in out
    assert "[REDACTED jwt sha256:" in out


@pytest.mark.parametrize("text", ["WARNING in auth: 401 on GET /api/x", "token: 403 from the gateway", "session: 500"])
def test_http_status_after_a_weak_secret_word_stays(text: str) -> None:
    """A status code after a bare word like ``auth:`` is evidence, not a credential: it stays readable."""
    assert redact(text) == text


def test_short_one_time_codes_under_strong_names_are_still_hidden() -> None:
    """Digits under a strong name (password) are hidden even when they look like a status."""
    assert "401" not in redact("password: 401")


@pytest.mark.parametrize("text", ["invalid JWT: unable to parse token", "JWT: malformed header", "TOKEN: expired"])
def test_upper_case_acronym_before_a_colon_is_prose(text: str) -> None:
    """``invalid JWT: unable to parse`` is a sentence about a token, not a token: it stays readable."""
    assert redact(text) == text


def test_upper_case_acronym_before_a_colon_still_hides_a_token_shaped_value() -> None:
    """A token-shaped value after ``JWT:`` is still hidden."""
    assert "abc123def456" not in redact("JWT: abc123def456")
