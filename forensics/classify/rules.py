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

from forensics.classify.conditions import (
    Condition,
    ConditionProblem,
    ConditionProblems,
    build_block,
    line_of,
)
from forensics.classify.yamlmarks import Problem, parse_documents, read_documents
from forensics.exceptions import RuleError
from forensics.labels import LABELS, LAYERS, UNKNOWN

#: Where the shipped rules live.
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "rules"
_KEYS_REQUIRED = ("id", "label", "weight", "description", "match")
_KEYS_OPTIONAL = ("detail", "layer", "disabled")
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


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

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> Rule:
        """One validated rule from a mapping (as a YAML document holds it).

        Raises:
            RuleError: with every problem found.
        """
        rule, problems = rule_from_dict(data, source)
        if problems or rule is None:
            raise RuleError(problems or [(source, None, "not a rule")])
        return rule


@dataclass(frozen=True)
class RuleSet:
    """The rules in force, in load order (a user rule replaces a shipped one with the same id)."""

    rules: tuple[Rule, ...]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<yaml>") -> RuleSet:
        """The rules of a YAML text (documents separated by ``---``, or a list), alone.

        Raises:
            RuleError: with every problem found, each with its line in ``text``.
        """
        docs, problems = parse_documents(text, source)
        rules, rule_problems = _from_documents(docs, source, {})
        if problems or rule_problems:
            raise RuleError(problems + rule_problems)
        return cls(tuple(r for r in rules if not r.disabled))

    def by_id(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``. Raises KeyError when there is none."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


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


def _from_documents(
    docs: list[Any], name: str, seen: dict[str, str]
) -> tuple[list[Rule], list[Problem]]:
    """Rules of parsed YAML documents (a rule or a list of rules each); ids unique via ``seen``."""
    rules: list[Rule] = []
    problems: list[Problem] = []
    for doc in docs:
        if doc is None:
            continue
        for item in doc if isinstance(doc, list) else [doc]:
            try:
                rule, found = rule_from_dict(item, name, line_of(doc))
            except Exception as err:  # a lint must report, not crash, whatever the file holds
                rule, found = None, [(name, line_of(item), f"cannot read this rule: {err!r}")]
            problems.extend(found)
            if rule is None:
                continue
            if rule.id in seen:
                msg = f"duplicate rule id {rule.id!r} (first at {seen[rule.id]})"
                problems.append((name, line_of(item, "id"), msg))
                continue
            seen[rule.id] = rule.source
            rules.append(rule)
    return rules, problems


def _load(paths: Iterable[str | Path]) -> tuple[list[Rule], list[Problem]]:
    """Every rule under ``paths`` and every problem; ids must be unique within this set."""
    files, problems = _rule_files(paths)
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for f in files:
        docs, doc_problems = read_documents(f)
        found, rule_problems = _from_documents(docs, str(f), seen)
        problems += doc_problems + rule_problems
        rules += found
    return rules, problems


def check_rules(*paths: str | Path) -> list[Problem]:
    """Every problem in the rule files under ``paths`` as (file, line, message); empty when all good.

    With no ``paths``, checks the shipped rules. A folder without any rule file is a problem:
    checking it would otherwise say nothing was wrong.
    """
    _, problems = _load(paths or (BUILTIN_DIR,))
    empty = [
        (str(p), None, "holds no rule files (*.yaml, *.yml)")
        for p in map(Path, paths)
        if p.is_dir() and not _rule_files([p])[0]
    ]
    return empty + problems


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
        raise RuleError(problems, checked=[str(d) for d in dirs])
    overrides = {r.id: r for r in user}
    merged = [overrides.pop(r.id, r) for r in base] + [r for r in user if r.id in overrides]
    return RuleSet(tuple(r for r in merged if not r.disabled))
