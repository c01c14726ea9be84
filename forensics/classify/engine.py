"""Weigh rule matches over a failed test's linked rows into one verdict."""

from __future__ import annotations

import polars as pl

from forensics.classify.rules import RuleSet
from forensics.correlate import Correlation
from forensics.result import Verdict


def classify(
    tests: pl.DataFrame, logs: pl.DataFrame, correlation: Correlation, rules: RuleSet
) -> list[Verdict]:
    """One verdict per failed test, in test order. Evidence summaries are redacted."""
    raise NotImplementedError
