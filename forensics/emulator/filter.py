"""The Cloud Logging query language, the part forensics writes, compiled to a Python predicate.

Supported: comparisons ``field OP value`` with ``= != > < >= <= : =~ !~``, ``field:*`` (present),
value lists ``field = ("a" OR "b")``, ``AND`` / ``OR`` / ``NOT`` / ``-``, parentheses, implicit
``AND`` between terms, quoted strings with backslash escapes, bare words (a global search over
the whole entry), ``log_id("run.googleapis.com/requests")`` and ``--`` comments.

As in Cloud Logging, ``OR`` binds tighter than ``AND`` (``a AND b OR c`` is ``a AND (b OR c)``),
and keywords are upper case. Timestamps compare as instants, severities by rank, numbers as
numbers; a comparison on a missing field is false (so ``NOT`` / ``!=`` match it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

Entry = dict[str, Any]
Predicate = Callable[[Entry], bool]

SEVERITY_RANK = {name: i * 100 for i, name in enumerate(
    ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"])}

_OPS = ("=~", "!~", ">=", "<=", "!=", "=", ">", "<", ":")
_FIELD_CHARS = re.compile(r"[A-Za-z0-9_@$\-]+")
_BARE_VALUE = re.compile(r"[^\s()\"]+")
_TS = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$")


class FilterSyntaxError(ValueError):
    """The filter cannot be parsed; the message says where."""


def timestamp_ns(text: str) -> int | None:
    """RFC 3339 text -> nanoseconds since the epoch (None when it is not a timestamp)."""
    m = _TS.match(text.strip())
    if not m:
        return None
    zone = m.group(3) or "Z"
    zone = "+00:00" if zone == "Z" else zone
    try:
        base = datetime.fromisoformat(m.group(1).replace(" ", "T") + zone)
    except ValueError:
        return None
    frac = (m.group(2) or "").ljust(9, "0")
    return int(base.timestamp()) * 1_000_000_000 + int(frac)


def entry_timestamp_ns(entry: Entry) -> int | None:
    """The entry's event time, or its receive time when the event time is absent."""
    for key in ("timestamp", "receiveTimestamp"):
        value = entry.get(key)
        if isinstance(value, str):
            ns = timestamp_ns(value)
            if ns is not None:
                return ns
    return None


def compile_filter(text: str | None) -> Predicate:
    """Compile filter text into ``predicate(entry) -> bool``.

    Raises:
        FilterSyntaxError: the text is not a filter this subset understands.
    """
    if text is None or not _strip_comments(text).strip():
        return lambda entry: True
    parser = _Parser(_strip_comments(text))
    pred = parser.parse_query()
    parser.skip_space()
    if parser.pos != len(parser.text):
        parser.fail("unexpected text")
    return pred


def _strip_comments(text: str) -> str:
    return "\n".join(_cut_comment(line) for line in text.splitlines())


def _cut_comment(line: str) -> str:
    in_string = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and in_string:
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        elif not in_string and line.startswith("--", i):
            return line[:i]
        i += 1
    return line


def _all_of(preds: tuple[Predicate, ...]) -> Predicate:
    return lambda e: all(p(e) for p in preds)


