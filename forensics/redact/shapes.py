"""Secrets recognised by their shape wherever they appear, and the marker that replaces them.

A JWT, a Google API key or a PEM private key needs no field name to be recognised: these patterns
find them anywhere in a string. Google's own shapes are here, each found from its first 12
characters so that a key an app logged cut short is hidden too; other providers' shapes come from
the maintained catalogue in ``forensics.redact.catalogue``. ``marker`` is the one place that
decides what a hidden value looks like: ``[REDACTED <kind> sha256:<8 hex>]``.
"""

from __future__ import annotations

import hashlib
import re

from forensics.redact.catalogue import kind_in_catalogue, redact_catalogue

# a JWT, or the header.payload left of one that was cut short ("eyJ...eyJ..." then an ellipsis)
_JWT = re.compile(
    r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{4,}\.(?:[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*|eyJ[A-Za-z0-9_-]*)(?![\w-])"
)
#: Google's credential shapes, which the catalogue lacks, each found from its first 12 characters
#: on: API keys ``AIza…``, OAuth client secrets ``GOCSPX-…``, access tokens ``ya29.…``, refresh
#: tokens ``1//…``; and GitHub's fine-grained tokens ``github_pat_…``, also missing there.
_KNOWN_TOKENS = re.compile(
    r"(?<![A-Za-z0-9])(?:(?P<google_api_key>AIza[0-9A-Za-z_-]{8,35})"
    r"|(?P<google_oauth_client_secret>GOCSPX-[0-9A-Za-z_-]{5,})"
    r"|(?P<google_access_token>ya29\.[0-9A-Za-z_-]{7,}(?:\.[0-9A-Za-z_-]+)*)"
    r"|(?P<google_refresh_token>1//[0-9A-Za-z_-]{9,})"
    r"|(?P<github_token>github_pat_[0-9A-Za-z_]{8,}))"
)
_TOKEN_TRIGGER = re.compile(r"AIza|GOCSPX-|ya29\.|1//|github_pat_")

#: ``Bearer <token>`` in prose; the token must look like one (a digit or symbol, or long).
_BEARER = re.compile(
    r"(?i)(?<![\w-])(bearer)([ \t]+)(?!\[REDACTED)(?![a-z_]+=)"
    r"((?=[A-Za-z0-9._~+/-]*[0-9._~+/-][A-Za-z0-9._~+/-]*[A-Za-z0-9_~+/-])[A-Za-z0-9._~+/-]{5,}[A-Za-z0-9_~+/-]=*"
    r"|[A-Za-z]{16,}=*)"
)

_PK_BEGIN = re.compile(r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PK_END = re.compile(r"-----END[A-Z0-9 ]{0,40}PRIVATE KEY-----")
_PK_BODY = re.compile(r"[A-Za-z0-9+/=\s\\]*")


def value_hash(value: str) -> str:
    """The short hash a marker shows: 8 hex digits of the value's SHA-256."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def kind_of(value: str) -> str | None:
    """The kind a value is recognised as ("jwt", "google api key", ...), or None."""
    if _JWT.fullmatch(value):
        return "jwt"
    m = _KNOWN_TOKENS.fullmatch(value)
    if m:
        return _kind(m)
    if value.startswith("-----BEGIN"):
        return "private key"
    return kind_in_catalogue(value)


def _kind(m: re.Match[str]) -> str:
    return (m.lastgroup or "").replace("_", " ")


def marker(value: str, kind: str | None = None) -> str:
    """The text shown instead of a secret ``value``: ``[REDACTED jwt sha256:1a2b3c4d]``."""
    kind = kind or kind_of(value)
    return (
        f"[REDACTED {kind} sha256:{value_hash(value)}]"
        if kind
        else f"[REDACTED sha256:{value_hash(value)}]"
    )


def redact_private_keys(text: str) -> str:
    """PEM private key blocks (or their truncated starts) replaced, in one left-to-right pass."""
    out, pos = [], 0
    end = _PK_END.search(text)
    while (begin := _PK_BEGIN.search(text, pos)) is not None:
        if end is not None and end.start() < begin.end():
            end = _PK_END.search(text, begin.end())  # searched again only past each END: linear
        nxt = _PK_BEGIN.search(text, begin.end())
        if end is not None and (nxt is None or end.start() < nxt.start()):
            stop = end.end()
        else:  # cut off before its END line: hide the base64 body that follows
            stop = _PK_BODY.match(text, begin.end()).end()  # type: ignore[union-attr]
        out += [text[pos : begin.start()], marker(text[begin.start() : stop], "private key")]
        pos = stop
    return "".join(out) + text[pos:]


def redact_shapes(text: str, low: str) -> str:
    """``text`` (and its lowercase ``low``) with JWTs, token shapes and bearer tokens hidden."""
    if "eyj" in low:
        text = _JWT.sub(lambda m: marker(m.group(0), "jwt"), text)
    if _TOKEN_TRIGGER.search(text):
        text = _KNOWN_TOKENS.sub(lambda m: marker(m.group(0), _kind(m)), text)
    text = redact_catalogue(text, low, marker)
    if "bearer" in low:
        text = _BEARER.sub(lambda m: m.group(1) + m.group(2) + marker(m.group(3)), text)
    return text
