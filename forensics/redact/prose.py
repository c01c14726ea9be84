"""Keys named in sentences: ``bypass key e2e-k1 rejected``, ``got 'k1', expected 'k2'``.

Apps log the value they compared against in prose more often than in fields. After a word that
names a key (bypass key, api key, secret, password, credentials, token), the next word or the
quoted values chained right after it are hidden when they look like keys (letters and digits),
and kept when they are words (``bypass key missing``, ``password reset-link``).
"""

from __future__ import annotations

import re

from forensics.redact.names import PLACEHOLDERS, is_ip
from forensics.redact.shapes import marker

_PROSE_TRIGGER = re.compile(r"key|secret|passw|passphrase|credential|token")

#: Words after which quoted values are keys: ``bypass key mismatch: got 'e2e-k1', expected 'e2e-k2'``.
_PROSE_WORD = re.compile(
    r"(?i)\b(?:bypass[ _-]?key|api[ _-]?key|secret|passw(?:or)?d|passphrase|credentials?|token)s?\b"
)
# the next quoted value within a few words, with no other quote between (not a JSON key)
_NEXT_QUOTED = re.compile(
    r"[^'\"\n]{0,40}?(?<![\w\\])(['\"])(?!\[REDACTED)([^'\"\s]{4,200})\1(?![ \t]*:)"
)
#: The word right after "bypass key", "api key", "secret", "password": ``bypass key e2e-k1 rejected``.
_PROSE_NEXT = re.compile(
    r"(?i)\b(?:bypass[ _-]?key|api[ _-]?key|secret|passw(?:or)?d|passphrase)s?[ \t]+(?:value[ \t]+)?"
    r"(?!\[REDACTED|sha256:)([^\s'\"`,;()<>\[\]]{6,200})"
)


def _prose_secret(value: str) -> bool:
    """A word in a sentence that is a key rather than prose: letters and digits, or long mixed case.

    Stricter than a field's value: ``reset-link`` or ``v2`` next to "password" are words.
    """
    if value.lower() in PLACEHOLDERS or is_ip(value) or len(value) < 4:
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    mixed_case = any(c.islower() for c in value) and any(c.isupper() for c in value)
    return (has_digit and has_alpha) or (len(value) >= 20 and mixed_case)


def _quoted_after_words(text: str) -> str:
    """Quoted values that look like keys, chained right after a key/secret/token word."""
    out, pos = [], 0
    for word in _PROSE_WORD.finditer(text):
        at = word.end()
        while at >= pos and (q := _NEXT_QUOTED.match(text, at)) is not None:
            if _prose_secret(q.group(2)):
                out += [text[pos : q.start(2)], marker(q.group(2))]
                pos = q.end(2)
            at = q.end()
    return "".join(out) + text[pos:] if out else text


def _prose_value(m: re.Match[str], group: int) -> str:
    """Hide a value prose names as a key when it looks like one (letters and digits)."""
    value = m.group(group).rstrip(".:")
    if not _prose_secret(value):
        return m.group(0)
    start = m.start(group)
    text = m.group(0)
    return text[: start - m.start()] + marker(value) + text[start - m.start() + len(value) :]


def redact_prose(text: str, low: str) -> str:
    """``text`` (and its lowercase ``low``) with keys that sentences name replaced by markers."""
    if not _PROSE_TRIGGER.search(low):
        return text
    text = _quoted_after_words(text)
    return _PROSE_NEXT.sub(lambda m: _prose_value(m, 1), text)