def _any_of(preds: tuple[Predicate, ...]) -> Predicate:
    return lambda e: any(p(e) for p in preds)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> NoReturn:
        snippet = self.text[self.pos:self.pos + 30]
        raise FilterSyntaxError(f"{what} at character {self.pos + 1}: {snippet!r}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek_keyword(self, word: str) -> bool:
        self.skip_space()
        end = self.pos + len(word)
        return self.text.startswith(word, self.pos) and (
            end == len(self.text) or self.text[end].isspace() or self.text[end] in "()\"")

    def at_end_of_term(self) -> bool:
        self.skip_space()
        return self.pos >= len(self.text) or self.text[self.pos] == ")"

    # query := term ( [AND] term )*    term := factor ( OR factor )*
    def parse_query(self) -> Predicate:
        terms = [self.parse_or()]
        while not self.at_end_of_term():
            if self.peek_keyword("AND"):
                self.pos += 3
            terms.append(self.parse_or())
        return terms[0] if len(terms) == 1 else _all_of(tuple(terms))

    def parse_or(self) -> Predicate:
        factors = [self.parse_not()]
        while self.peek_keyword("OR"):
            self.pos += 2
            factors.append(self.parse_not())
        return factors[0] if len(factors) == 1 else _any_of(tuple(factors))

    def parse_not(self) -> Predicate:
        self.skip_space()
        if self.peek_keyword("NOT"):
            self.pos += 3
            inner = self.parse_not()
            return lambda e: not inner(e)
        if self.text.startswith("-", self.pos) and not self.text.startswith("--", self.pos):
            self.pos += 1
            inner = self.parse_not()
            return lambda e: not inner(e)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        self.skip_space()
        if self.pos >= len(self.text):
            self.fail("expected a comparison")
        if self.text[self.pos] == "(":
            self.pos += 1
            inner = self.parse_query()
            self.expect(")")
            return inner
        if self.text[self.pos] == '"':
            needle = self.parse_string().lower()
            return lambda e: needle in json.dumps(e).lower()
        if self.text.startswith("log_id(", self.pos):
            self.pos += len("log_id(")
            self.skip_space()
            wanted = self.parse_string()
            self.expect(")")
            return lambda e: _log_id(e) == wanted
        start = self.pos
        path = self.parse_field()
        self.skip_space()
        op = next((o for o in _OPS if self.text.startswith(o, self.pos)), None)
        if op is None:  # a bare word: global search
            word = self.text[start:self.pos].strip().lower()
            if not word:
                self.fail("expected a field or a value")
            return lambda e: word in json.dumps(e).lower()
        self.pos += len(op)
        return self.parse_values(path, op)

    def expect(self, ch: str) -> None:
        self.skip_space()
        if not self.text.startswith(ch, self.pos):
            self.fail(f"expected {ch!r}")
        self.pos += 1

    def parse_field(self) -> list[str]:
        parts: list[str] = []
        while True:
            if self.text.startswith('"', self.pos):
                parts.append(self.parse_string())
            else:
                m = _FIELD_CHARS.match(self.text, self.pos)
                if not m:
                    self.fail("expected a field name")
                parts.append(m.group(0))
                self.pos = m.end()
            if not self.text.startswith(".", self.pos):
                return parts
            self.pos += 1

    def parse_string(self) -> str:
        if not self.text.startswith('"', self.pos):
            self.fail("expected a quoted string")
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            self.fail("unterminated string")
        raw = self.text[self.pos + 1:end]
        self.pos = end + 1
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), raw)

    def parse_value(self) -> str:
        self.skip_space()
        if self.text.startswith('"', self.pos):
            return self.parse_string()
        m = _BARE_VALUE.match(self.text, self.pos)
        if not m:
            self.fail("expected a value")
        self.pos = m.end()
        return m.group(0)

    def parse_values(self, path: list[str], op: str) -> Predicate:
        self.skip_space()
        if not self.text.startswith("(", self.pos):
            return _comparison(path, op, self.parse_value(), self)
        self.pos += 1  # field OP (v1 OR v2 ...): one comparison per value
        preds, joiner = [_comparison(path, op, self.parse_value(), self)], "OR"
        while not self.at_end_of_term():
            for word in ("OR", "AND"):
                if self.peek_keyword(word):
                    joiner = word
                    self.pos += len(word)
            preds.append(_comparison(path, op, self.parse_value(), self))
        self.expect(")")
        return _any_of(tuple(preds)) if joiner == "OR" else _all_of(tuple(preds))


def _log_id(entry: Entry) -> str | None:
    name = entry.get("logName")
    if not isinstance(name, str) or "/logs/" not in name:
        return None
    from urllib.parse import unquote

    return unquote(name.split("/logs/", 1)[1])


def _lookup(entry: Any, path: list[str]) -> list[Any]:
    """Every value at ``path`` (repeated fields fan out)."""
    values = [entry]
    for part in path:
        nxt: list[Any] = []
        for v in values:
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, dict) and part in item:
                    nxt.append(item[part])
        values = nxt
    flat: list[Any] = []
    for v in values:
        flat.extend(v if isinstance(v, list) else [v])
    return flat


def _comparison(path: list[str], op: str, value: str, parser: _Parser) -> Predicate:
    field = ".".join(path)
    if op == ":" and value == "*":
        return lambda e: bool(_lookup(e, path))
    if op in ("=~", "!~"):
        try:
            rx = re.compile(value)
        except re.error as err:
            parser.fail(f"bad regular expression ({err})")
        hit = lambda e: any(rx.search(_text(v)) for v in _lookup(e, path))  # noqa: E731
        return hit if op == "=~" else (lambda e: not hit(e))
    if op == ":":
        needle = value.lower()
        return lambda e: any(needle in _text(v).lower() for v in _lookup(e, path))
    key = _key_function(field, value, parser)
    wanted = key(value)
    if op == "!=":
        return lambda e: not any(key(v) == wanted for v in _lookup(e, path))
    test = _ORDER_TESTS[op]
    return lambda e: any(_safe_test(test, key(v), wanted) for v in _lookup(e, path))


def _safe_test(test: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    try:
        return a is not None and test(a, b)
    except TypeError:  # comparing a number with text: Cloud Logging calls that no match
        return False


_ORDER_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
}


def _text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _key_function(field: str, value: str, parser: _Parser) -> Callable[[Any], Any]:
    """How values of ``field`` compare: as instants, severity ranks, numbers or text."""
    if field in ("timestamp", "receiveTimestamp") or field.endswith("Timestamp"):
        if timestamp_ns(value) is None:
            parser.fail(f"{field} needs an RFC 3339 timestamp, not {value!r}")
        return lambda v: timestamp_ns(v) if isinstance(v, str) else None
    if field == "severity":
        if value.upper() not in SEVERITY_RANK and not value.isdigit():
            parser.fail(f"unknown severity {value!r}")
        return lambda v: SEVERITY_RANK.get(str(v).upper(), int(v) if str(v).isdigit() else None)
    if _number(value) is not None:
        return lambda v: _number(v) if not isinstance(v, bool) else None
    return lambda v: v if isinstance(v, str) else (json.dumps(v) if v is not None else None)


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    try:
        return float(v)
    except (TypeError, ValueError):
        return None
