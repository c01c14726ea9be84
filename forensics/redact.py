"""Keep secrets that logs hold (JWTs, bearer tokens, cookies, API and bypass keys) out of output.

Every output path (text, JSON, markdown, plots, notebook reprs, error messages) passes the text
it shows through ``redact``. A redacted value keeps what lets a reader recognise it (the header or
field name, the token kind, a short hash) and never the value itself::

    Authorization: Bearer eyJhbGciOi...   ->  Authorization: Bearer [REDACTED jwt sha256:1a2b3c4d]
    x-e2e-bypass-key=abc                  ->  x-e2e-bypass-key=[REDACTED sha256:ba7816bf]
    Cookie: session=9f8e; theme=dark      ->  Cookie: session=[REDACTED sha256:..]; theme=[REDACTED sha256:..]

The hash is the first 8 hex digits of the value's SHA-256, so two mentions of one token can be
told apart from two different tokens, and a user can check a value they hold
(``printf %s "$KEY" | sha256sum | cut -c1-8``) without the report ever showing it.

Redaction is idempotent (markers are never redacted again) and leaves prose alone: "token
expired", "invalid signature", ``/auth/login``, trace ids, insertIds and request UUIDs stay readable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from forensics.secret_names import (
    MARK,
    hide_value,
    secret_name,
)
from forensics.secret_prose import redact_prose
from forensics.secret_shapes import (
    marker,
    redact_private_keys,
    redact_shapes,
    value_hash,
)

__all__ = [
    "MARK",
    "marker",
    "redact",
    "redact_mapping",
    "redact_value",
    "secret_name",
    "value_hash",
]

# fmt: off
#: Set-Cookie attributes: not cookies, their values are kept.
_COOKIE_ATTRS = frozenset((
    "path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "partitioned",
    "priority", "version", "comment",
))
# fmt: on

_SECRET_WORD = r"(?:key|secret|token|passw(?:or)?d|pwd|passphrase|bypass|auth|credential|session|cookie|sig|jwt|sid|csrf|xsrf|pin|otp)"
# one possessive run of name characters that contains a secret word: linear time on long words
_NAME = rf"(?=[\w.-]*?{_SECRET_WORD})[\w.-]++"
_SEP_Q = r"[ \t]*[:=][ \t]*"
_FIELD_TRIGGER = re.compile(_SECRET_WORD)

_AUTH_SCHEMES = ("bearer", "basic", "digest", "negotiate", "token", "apikey", "jwt", "dpop", "hmac")
_URL_USERINFO = re.compile(r"(?<=://)([^\s/:@\"']+):(?!\[REDACTED)([^\s/@\"']+)@")
_AUTHORIZATION = re.compile(
    # Authorization, Proxy-Authorization, X-Serverless-Authorization, X-Forwarded-Authorization
    r"(?i)(?<![\w-])((?:[\w]+-)*authorization\\*[\"']?" + _SEP_Q + r"\\*[\"']?)"
    r"(?:(" + "|".join(_AUTH_SCHEMES) + r")[ \t]+)?+"
    r"(?!\[REDACTED)([^\s\"'`,;\\]+)"
)
#: ``Sec-WebSocket-Protocol: access_token, <token>``: browsers cannot set headers on a WebSocket,
#: so clients smuggle the token in as a subprotocol.
_WS_PROTOCOL = re.compile(
    r"(?i)(?<![\w-])(sec-websocket-protocol\\*[\"']?" + _SEP_Q + r"\\*[\"']?)([^\r\n\"\\]*)"
)
_TOKEN_MARKERS = frozenset(
    ("token", "access_token", "access-token", "jwt", "bearer", "auth", "authorization")
)
_COOKIE = re.compile(
    r"(?i)(?<![\w-])((?:set-)?cookie)(\\*[\"']?" + _SEP_Q + r"\\*[\"']?)([^\r\n\"\\]*)"
)
#: ``"name": "value"``, ``'name': 'value'``, ``\"name\": \"value\"`` (JSON inside a string).
_QUOTED_FIELD = re.compile(
    r"(?i)(?P<nq>\\*[\"'])(?P<name>"
    + _NAME
    + r")(?P=nq)(?P<sep>[ \t]*[:=][ \t]*|,[ \t]*(?=b?\\*[\"']))"
    r"(?P<b>b?)(?P<vq>\\*[\"'])(?!\[REDACTED)(?P<val>[^\n]*?)(?<!\\)(?P=vq)"
)
#: ``name=value``, ``name: value``, ``?name=value&``, ``NAME="value"``.
_BARE_FIELD = re.compile(
    r"(?i)(?<![\w.\-\\])(?P<name>" + _NAME + r")(?P<sep>[ \t]*[:=][ \t]*)(?!\[REDACTED)"
    # a bare value does not take the full stop or colon that ends a sentence
    r"(?:(?P<vq>[\"'])(?P<qval>[^\"'\n]*)(?P=vq)|(?P<val>[^\s,;&\"'`<>(){}\[\]]*[^\s,;&\"'`<>(){}\[\].:]))"
)


def redact_value(name: str, value: Any) -> Any:
    """``value`` of a field called ``name``, hidden if the name says it is a secret.

    Args:
        name: the field, header, query parameter or variable name.
        value: its value; non-strings are returned unchanged unless the name is secret.

    Returns:
        A marker for secret values, else ``value`` with any secret inside it redacted.
    """
    if isinstance(value, str):
        if secret_name(name) and hide_value(value, "strong"):
            return marker(value)
        return redact(value)
    if value is not None and not isinstance(value, (bool, dict, list, tuple)) and secret_name(name):
        return marker(str(value))
    return redact_mapping(value) if isinstance(value, (dict, list, tuple)) else value


def redact_mapping(obj: Any) -> Any:
    """A copy of a JSON-like object with secret fields hidden and every string redacted."""
    if isinstance(obj, Mapping):
        return {k: redact_value(str(k), v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact_mapping(v) for v in obj]
    if isinstance(obj, str):
        return redact(obj)
    return obj


def _sub_authorization(m: re.Match[str]) -> str:
    head, scheme, value = m.group(1), m.group(2), m.group(3)
    if not scheme and not hide_value(
        value, "weak" if ":" in head and '"' not in head else "strong"
    ):
        return m.group(0)
    return head + (scheme + " " if scheme else "") + marker(value)


def _sub_ws_protocol(m: re.Match[str]) -> str:
    """Subprotocols kept by name; a token item (after ``access_token``, or token-shaped) hidden."""
    items = m.group(2).split(",")
    out, after_marker = [], False
    for item in items:
        core = item.strip()
        tokenish = len(core) >= 20 and any(c.isdigit() for c in core)
        if (
            core
            and not core.startswith(MARK)
            and (after_marker or tokenish)
            and core.lower() not in _TOKEN_MARKERS
        ):
            item = item.replace(core, marker(core), 1)
        after_marker = core.lower() in _TOKEN_MARKERS
        out.append(item)
    return m.group(1) + ",".join(out)


def _sub_cookie(m: re.Match[str]) -> str:
    name, sep, value = m.groups()
    return name + sep + _cookie_value(name, value)


def _cookie_value(name: str, value: str) -> str:
    """A Cookie / Set-Cookie value with each cookie's value hidden and its name kept."""
    set_cookie = name.lower().strip("\"'\\").startswith("set-")
    out = []
    for i, seg in enumerate(value.split(";")):
        k, eq, v = seg.partition("=")
        core = v.strip()
        if eq and core and not core.startswith(MARK):
            if not (set_cookie and i > 0 and k.strip().lower() in _COOKIE_ATTRS):
                seg = k + "=" + v.replace(core, marker(core), 1)
        elif (
            not eq and seg.strip().lower() not in _COOKIE_ATTRS and hide_value(seg.strip(), "weak")
        ):
            seg = seg.replace(seg.strip(), marker(seg.strip()), 1)
        out.append(seg)
    return ";".join(out)


