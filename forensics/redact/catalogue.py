"""Provider token shapes from a maintained catalogue: the regex detectors of ``detect-secrets``.

``detect-secrets`` (Yelp) keeps one detector per provider: AWS access key ids, GitHub, GitLab,
Slack, Stripe, Twilio, SendGrid, OpenAI, PyPI, npm, Discord, Telegram, Azure storage keys and
more. Its patterns are read once, on the first redaction, and each is compiled on its own:
Python's ``re`` finds a pattern that opens with a literal (``ghp_``, ``xox``) far faster alone
than inside one large alternation. An upgrade of ``detect-secrets`` brings new shapes with it.

Each pattern runs only on text that holds the literal every match of it contains (``AP``, ``-us``,
``k_live_``), read from the pattern itself: most log lines then cost a substring test per shape.

A few detectors are not used, because another pass here does their job better for logs (see
``NOT_USED``). Google's own shapes are not in the catalogue; ``forensics.redact.shapes`` has them.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any, NamedTuple

#: detect-secrets detectors left out, and why: each job is done by another pass, or is not one.
NOT_USED: dict[str, str] = {
    "Public IP (ipv4)": "an address is evidence (a client, a rate limiter's key), not a credential",
    "Basic Auth Credentials": "the URL pass hides the password and keeps the user name",
    "Private Key": "it finds only the BEGIN line; the PEM pass hides the whole block",
    "JSON Web Token": "the JWT pass also finds a token cut short",
    # these find a value by the name in front of it: the name pass has hidden it already
    "Cloudant Credentials": "a value after a key/password name",
    "IBM COS HMAC Credentials": "a value after a key/password name",
    "IBM Cloud IAM Key": "a value after a key/password name",
    "SoftLayer Credentials": "a value after a key/password name",
    "NPM tokens": "a value after an _authToken name",
}
#: What a pattern may require around a secret that is not part of it (Artifactory's ``(?:\s|=|:|"|^)``).
_AROUND = " \t\r\n=:\"'"
#: No catalogue token is shorter (a Slack token can be ``xoxa-1-a``).
_SHORTEST = 8
#: A group this long is the secret itself (AWS's ``aws…key…'(<40>)'``); shorter ones are prefixes
#: (GitHub's ``(ghp|gho|…)_``).
_LONG_GROUP = 16


class Shape(NamedTuple):
    """One catalogue pattern, the kind it names, and the literal every match of it contains."""

    kind: str
    pattern: re.Pattern[str]
    needle: str
    ignore_case: bool


@functools.cache
def catalogue() -> tuple[Shape, ...]:
    """Every shape detect-secrets knows, kinds lowercased ("github token")."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    shapes = []
    detectors: dict[str, type] = get_mapping_from_secret_type_to_class()
    for kind, detector in sorted(detectors.items()):
        if kind in NOT_USED or not issubclass(detector, RegexBasedDetector):
            continue  # the entropy and keyword detectors are not shapes
        for pattern in detector().denylist:
            compiled = re.compile(pattern.pattern, pattern.flags)
            ignore_case = bool(compiled.flags & re.IGNORECASE)
            needle = _needle(compiled)
            shapes.append(
                Shape(
                    kind.lower(), compiled, needle.lower() if ignore_case else needle, ignore_case
                )
            )
    return tuple(shapes)


def _needle(pattern: re.Pattern[str]) -> str:
    """The longest run of literal characters at the top level of ``pattern`` ("" if none).

    Read with the standard library's own regex parser; if it cannot be read, "" (always run).
    """
    try:
        parser: Any = importlib.import_module("re._parser")
        items = parser.parse(pattern.pattern, pattern.flags).data
    except Exception:  # a future Python without re._parser: run the pattern on every text
        return ""
    best, run = "", ""
    for op, arg in _flat(items):
        if str(op) == "LITERAL":
            run += chr(arg)
            continue
        best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


def _flat(items: Any) -> list[Any]:
    """Parsed items with each group opened in place: ``(ghp|gho)_`` reads as g, h, [po], _."""
    out: list[Any] = []
    for op, arg in items:
        if str(op) == "SUBPATTERN":
            out += _flat(arg[-1].data)
        else:
            out.append((op, arg))
    return out


def kind_in_catalogue(value: str) -> str | None:
    """The catalogue's kind of a whole ``value`` ("github token"), or None."""
    if len(value) < _SHORTEST or any(c.isspace() for c in value):
        return None  # most values hidden for their name are short words or have spaces
    low = value.lower()
    for shape in catalogue():
        if shape.needle not in (low if shape.ignore_case else value):
            continue
        m = shape.pattern.search(value)
        if m and not value[: m.start()].strip(_AROUND) and not value[m.end() :].strip(_AROUND):
            return shape.kind
    return None


def redact_catalogue(text: str, low: str, marker: Callable[[str, str], str]) -> str:
    """``text`` (and its lowercase ``low``) with every token the catalogue recognises replaced by
    ``marker(token, kind)``."""
    for shape in catalogue():
        if shape.needle not in (low if shape.ignore_case else text):
            continue  # a substring test: far cheaper than a search that finds nothing
        if shape.pattern.search(text):
            text = shape.pattern.sub(
                functools.partial(_replace, kind=shape.kind, marker=marker), text
            )
    return text


def _replace(m: re.Match[str], kind: str, marker: Callable[[str, str], str]) -> str:
    """The match with its token replaced: a long group the pattern captures (the value after a
    name), else the match less any delimiter it required around the token."""
    found, at = m.group(0), m.start()
    for g in range(1, (m.re.groups or 0) + 1):
        start, end = m.span(g)
        if end - start >= _LONG_GROUP:
            return found[: start - at] + marker(m.group(g), kind) + found[end - at :]
    token = found.strip(_AROUND)
    if not token:
        return found
    start = found.index(token)
    return found[:start] + marker(token, kind) + found[start + len(token) :]
