"""Messages -> templates: mask the variable parts, group, rank, and draft a rule for the top ones.

Two log lines that differ only in a request id, a timestamp or a port are the same event; masking
those parts turns thousands of lines into a few templates a person can read and write a rule for.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from forensics.redact import redact

# Order matters: wider shapes first, so a timestamp is not eaten as numbers, a URL query before
# its parameters, a JWT before its base64 segments look like ids.
_MASKS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\beyJ[\w-]+\.[\w-]+(?:\.[\w-]*)?"), "<jwt>"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}"), r"\1 <token>"),
    (re.compile(r"(?P<base>(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]+|(?<![\w/])/[^\s?#\"'<>]*))\?[^\s\"'#<>]+"), r"\g<base>?<query>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?)?"), "<ts>"),
    (re.compile(r"\b\d{1,2}/[A-Z][a-z]{2}/\d{4}(?::\d{2}){3}(?: [+-]\d{4})?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"), "<ip>"),
    (re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b"), "<ip>"),
    (re.compile(r"\"([^\"\n]{0,300})\"(\s*:)?"), lambda m: _mask_quoted(m, '"')),
    (re.compile(r"(?<!\w)'([^'\n]{0,300})'(?!\w)(\s*:)?"), lambda m: _mask_quoted(m, "'")),
    (re.compile(r"\b(?:0x)?(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"\b[A-Za-z0-9_-]{16,}\b"), lambda m: "<id>" if _looks_generated(m.group()) else m.group()),
    (re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:ms|us|µs|ns|s|m|h|[KMG]i?B|B|%)?(?![\w.])"), "<num>"),
]
_SPACES = re.compile(r"\s+")


_REQUEST_LINE = re.compile(r"^(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT|WebSocket) ")
_VARIABLE_CHARS = re.compile(r"[\d./:@]")


def _mask_quoted(match: re.Match[str], quote: str) -> str:
    """A quoted value that varies (an origin, a host, an id) becomes ``<str>``; JSON keys, request
    lines (``"GET /ws HTTP/1.1"``), phrases and plain words stay, as they name the event."""
    inner, key = match.group(1), match.group(2)
    if key or " " in inner or _REQUEST_LINE.match(inner) or not _VARIABLE_CHARS.search(inner):
        return match.group()
    return f"{quote}<str>{quote}"


def _looks_generated(token: str) -> bool:
    """A request id or base64 value rather than a long identifier such as ``test_1_websocket_events``."""
    digits = sum(c.isdigit() for c in token)
    if digits < 3 or not any(c.isalpha() for c in token):
        return False
    mixed_case = any(c.isupper() for c in token) and any(c.islower() for c in token)
    return digits / len(token) >= 0.25 or (mixed_case and "_" not in token)


def mask_one(message: str) -> str:
    """One message with its variable parts replaced by ``<uuid>``, ``<num>``, ``<ts>``, ..."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()[:300]


def mask(messages: pl.Series) -> pl.Series:
    """The template of every message (first line, variable parts masked); nulls stay null."""
    unique = messages.drop_nulls().unique()
    lookup = {m: mask_one(m) for m in unique.to_list()}
    return messages.replace_strict(lookup, default=None, return_dtype=pl.String).alias("template")


def templates(messages: pl.Series, *, redact_examples: bool = True) -> pl.DataFrame:
    """Group messages by template and rank the templates by how often they occur.

    Args:
        messages: log messages (``result.logs["message"]`` or ``unexplained(result)["message"]``).
        redact_examples: pass each example through ``forensics.redact`` (secrets never shown).

    Returns:
        One row per template: ``template``, ``count``, ``share`` (of non-empty messages) and
        ``example`` (one real message of it), most frequent first.
    """
    frame = pl.DataFrame({"message": messages.cast(pl.String)}).filter(
        pl.col("message").is_not_null() & (pl.col("message").str.strip_chars() != "")
    )
    frame = frame.with_columns(template=mask(frame.get_column("message")))
    grouped = (
        frame.group_by("template")
        .agg(count=pl.len(), example=pl.col("message").first())
        .with_columns(share=pl.col("count") / max(frame.height, 1))
        .sort(["count", "template"], descending=[True, False])
        .select("template", "count", "share", "example")
    )
    if redact_examples and grouped.height:
        grouped = grouped.with_columns(pl.col("example").map_elements(redact, return_dtype=pl.String))
    return grouped


def draft_rules(*args: object, **kwargs: object) -> str:
    """Placeholder until the rule format exists (see forensics.classify.rules)."""
    raise NotImplementedError