def _auth_value(value: str) -> str:
    """An Authorization value with the credential hidden and the scheme kept."""
    scheme, space, rest = value.partition(" ")
    if space and scheme.lower() in _AUTH_SCHEMES:
        rest = rest.strip()
        return value if not rest or rest.startswith(MARK) else f"{scheme} {marker(rest)}"
    return value if value.startswith(MARK) or not value else marker(value)


def _skip_header(name: str) -> bool:
    # handled with their structure kept (scheme, cookie names) by their own patterns
    low = name.lower().strip("\"'\\")
    return low.endswith("authorization") or low in ("cookie", "set-cookie")


def _replace_group(m: re.Match[str], group: str, new: str) -> str:
    start, end = m.span(group)
    s0, text = m.start(), m.group(0)
    return text[: start - s0] + new + text[end - s0 :]


def _opens_tuple(text: str, start: int) -> bool:
    """Whether a quoted name at ``start`` opens a pair: ``('name', ...`` or ``[b'name', ...``."""
    i = start - 1
    while i >= 0 and text[i] in " b":
        i -= 1
    return i >= 0 and text[i] in "(["


def _sub_quoted(m: re.Match[str]) -> str:
    name, val = m.group("name"), m.group("val")
    if m.group("sep").startswith(",") and not _opens_tuple(m.string, m.start()):
        # "a","b" in JSON is two values, not a (name, value) pair: look only inside the value
        return _replace_group(m, "val", _QUOTED_FIELD.sub(_sub_quoted, val))
    if _skip_header(name) and m.group("sep").startswith(","):
        # a header list such as [(b'authorization', b'Basic ...')]: no ':' for the header patterns
        low = name.lower()
        return _replace_group(
            m, "val", _cookie_value(low, val) if "cookie" in low else _auth_value(val)
        )
    hide = not _skip_header(name) and secret_name(name) and hide_value(val, "strong", quoted=True)
    return _replace_group(m, "val", marker(val) if hide else _QUOTED_FIELD.sub(_sub_quoted, val))


