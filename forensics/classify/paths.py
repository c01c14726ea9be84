"""What a text says about a request: the URL paths it names, whether it names a response.

App lines are tied to request entries by time when no trace ties them; a line that names
another path ("Too Many Requests: /api/login/" next to a 500 on /api/exports/csv/) is about
another request. A test's failure message that names a status and URL points at the request
entry it failed on.
"""

from __future__ import annotations

import regex

# Where a line names the path of the request it is about: after an HTTP method (access lines,
# "DENY GET /x"), after path=/url=, or after Django's "<Reason>: /path" warnings.
_NAMED_PATH = regex.compile(
    r"(?:\b(?:GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD|WS|WebSocket)\s+"
    r"|\b(?:path|url|uri|route)\s*[=:]\s*(?:[a-z]+://[^/\s\"']+)?"
    r"|\b(?:Forbidden|Unauthorized|Too Many Requests|Not Found|Bad Request|Internal Server Error|Service Unavailable)"
    r"(?:\s*\([^)\n]{0,200}\))?:\s+)"
    r"(/[^\s?\"'#,;)]*)",
    regex.IGNORECASE,
)
_URL_PATH = regex.compile(r"(?:https?|wss?)://[^/\s'\"]+(/[^\s'\"?#]*)")
_HTTP_WORDS = regex.compile(
    r"HTTP|status|response|redirect|Found|Forbidden|Unauthorized|Too Many|Server error|rejected",
    regex.IGNORECASE,
)


def _norm(path: str) -> str:
    return path.rstrip(":.!").rstrip("/") or "/"


def named_paths(text: str | None) -> set[str]:
    """The request paths a log line names (normalized: no query, no trailing slash)."""
    return {_norm(m.group(1)) for m in _NAMED_PATH.finditer(text or "")}


def names_other_path(text: str | None, path: str | None) -> bool:
    """Whether ``text`` names request paths and none of them is ``path``."""
    if not path:
        return False
    named = named_paths(text)
    return bool(named) and _norm(path) not in named


def names_response(message: str | None, status: object, path: str | None) -> bool:
    """Whether a failure message names this non-2xx ``status`` (and ``path``, when it has a URL).

    ``Redirect response '302 Found' for url 'https://portal/api/status'`` names the 302 of
    ``/api/status``.
    """
    if not message or not isinstance(status, int) or status < 300:
        return False
    if not regex.search(rf"(?<![\d.:]){status}(?![\d.])", message) or not _HTTP_WORDS.search(
        message
    ):
        return False
    urls = [_norm(m.group(1)) for m in _URL_PATH.finditer(message)]
    return not urls or _norm(path or "") in urls
