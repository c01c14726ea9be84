"""Rules as data: YAML files -> validated, frozen ``Rule`` objects.

A rule file holds one rule per YAML document (``---`` between them) or a list of rules. Every
problem found (YAML syntax, missing keys, unknown label or field, bad regex, wrong types,
duplicate ids) is collected with its file and line, so ``check_rules`` reports them all at once.
The format is documented in docs/rules.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from forensics.classify.conditions import Condition, ConditionProblem, ConditionProblems, line_of
from forensics.classify.registry import build_block
from forensics.exceptions import RuleError
from forensics.labels import LABELS, LAYERS, UNKNOWN

#: Where the shipped rules live.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "rules"
_KEYS_REQUIRED = ("id", "label", "weight", "description", "match")
_KEYS_OPTIONAL = ("detail", "layer", "disabled")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")

Problem = tuple[str, int | None, str]


@dataclass(frozen=True)
class Rule:
    """One rule: a label from TAXONOMY, conditions over a linked log row, a weight."""

    id: str
    label: str
    source: str  # file:line where it was defined
    weight: float = 1.0
    description: str = ""
    match: Condition | None = field(default=None, compare=False, repr=False)
    detail: str | None = None
    layer: str | None = None  # "app" / "edge"; None: the label's layer (or decided by evidence)
    disabled: bool = False

    def matches(self, row: Any, ctx: Any) -> bool:
        """Whether the rule's ``match`` block holds for ``row`` among the test's rows ``ctx``."""
        return self.match is not None and self.match.holds(row, ctx)


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, in load order (a user rule replaces a shipped one with the same id)."""

    rules: tuple[Rule, ...]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def by_id(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``. Raises KeyError when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# --- YAML with line numbers -------------------------------------------------------------------


class _LineDict(dict):  # type: ignore[type-arg]
    line: int | None = None
    key_lines: dict[Any, int]


class _LineList(list):  # type: ignore[type-arg]
    line: int | None = None
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, key and list (for problem reports)."""

    duplicates: list[tuple[int, str]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):  # YAML allows them; a rule never needs them
            loader.duplicates.append((key_node.start_mark.line + 1, "a key must be a plain value"))
            key = f"<{type(key).__name__} key>"
        if key in out:
            loader.duplicates.append((key_node.start_mark.line + 1, f"duplicate key {key!r}"))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[arg-type]
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)  # type: ignore[arg-type]


def _read_documents(path: Path) -> tuple[list[Any], list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return [], [(str(path), None, f"cannot read rule file: {err}")]
    loader = _LineLoader(text)
    loader.duplicates = []
    docs: list[Any] = []
    problems: list[Problem] = []
    try:
        while loader.check_data():
            docs.append(loader.get_data())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        problems.append((str(path), mark.line + 1 if mark else None, f"YAML syntax error: {what}"))
    finally:
        loader.dispose()
    problems.extend((str(path), line, msg) for line, msg in loader.duplicates)
    return docs, problems


# --- rule dicts -> Rule -----------------------------------------------------------------------


def rule_from_dict(
    data: Any, path: str, line: int | None = None
) -> tuple[Rule | None, list[Problem]]:
    """Build one rule from a parsed mapping; returns the rule (None if broken) and every problem."""
    where = line_of(data) or line
    if not isinstance(data, dict):
        return None, [(path, where, f"a rule must be a mapping, got {type(data).__name__}")]
    problems: list[Problem] = []

    def bad(key: str | None, msg: str, at: int | None = None) -> None:
        problems.append((path, at or (line_of(data, key) if key else None) or where, msg))

    for key in data:
        if key not in _KEYS_REQUIRED and key not in _KEYS_OPTIONAL:
            bad(
                key,
                f"unknown rule key {key!r} (keys: {', '.join(_KEYS_REQUIRED + _KEYS_OPTIONAL)})",
            )
    for key in _KEYS_REQUIRED:
        if key not in data:
            bad(None, f"rule {data.get('id', '?')!r} is missing required key {key!r}")

    rule_id = data.get("id")
    if "id" in data and (not isinstance(rule_id, str) or not rule_id or set(rule_id) - _ID_CHARS):
        bad("id", f"id must be lower-case letters, digits, '-', '_' or '.', got {rule_id!r}")
    label = data.get("label")
    if "label" in data and (label not in LABELS or label == UNKNOWN):
        bad(
            "label",
            f"unknown label {label!r}; one of {', '.join(x for x in LABELS if x != UNKNOWN)}",
        )
    weight = data.get("weight")
    if "weight" in data and (
        isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 < weight <= 1
    ):
        bad("weight", f"weight must be a number in (0, 1], got {weight!r}")
    for key in ("description", "detail"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            bad(key, f"{key} must be a non-empty string, got {data[key]!r}")
    layer = data.get("layer")
    if layer is not None and layer not in ("app", "edge"):
        bad("layer", f"layer must be 'app' or 'edge', got {layer!r}")
    elif layer is not None and label in LAYERS and LAYERS[label] not in (None, layer):
        bad("layer", f"label {label!r} is an {LAYERS[label]} label; layer {layer!r} contradicts it")
    if "disabled" in data and not isinstance(data["disabled"], bool):
        bad("disabled", f"disabled must be true or false, got {data['disabled']!r}")

    match: Condition | None = None
    if "match" in data:
        try:
            match = build_block(data["match"], line_of(data, "match"))
        except ConditionProblems as many:
            problems.extend(
                (path, p.line or line_of(data, "match"), p.message) for p in many.problems
            )
        except ConditionProblem as one:
            problems.append((path, one.line or line_of(data, "match"), one.message))
    if problems:
        return None, problems
    rule = Rule(
        id=str(rule_id),
        label=str(label),
        source=f"{path}:{where}",
        weight=float(weight),  # type: ignore[arg-type]
        description=str(data["description"]).strip(),
        match=match,
        detail=data.get("detail"),
        layer=layer or LAYERS.get(str(label)),
        disabled=bool(data.get("disabled", False)),
    )
    return rule, []


def _rule_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(
                sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
            )
        elif p.is_file():
            files.append(p)
        else:
            problems.append((str(p), None, "no such rule file or folder"))
    return files, problems


def _load(paths: Iterable[str | Path]) -> tuple[list[Rule], list[Problem]]:
    """Every rule under ``paths`` and every problem; ids must be unique within this set."""
    files, problems = _rule_files(paths)
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for f in files:
        docs, doc_problems = _read_documents(f)
        problems.extend(doc_problems)
        for doc in docs:
            if doc is None:
                continue
            items = doc if isinstance(doc, list) else [doc]
            for item in items:
                try:
                    rule, rule_problems = rule_from_dict(item, str(f), line_of(doc))
                except Exception as err:  # a lint must report, not crash, whatever the file holds
                    rule, rule_problems = (
                        None,
                        [(str(f), line_of(item), f"cannot read this rule: {err!r}")],
                    )
                problems.extend(rule_problems)
                if rule is None:
                    continue
                if rule.id in seen:
                    problems.append(
                        (
                            str(f),
                            line_of(item, "id"),
                            f"duplicate rule id {rule.id!r} (first at {seen[rule.id]})",
                        )
                    )
                    continue
                seen[rule.id] = rule.source
                rules.append(rule)
    return rules, problems


def check_rules(*paths: str | Path) -> list[Problem]:
    """Every problem in the rule files under ``paths`` as (file, line, message); empty when all good.

    With no ``paths``, checks the shipped rules.
    """
    _, problems = _load(paths or (BUILTIN_DIR,))
    return problems


def load_rules(*dirs: str | Path, builtin: bool = True) -> RuleSet:
    """Load the shipped rules (``forensics/rules/``) plus every rule file under ``dirs``.

    A user rule whose id equals a shipped rule's id replaces it (``disabled: true`` turns it off).

    Args:
        dirs: folders (searched recursively for ``*.yaml``/``*.yml``) or single rule files.
        builtin: include the shipped rules.

    Returns:
        The rules in force: shipped ones first, in file order, then the user's new ones.

    Raises:
        RuleError: with every problem found, each with file and line.
    """
    base, problems = _load([BUILTIN_DIR]) if builtin else ([], [])
    user, user_problems = _load(dirs)
    problems += user_problems
    if problems:
        raise RuleError(problems)
    overrides = {r.id: r for r in user}
    merged = [overrides.pop(r.id, r) for r in base] + [r for r in user if r.id in overrides]
    return RuleSet(tuple(r for r in merged if not r.disabled))
