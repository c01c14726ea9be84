"""Messages -> templates: mask the variable parts, group, rank, and draft a rule for the top ones.

Two log lines that differ only in a request id, a timestamp or a port are the same event; masking
those parts turns thousands of lines into a few templates a person can read and write a rule for.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl

from forensics.labels import LABELS, UNKNOWN
from forensics.redact import redact

# Order matters: wider shapes first, so a timestamp is not eaten as numbers, a URL query before
# its parameters, a JWT before its base64 segments look like ids.
_MASKS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # A value forensics.redact hid (messages are redacted first): the secret there is variable.
    (re.compile(r"\[REDACTED jwt [^\]]*\]"), "<jwt>"),
    (re.compile(r"(?i)\b(bearer|basic)\s+\[REDACTED[^\]]*\]"), r"\1 <token>"),
    (re.compile(r"\[REDACTED[^\]]*\]"), "<secret>"),
    (re.compile(r"\beyJ[\w-]+\.[\w-]+(?:\.[\w-]*)?"), "<jwt>"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[\w.~+/=-]{8,}"), r"\1 <token>"),
    (
        re.compile(
            r"(?P<base>(?:\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"'<>]+|(?<![\w/])/[^\s?#\"'<>]*))\?(?:[^\s\"'#<>]|<secret>)+"
        ),
        r"\g<base>?<query>",
    ),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
        ),
        "<uuid>",
    ),
    (
        re.compile(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?)?"
        ),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,2}/[A-Z][a-z]{2}/\d{4}(?::\d{2}){3}(?: [+-]\d{4})?"), "<ts>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<ts>"),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b"), "<ip>"),
    (re.compile(r"(?<![\w:])(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b"), "<ip>"),
    (re.compile(r"\"([^\"\n]{0,300})\"(\s*:)?"), lambda m: _mask_quoted(m, '"')),
    (re.compile(r"(?<!\w)'([^'\n]{0,300})'(?!\w)(\s*:)?"), lambda m: _mask_quoted(m, "'")),
    (re.compile(r"\b(?:0x)?(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{6,}\b"), "<hex>"),
    (
        re.compile(r"\b[A-Za-z0-9_-]{16,}\b"),
        lambda m: "<id>" if _looks_generated(m.group()) else m.group(),
    ),
    (
        re.compile(
            r"(?<![\w.])(?<!HTTP/)[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?:ms|us|µs|ns|s|m|h|[KMG]i?B|B|%)?(?![\w.])"
        ),
        "<num>",
    ),
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
    """One message with its variable parts replaced by ``<uuid>``, ``<num>``, ``<ts>``, ...

    Secrets are redacted first (and then masked as ``<secret>``): a template never shows one.
    """
    text = (redact(message) or "").strip()
    text = text.splitlines()[0] if text else ""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return _SPACES.sub(" ", text).strip()[:300]


def mask(messages: pl.Series) -> pl.Series:
    """The template of every message (first line, variable parts masked); nulls stay null."""
    unique = messages.drop_nulls().unique()
    lookup = {m: mask_one(m) for m in unique.to_list()}
    return messages.replace_strict(lookup, default=None, return_dtype=pl.String).alias("template")


def templates(messages: pl.Series | pl.DataFrame, *, redact_examples: bool = True) -> pl.DataFrame:
    """Group messages by template and rank the templates.

    Args:
        messages: log messages (``result.logs["message"]``), or a frame with a ``message`` column
            such as ``unexplained(result)``: then ``tests`` (failed tests near it), ``services``,
            ``log_ids`` and ``statuses`` are kept per template, and templates that touch more
            failed tests rank first.
        redact_examples: pass each example through ``forensics.redact`` (secrets never shown).

    Returns:
        One row per template: ``template``, ``count``, ``share`` (of non-empty messages),
        ``example`` (one real message of it) and, for a frame, the context columns above.
    """
    frame = messages.to_frame("message") if isinstance(messages, pl.Series) else messages
    frame = frame.with_columns(pl.col("message").cast(pl.String)).filter(
        pl.col("message").is_not_null() & (pl.col("message").str.strip_chars() != "")
    )
    frame = frame.with_columns(template=mask(frame.get_column("message")))
    aggs: list[pl.Expr] = [pl.len().alias("count"), pl.col("message").first().alias("example")]
    order, descending = ["count", "template"], [True, False]
    if "test_id" in frame.columns:
        aggs.append(pl.col("test_id").n_unique().alias("tests"))
        order, descending = ["tests", *order], [True, *descending]
    for column, name in (
        ("service", "services"),
        ("log_id", "log_ids"),
        ("http_status", "statuses"),
    ):
        if column in frame.columns:
            aggs.append(pl.col(column).drop_nulls().unique().sort().alias(name))
    grouped = (
        frame.group_by("template")
        .agg(aggs)
        .with_columns(share=pl.col("count") / max(frame.height, 1))
        .sort(order, descending=descending)
    )
    first = [
        "template",
        *(["tests"] if "tests" in grouped.columns else []),
        "count",
        "share",
        "example",
    ]
    grouped = grouped.select(*first, pl.exclude(first))
    if redact_examples and grouped.height:
        grouped = grouped.with_columns(
            pl.col("example").map_elements(redact, return_dtype=pl.String)
        )
    return grouped


# Placeholder -> the part of a regex that matches any value it stood for.
_PLACEHOLDER_RE = {
    "<num>": r"[-+]?\d[\w.%µ]*",
    "<ts>": r"[\w:.,/+ -]+?",
    "<str>": r"[^'\"]*",
    "?<query>": r"\?\S*",
    "<secret>": r".+?",
}
_PLACEHOLDER = re.compile(r"\?<query>|<(?:num|ts|str|uuid|hex|id|ip|email|jwt|token|secret)>")
#: Words that suggest a label, in the order they are tried (the user confirms; the draft is off).
_HINTS: list[tuple[str, re.Pattern[str]]] = [
    ("missing_bypass_header", re.compile(r"(?i)bypass|e2e[-_ ]?(key|header)")),
    ("iap_denied", re.compile(r"(?i)\biap\b|identity-aware")),
    ("cloud_armor_denied", re.compile(r"(?i)security[_ ]?policy|cloud armor")),
    (
        "iam_denied",
        re.compile(
            r"(?i)not authenticated\. either allow unauthenticated|not authorized to invoke"
        ),
    ),
    ("rate_limited", re.compile(r"(?i)rate.?limit|too many requests|throttl")),
    ("cors_origin", re.compile(r"(?i)\borigin\b|\bcors\b")),
    (
        "missing_jwt",
        re.compile(
            r"(?i)\b(no|missing|without|absent)\b.{0,20}\b(jwt|token|credentials?|authorization)\b"
        ),
    ),
    ("invalid_jwt", re.compile(r"(?i)\bjwt\b|token|signature|expired|audience|issuer")),
    ("app_error", re.compile(r"(?i)exception|traceback|internal server error|\berror\b|panic")),
]
_FALLBACK_LABEL = "middleware_rejection"


def template_regex(template: str) -> str:
    """A case-insensitive regex (``regex`` module syntax) that matches every message of ``template``."""
    parts, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        parts.append(_PLACEHOLDER_RE.get(m.group(), r"\S+"))
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.sub(r"(?:\\ )+", r"\\s+", "".join(parts))


def suggest_label(template: str) -> str | None:
    """The TAXONOMY label a template's words hint at, or None: a guess for a person to confirm."""
    return next((label for label, words in _HINTS if words.search(template)), None)


