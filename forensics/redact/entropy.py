"""Random values after any name: ``ctx=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY``.

A secret logged under a name that says nothing (``ctx=``, ``note:``, ``"data": "…"``) has no shape
to know it by but its randomness. After ``=`` or ``:``, a value is hidden when it is long enough
(24 characters), mixes upper case, lower case and digits, spreads its characters as a random
string does (Shannon entropy) and is not made of words (``defaultEventLoopGroup2``).

Ids the triage needs stay readable: a value under a name that says it is an id (``insertId``,
``trace``, ``spanId``, ``requestId``, ``revision_name``, ``instanceId``, ...) is never hidden,
and hex ids, UUIDs and revision names never mix cases, so they are not hidden under any name.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

from forensics.redact.names import name_parts

#: Shorter values are kept: a 20-character random string is too often an identifier.
MIN_CHARS = 24
#: Entropy as a share of the most a value of its length can have (random base64: 0.84 to 0.95).
_MIN_SPREAD = 0.8
#: At most this share of a value may be runs of 4+ lower-case letters (random base64: 0.4 at most).
_MAX_WORDS = 0.5

# fmt: off
#: Name words that say the value is an id a reader needs to find entries again.
ID_WORDS = frozenset((
    "id", "ids", "uuid", "guid", "insert", "trace", "traceparent", "tracestate", "span", "request",
    "req", "rid", "revision", "instance", "operation", "execution", "correlation", "etag", "hash",
    "digest", "checksum", "sha", "name", "thread", "version", "build", "commit", "cursor",
))
# fmt: on

# base64 or base64url after a separator (a quote may open it), ended where a token ends; the
# value is taken possessively so that a long word costs one pass, not one per character
_AFTER_SEPARATOR = re.compile(
    r"[:=][ \t]*(?:\\*[\"'])?(?!//)"  # not the // of a URL
    r"(?P<val>[A-Za-z0-9+/_-]{" + str(MIN_CHARS) + r",}+={0,2})(?![A-Za-z0-9+/_=~-]|\.[A-Za-z0-9])"
)
_WORD = re.compile(r"[a-z]{4,}")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")


def id_name(name: str) -> bool:
    """Whether a field name says its value is an id (``insertId``, ``X-Cloud-Trace-Context``)."""
    return any(p in ID_WORDS for p in name_parts(name))


def random_value(value: str) -> bool:
    """Whether ``value`` reads as a random string (a key) rather than an id or a word."""
    core = value.rstrip("=")
    n = len(core)
    if n < MIN_CHARS or not core.isascii():
        return False
    if ("/" in core or "+" in core) and ("-" in core or "_" in core):
        return False  # base64 uses +/, base64url -_; both together is a path or a name
    if not (any(c.isupper() for c in core) and any(c.islower() for c in core)):
        return False  # hex ids, UUIDs, revision names, timestamps: one case only
    if sum(len(w) for w in _WORD.findall(core)) > _MAX_WORDS * n:
        return False  # camelCase and kebab-case identifiers
    counts = Counter(core).values()
    entropy = -sum(c / n * math.log2(c / n) for c in counts)
    return entropy >= _MIN_SPREAD * math.log2(min(n, 64))


def _name_before(text: str, end: int) -> str:
    """The name right before a separator at ``end``: ``ctx`` in ``"ctx": "…"`` or ``ctx=…``."""
    i = end
    while i > 0 and text[i - 1] in "\"'\\ \t":
        i -= 1
    j = i
    while j > 0 and i - j < 100 and text[j - 1] in _NAME_CHARS:
        j -= 1
    return text[j:i]


def redact_random_values(text: str, marker: Callable[[str, str], str]) -> str:
    """``text`` with random values after ``=`` or ``:`` replaced by ``marker(value, kind)``."""
    if len(text) <= MIN_CHARS:
        return text

    def sub(m: re.Match[str]) -> str:
        value = m.group("val")
        if not random_value(value) or id_name(_name_before(m.string, m.start())):
            return m.group(0)
        start = m.start("val") - m.start()
        return m.group(0)[:start] + marker(value, "high-entropy")

    return _AFTER_SEPARATOR.sub(sub, text)
