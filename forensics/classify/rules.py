"""Rules as data: YAML files -> validated, frozen Rule objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """One rule: a label from TAXONOMY, conditions over a log row, a weight."""

    id: str
    label: str
    source: str  # file:line where it was defined


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]


def load_rules(*dirs: str | Path, builtin: bool = True) -> RuleSet:
    """Load the shipped rules (``forensics/rules/``) plus every rule file under ``dirs``.

    Raises:
        RuleError: with every problem found, each with file and line.
    """
    raise NotImplementedError


def check_rules(*paths: str | Path) -> list[tuple[str, int | None, str]]:
    """Every problem in the rule files under ``paths`` as (file, line, message); empty when all good."""
    raise NotImplementedError
