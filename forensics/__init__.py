"""forensics: Google Cloud log forensics for failed test runs.

Load test reports and Cloud Logging exports, correlate each failed test with the entries of its
own requests, classify the root cause with rules kept as data, and report.

    >>> import forensics
    >>> result = forensics.triage("fixtures/seed/junit.xml", "fixtures/seed/logs")
    >>> result.to_pandas()
"""

from __future__ import annotations

from forensics import history as history  # the run history: forensics.history.load, .compare
from forensics.classify import Rule, RuleSet, check_rules, classify, load_rules
from forensics.correlate import Correlation, correlate
from forensics.exceptions import (
    CredentialsError,
    FilterError,
    ForensicsError,
    InputError,
    InputTooLargeError,
    LogFormatError,
    MissingInputError,
    MissingTestReportError,
    PermissionDeniedError,
    ProjectNotFoundError,
    PullError,
    QuotaError,
    RuleError,
    TestReportError,
    UsageError,
)
from forensics.labels import LABELS
from forensics.live.api import pull_logs
from forensics.logs import InputLimits, LoadedLogs, entries_to_frame, load_logs, read_logs
from forensics.redact import redact
from forensics.report import render_json, render_markdown, render_text, write_reports
from forensics.result import Evidence, Skipped, TriageResult, Verdict
from forensics.runfacts import RunFacts
from forensics.schema import KIND_SCHEMA, LOG_SCHEMA, TEST_SCHEMA
from forensics.testruns import LoadedTests, load_tests, read_tests
from forensics.triage import triage

__version__ = "0.1.0"

__all__ = [
    "KIND_SCHEMA",
    "LABELS",
    "LOG_SCHEMA",
    "TEST_SCHEMA",
    "Correlation",
    "CredentialsError",
    "Evidence",
    "FilterError",
    "ForensicsError",
    "InputError",
    "InputLimits",
    "InputTooLargeError",
    "LoadedLogs",
    "LoadedTests",
    "LogFormatError",
    "MissingInputError",
    "MissingTestReportError",
    "PermissionDeniedError",
    "ProjectNotFoundError",
    "PullError",
    "QuotaError",
    "Rule",
    "RuleError",
    "RuleSet",
    "RunFacts",
    "Skipped",
    "TestReportError",
    "TriageResult",
    "UsageError",
    "Verdict",
    "check_rules",
    "classify",
    "correlate",
    "entries_to_frame",
    "load_logs",
    "load_rules",
    "load_tests",
    "pull_logs",
    "read_logs",
    "read_tests",
    "redact",
    "render_json",
    "render_markdown",
    "render_text",
    "triage",
    "write_reports",
]