def _yaml_quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _slug(template: str, index: int) -> str:
    words = re.findall(r"[a-z0-9]+", _PLACEHOLDER.sub(" ", template).lower())[:6]
    return f"draft.{index}-" + ("-".join(words) or "template")


def draft_rules(
    templates_frame: pl.DataFrame, label: str = UNKNOWN, *, top: int = 5, weight: float = 0.5
) -> str:
    """A draft rule file (YAML, one rule per document) for the top templates, for a person to edit.

    Every draft rule is ``disabled: true`` so passing the file with ``--rules`` changes nothing
    until someone has read it, picked the label and deleted that line. The file passes
    ``python -m forensics rules check`` as written.

    Args:
        templates_frame: the output of ``templates`` (most important first).
        label: the TAXONOMY label for every rule; ``unknown`` (the default) means "suggest one per
            template from its words", marked in a comment as a suggestion to confirm.
        top: how many templates to draft rules for.
        weight: the weight each rule gets, in (0, 1].

    Raises:
        ValueError: ``label`` is not a TAXONOMY label.
    """
    if label not in LABELS:
        raise ValueError(f"label {label!r} is not a TAXONOMY label; one of {', '.join(LABELS)}")
    choices = ", ".join(x for x in LABELS if x != UNKNOWN)
    docs = [
        "# Draft rules written by forensics.explore.draft_rules: read, edit, then pass with --rules DIR.\n"
        f"# label must be one of: {choices}\n"
        "# ('unknown' is what forensics answers when no rule decides; it is not a rule label.)\n"
        "# Each rule is disabled until you delete its `disabled: true` line.\n"
        "# Check the file with: python -m forensics rules check DIR\n"
    ]
    for index, row in enumerate(templates_frame.head(top).iter_rows(named=True), start=1):
        template: str = row["template"]
        chosen, why = label, "chosen by the caller"
        if label == UNKNOWN:
            hint = suggest_label(template)
            chosen, why = (
                hint or _FALLBACK_LABEL,
                "SUGGESTED from its words" if hint else "PLACEHOLDER: no hint",
            )
        seen = _count(row["count"], "entry", "entries") + (
            f" near {_count(row['tests'], 'failed test')}" if row.get("tests") else ""
        )
        lines = [
            f"# {seen}; e.g. {(row.get('example') or '').splitlines()[0][:160] if row.get('example') else template}",
            f"id: {_slug(template, index)}",
            f"label: {chosen}  # {why}: pick the cause this line proves",
            f"weight: {weight}",
            f"description: {_yaml_quote('Draft from the template: ' + template[:200])}",
            "disabled: true",
            "match:",
            f"  message: {_yaml_quote(template_regex(template))}",
        ]
        for column, key in (("log_ids", "log_id"), ("statuses", "http_status")):
            values = row.get(column)
            if (
                values is not None and len(values) == 1
            ):  # one value across all entries: structure worth keeping
                value = values[0]
                lines.append(
                    f"  {key}: {value if isinstance(value, int) else _yaml_quote(str(value))}"
                )
        docs.append("\n".join(lines) + "\n")
    return "---\n".join(docs)
