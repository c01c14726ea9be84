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

Secrets are found by the name in front of them (``fields``, ``prose``), by their shape (``shapes``,
with the provider catalogue of ``catalogue``) and, after any ``=`` or ``:``, by their randomness
(``entropy``). Text is redacted before it is cut (``shorten``): a cut never leaves a secret's
prefix behind, which no pattern could recognise afterwards.

Redaction is idempotent (markers are never redacted again) and leaves prose alone: "token
expired", "invalid signature", ``/auth/login``, trace ids, insertIds and request UUIDs stay readable.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from forensics.redact.entropy import id_name, random_value, redact_random_values
from forensics.redact.fields import redact_fields
from forensics.redact.names import MARK, hide_value, secret_name
from forensics.redact.prose import redact_prose
from forensics.redact.shapes import marker, redact_private_keys, redact_shapes, value_hash

__all__ = [
    "MARK",
    "marker",
    "redact",
    "redact_mapping",
    "redact_value",
    "redaction_counts",
    "secret_name",
    "shorten",
    "value_hash",
]


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
        if random_value(value) and not id_name(name):
            return marker(value, "high-entropy")
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


def shorten(text: str | None, limit: int) -> str:
    """``text`` redacted, then cut to ``limit`` characters with an ellipsis.

    The cut never falls inside a marker, and it comes after redaction: cutting first could leave
    a secret's first characters (``AIzaSyDaGmWKa4JsXZ-HjGw7IS…``) that no pattern recognises.
    """
    shown = redact(text) or ""
    if len(shown) <= limit:
        return shown
    cut = max(limit - 1, 0)
    mark = shown.rfind(MARK, 0, cut + len(MARK) - 1)  # the last marker that starts before the cut
    if mark != -1 and mark < cut and shown.find("]", mark, cut) == -1:
        cut = mark  # never show half a marker
    return shown[:cut] + "…"


#: A marker: ``[REDACTED <kind> sha256:<8 hex>]``; a value hidden for its name has no kind.
_MARKER = re.compile(r"\[REDACTED (?:(?P<kind>[^\]\[]*?) )?sha256:(?P<hash>[0-9a-f]{8})\]")
#: The kind counted for a value hidden because of the name in front of it.
BY_NAME = "by name"


def redaction_counts(obj: Any) -> dict[str, int]:
    """How many distinct secrets of each kind the strings of a JSON-like ``obj`` hide.

    Counted from the markers (one secret mentioned ten times counts once, by its hash), so it says
    what an output hides, never the values: ``{"by name": 2, "github token": 1, "jwt": 3}``.
    """
    seen: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if MARK in node:
                for m in _MARKER.finditer(node):
                    seen.setdefault(m.group("kind") or BY_NAME, set()).add(m.group("hash"))
        elif isinstance(node, Mapping):
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(obj)
    return {kind: len(hashes) for kind, hashes in sorted(seen.items())}


#: Strings up to this length are cached: reports repeat the same explanations and summaries.
_CACHE_MAX_CHARS = 4096


def _redact(text: str) -> str:
    low = text.lower()
    # each pass runs only when its trigger is in the text: most output strings hold no secret
    if "private key-----" in low:
        text = redact_private_keys(text)
    text = redact_fields(text, low)
    text = redact_shapes(text, low)
    text = redact_random_values(text, marker)
    return redact_prose(text, low)


_redact_cached = functools.lru_cache(maxsize=8192)(_redact)
