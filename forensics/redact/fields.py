"""Secrets found by the name in front of them: headers, cookies, URL credentials, named fields.

``Authorization: Bearer <token>`` keeps its scheme, ``Cookie: session=<value>`` its cookie names,
``{"x-e2e-bypass-key": "<value>"}`` and ``?token=<value>`` their names: only the value becomes a
marker. Which names count as secret is decided in ``forensics.redact.names``.
"""

from __future__ import annotations

import re

from forensics.redact.names import MARK, hide_value, secret_name
from forensics.redact.shapes import marker

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


def redact_fields(text: str, low: str) -> str:
    """``text`` (and its lowercase ``low``) with URL passwords, credential headers, cookies and
    the values of secret-named fields replaced by markers."""
    # each pass runs only when its trigger is in the text: most output strings hold no secret
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
    return text