def _sub_bare(m: re.Match[str]) -> str:
    name = m.group("name")
    val = m.group("qval") if m.group("vq") else m.group("val")
    grp = "qval" if m.group("vq") else "val"
    sep = m.group("sep")
    strength = (
        None
        if _skip_header(name)
        else secret_name(name, strict="=" not in sep and not m.group("vq"))
    )
    if strength and ("=" in m.group("sep") or m.group("vq")):
        strength = "strong"  # name=value and quoted values are assignments, not prose
    if strength and hide_value(val, strength):
        return _replace_group(m, grp, marker(val))
    # the value was consumed by a name that is not secret: look inside it (a=b?token=c)
    return _replace_group(m, grp, _BARE_FIELD.sub(_sub_bare, val))


def redact(text: str | None) -> str | None:
    """``text`` with every secret replaced by a recognisable marker.

    Args:
        text: any string shown to a user (a log message, a test id, an explanation), or None.

    Returns:
        The same text with JWTs, bearer/basic credentials, cookie values, API keys, private keys
        and values of secret-named fields replaced by ``[REDACTED <kind> sha256:<8 hex>]``.
    """
    if not text:
        return text
    return _redact_cached(text) if len(text) <= _CACHE_MAX_CHARS else _redact(text)


#: Strings up to this length are cached: reports repeat the same explanations and summaries.
_CACHE_MAX_CHARS = 4096


def _redact(text: str) -> str:
    low = text.lower()
    # each pass runs only when its trigger is in the text: most output strings hold no secret
    if "private key-----" in low:
        text = redact_private_keys(text)
    if "://" in text and "@" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}:{marker(m.group(2))}@", text)
    if "authorization" in low:
        text = _AUTHORIZATION.sub(_sub_authorization, text)
    if "sec-websocket-protocol" in low:
        text = _WS_PROTOCOL.sub(_sub_ws_protocol, text)
    if "cookie" in low:
        text = _COOKIE.sub(_sub_cookie, text)
    if _FIELD_TRIGGER.search(low):
        if '"' in text or "'" in text:
            text = _QUOTED_FIELD.sub(_sub_quoted, text)
        text = _BARE_FIELD.sub(_sub_bare, text)
    text = redact_shapes(text, low)
    return redact_prose(text, low)


_redact_cached = functools.lru_cache(maxsize=8192)(_redact)
