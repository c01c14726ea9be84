"""The main job: test reports + log exports -> one verdict per failed test."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from forensics.classify import RuleSet, classify, load_rules
from forensics.correlate import correlate
from forensics.logs import LoadedLogs, read_logs
from forensics.logs.kinds import with_kinds
from forensics.result import TriageResult
from forensics.runfacts import LogInputs, RunFacts, SuiteInputs
from forensics.schema import failed
from forensics.testruns import LoadedTests, read_tests

PathLike = str | Path


def _as_tests(
    tests: LoadedTests | pl.DataFrame | PathLike | Sequence[PathLike], strict: bool
) -> LoadedTests:
    if isinstance(tests, LoadedTests):
        return tests
    if isinstance(tests, pl.DataFrame):
        return LoadedTests(frame=tests)
    if isinstance(tests, (str, Path)):
        return read_tests(tests, strict=strict)
    return read_tests(*tests, strict=strict)


def _as_logs(
    logs: LoadedLogs | pl.DataFrame | PathLike | Sequence[PathLike], strict: bool
) -> LoadedLogs:
    if isinstance(logs, LoadedLogs):
        return logs
    if isinstance(logs, pl.DataFrame):
        return LoadedLogs(frame=logs)
    if isinstance(logs, (str, Path)):
        return read_logs(logs, strict=strict)
    return read_logs(*logs, strict=strict)


def triage(
    tests: LoadedTests | pl.DataFrame | PathLike | Sequence[PathLike],
    logs: LoadedLogs | pl.DataFrame | PathLike | Sequence[PathLike],
    *,
    rules: RuleSet | Sequence[PathLike] | None = None,
    strict: bool = False,
) -> TriageResult:
    """Explain every failed test of a run from the run's Cloud Logging entries.

    Args:
        tests: test report paths (JUnit XML, reportlog, json-report), or an already loaded frame.
        logs: log export paths (files or folders), or an already loaded frame.
        rules: a loaded ``RuleSet``, or folders of extra rule files added to the shipped ones.
        strict: fail on the first bad line of any input instead of skipping and counting it.

    Returns:
        A ``TriageResult``: ``verdicts`` in test order, ``run`` facts, the frames, what was skipped.
    """
    loaded_tests = _as_tests(tests, strict)
    loaded_logs = _as_logs(logs, strict)
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(*(rules or ()))

    log_frame = with_kinds(loaded_logs.frame)  # what each row is, decided once for every stage
    test_frame = loaded_tests.frame

    correlation = correlate(test_frame, log_frame)
    verdicts = classify(test_frame, log_frame, correlation, ruleset)

    ts = log_frame.get_column("timestamp") if log_frame.height else None
    run = RunFacts(
        tests=SuiteInputs(
            files=tuple(loaded_tests.files),
            total=test_frame.height,
            failed=test_frame.filter(failed()).height,
            duplicates_merged=loaded_tests.duplicates,
        ),
        logs=LogInputs(
            files=tuple(loaded_logs.files),
            entries=log_frame.height,
            duplicates_removed=loaded_logs.duplicates,
            first=ts.min().isoformat() if ts is not None else None,  # type: ignore[union-attr]
            last=ts.max().isoformat() if ts is not None else None,  # type: ignore[union-attr]
        ),
        correlation=correlation.facts(),
        rules=len(ruleset.rules),
    )
    return TriageResult(
        verdicts=verdicts,
        run=run,
        logs=log_frame,
        tests=test_frame,
        skipped=[*loaded_tests.skipped, *loaded_logs.skipped],
        correlation=correlation,
    )
