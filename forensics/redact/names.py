"""Which names hold secrets, and which values look like one: the judgement behind ``redact``.

A field called ``x-e2e-bypass-key`` holds a secret whatever its value; ``token_type`` only
describes one; ``token: expired`` is prose. These rules are kept apart from the patterns in
``forensics.redact.fields`` so they can be read (and tested) as a small policy.
"""

from __future__ import annotations

import ipaddress
import re

#: The start of every redaction marker: a value that already is one is never hidden again.
MARK = "[REDACTED"

# fmt: off
#: Values that say a secret is absent rather than being one: never worth hiding.
PLACEHOLDERS = frozenset((
    "none", "null", "nil", "undefined", "missing", "empty", "absent", "present", "invalid",
    "expired", "true", "false", "yes", "no", "ok", "redacted", "***", "****", "*****", "<redacted>",
    "[redacted]", "[hidden]", "hidden", "masked", "xxx", "xxxx", "unset", "set", "required",
    "not-set", "notset", "n/a", "na", "-", "bearer", "basic",
))
#: Name parts that make any field secret, whatever its value looks like.
_STRONG = ("password", "passwd", "pwd", "passphrase", "secret", "bypass", "apikey", "credential")
# Name parts that make a field secret; alone as a bare word ("token: expired") they need a value
# that looks like one, because such names also start prose.
_WEAK_AFFIX = ("token", "auth", "session", "cookie", "signature", "jwt")  # prefix or suffix of a part
_WEAK_EXACT = frozenset(("key", "sig", "sid", "csrf", "xsrf", "pin", "otp"))
_NOT_KEYS = frozenset(("monkey", "turkey", "donkey", "hockey", "jockey", "whiskey", "hotkey"))
#: Last name parts that describe a secret rather than hold it (``token_type``, ``key_id``).
_DESCRIBES = frozenset((
    "type", "kind", "id", "kid", "name", "expired", "expiry", "expires", "exp", "iat", "nbf",
    "present", "missing", "valid", "invalid", "length", "len", "count", "status", "error", "reason",
    "source", "header", "field", "param", "location", "used", "required", "algorithm", "alg", "url",
    "uri", "endpoint", "path", "ttl", "age", "format", "version", "scope", "scopes", "issuer", "iss",
    "audience", "aud", "prefix", "hint", "start", "end", "started", "ended", "timeout", "duration",
    "via", "mode", "enabled", "disabled", "log", "logger", "policy", "middleware", "handler", "check",
    "checker", "validator", "verifier", "service", "provider", "manager", "backend", "module", "class",
))
#: Last name parts that still name the secret itself (``api_key_value``, ``AUTH_TOKEN_V2``).
_VALUE_SUFFIXES = frozenset(("value", "val", "str", "string", "raw", "b64", "base64", "hex", "hash",
                             "v1", "v2", "v3", "old", "new", "current", "previous", "prev", "next"))
# fmt: on


def looks_like_value(value: str) -> bool:
    """A token-ish string (digit, symbol or long) rather than a word of prose.

    An HTTP status (``auth: 401``, ``token: 403``) is evidence a report must show, not a credential.
    """
    if len(value) == 3 and value.isdigit() and 100 <= int(value) <= 599:
        return False
    return len(value) >= 16 or any(not c.isalpha() for c in value)


def name_parts(name: str) -> list[str]:
    """The lowercase words of a name: ``X-Api-Key`` and ``xApiKey`` are ``["x", "api", "key"]``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]


def _weak_part(p: str) -> bool:
    if p.startswith(("author", "authenticat")) and not p.startswith(("authoriz", "authoris")):
        return False  # author, authority, www-authenticate: not credentials
    if p in _WEAK_EXACT or (p.endswith("key") and p not in _NOT_KEYS):
        return True
    return any(p.startswith(w) or p.endswith(w) for w in _WEAK_AFFIX)


def secret_name(name: str, *, strict: bool = False) -> str | None:
    """How strongly a field or header name says it holds a secret: "strong", "weak" or None.

    ``x-e2e-bypass-key`` and ``password`` are strong; a bare ``token`` or ``auth`` is weak
    (its value is hidden only when it looks like a value); ``token_type``, ``key_id``,
    ``token_ttl_s``, ``author`` and ``monkey`` are not secret names at all.

    Args:
        name: the field, header, parameter or variable name.
        strict: the name ends in a colon in free text, where ``AuthMiddleware: denied`` is a
            logger talking: only names whose last part is the secret (``X-Api-Key:``) count.
    """
    parts = name_parts(name)
    hits = [i for i, p in enumerate(parts) if _weak_part(p) or any(w in p for w in _STRONG)]
    if not hits:
        return None
    tail = parts[hits[-1] + 1 :]
    if tail == ["id"] and (not parts[hits[-1]].endswith("key") or "private" in parts):
        # session_id, sessionId hold a session; key_id only names a key, but a service account's
        # private_key_id is the handle to its private key: hidden with it
        tail = []
    if any(t in _DESCRIBES for t in tail):
        return None  # token_type, key_id, token_ttl_s, auth_error: about a secret, not one
    if strict and any(t not in _VALUE_SUFFIXES for t in tail):
        return None
    if any(w in "".join(parts) for w in _STRONG) or ("api" in parts and "key" in parts):
        return "strong"
    # a multi-part identifier (X-Api-Key, E2E_TOKEN, sessionId) is a field, not a word of prose
    # (an upper-case env var, TOKEN=..., too; but before a colon in prose "JWT:" is an acronym)
    return "strong" if len(parts) > 1 or (name.isupper() and not strict) else "weak"


def is_ip(value: str) -> bool:
    """Whether ``value`` is an IPv4 or IPv6 address (evidence, never a credential)."""
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def hide_value(value: str, strength: str | None, quoted: bool = False) -> bool:
    """Whether a value found under a name of ``strength`` should be hidden.

    Placeholders, markers and IP addresses never are; strong names and quoted values always;
    weak names only when the value looks like one.
    """
    if not value or value.strip().lower() in PLACEHOLDERS or value.startswith(MARK):
        return False
    if is_ip(value):
        return False  # a rate limiter's "key" or a client address: evidence, not a credential
    if strength == "strong" or quoted:
        return True
    return strength == "weak" and looks_like_value(value)
