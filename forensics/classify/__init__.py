"""Decide each failed test's root cause from its linked log rows, with rules kept as data.

- ``rules``: rule files (YAML, one rule per document) -> frozen ``Rule`` dataclasses, validated on
  load; ``check_rules`` reports every broken rule at once with file and line.
- ``engine``: evaluates the rules over each failed test's linked rows and weighs the matches
  into one ``Verdict`` (``unknown`` with a reason when nothing decides).
"""

from __future__ import annotations

from forensics.classify.engine import classify
from forensics.classify.rules import Rule, RuleSet, check_rules, load_rules

__all__ = ["Rule", "RuleSet", "check_rules", "classify", "load_rules"]
