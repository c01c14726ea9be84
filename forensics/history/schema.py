"""The history's one table: a row per (run, test), the same columns in every partition.

Run columns repeat on each of the run's rows (Parquet stores a repeated value once per page), so
one ``pl.scan_parquet("DIR/*.parquet")`` or DuckDB ``FROM 'DIR/*.parquet'`` is the whole history,
without forensics. ``schema_version`` says which version of this table wrote a row; a reader
refuses versions newer than ``SCHEMA_VERSION`` (their columns may mean something else).
"""

from __future__ import annotations

import polars as pl

#: Version of ``HISTORY_SCHEMA``; bump it when a column changes meaning or type (adding one is not).
SCHEMA_VERSION = 1

UTC_US = pl.Datetime("us", "UTC")

EVIDENCE = pl.Struct(
    {
        "insert_id": pl.String,
        "timestamp": pl.String,  # RFC 3339 UTC, as in the verdict
        "log_id": pl.String,
        "summary": pl.String,
        "log_name": pl.String,
    }
)

#: The columns of every partition, in order.
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "schema_version": pl.Int32(),
    # the run
    "run_id": pl.String(),  # "20250907T152209-3fa9c2d1": runner start, then a hash of the report
    "started": UTC_US,  # first test start, on Google's clock
    "ended": UTC_US,  # last test stop, on Google's clock
    "recorded_at": UTC_US,
    "revisions": pl.List(pl.String()),  # Cloud Run revisions / versions that served the runner
    "services": pl.List(pl.String()),
    "revisions_method": pl.String(),  # how they were found: "runner requests", "all requests", "none: ..."
    "clock_offset_s": pl.Float64(),  # Google - runner, as the triage estimated it
    "clock_uncertainty_s": pl.Float64(),
    "clock_method": pl.String(),
    "ci_provider": pl.String(),  # github, gitlab, cloudbuild, jenkins, buildkite; null outside CI
    "commit": pl.String(),
    "branch": pl.String(),
    "job_url": pl.String(),
    "ci_build": pl.String(),
    "test_files": pl.List(pl.String()),  # the test reports read
    # the test
    "test_id": pl.String(),
    "outcome": pl.String(),  # passed, failed, error, skipped, xfailed, xpassed
    "start": UTC_US,  # on Google's clock
    "stop": UTC_US,
    "duration_s": pl.Float64(),
    "failure": pl.String(),  # the first line of the test's failure message (redacted)
    # the verdict (failed tests only)
    "root_cause": pl.String(),  # a TAXONOMY label
    "detail": pl.String(),
    "confidence": pl.Float64(),
    "layer": pl.String(),
    "rule": pl.String(),
    "explanation": pl.String(),
    "reason": pl.String(),  # for unknown: what is missing
    "evidence": pl.List(EVIDENCE),
    "deciding_line": pl.String(),  # the evidence line that decided (an app or edge line first)
    "template": pl.String(),  # the deciding line (unknown: the reason) with variable parts masked
}

#: Outcomes a test report gives -> the comparison's outcome (``passed|failed|error|skipped``).
OUTCOME_SHOWN = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "error": "error",
    "skipped": "skipped",
    "xfailed": "skipped",
}
#: What an outcome counts as when statuses are decided: a pass, a failure, or nothing (None).
OUTCOME_KIND = {
    "passed": "pass",
    "xpassed": "pass",
    "failed": "fail",
    "error": "fail",
    "skipped": None,
    "xfailed": None,
}
