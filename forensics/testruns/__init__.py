"""Test reports -> the test frame (``forensics.schema.TEST_SCHEMA``).

Reads pytest JUnit XML (pytest 6-9), pytest-reportlog JSONL and pytest-json-report JSON.
The same run given in two formats counts once (the most precise timing wins).
"""

from __future__ import annotations

from forensics.testruns.load import LoadedTests, load_tests, read_tests

__all__ = ["LoadedTests", "load_tests", "read_tests"]
