"""Read test reports of any supported format into one test frame.

The format is recognised from content, not the file name: XML is JUnit, a JSON object with
``tests`` is pytest-json-report, JSON lines with ``$report_type`` are pytest-reportlog.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from forensics.exceptions import TestReportError
from forensics.result import Skipped
from forensics.schema import TEST_SCHEMA, empty_test_frame
from forensics.testruns.jsonreport import read_json_report
from forensics.testruns.junit import read_junit
from forensics.testruns.merge import group_runs
from forensics.testruns.model import ParsedReport
from forensics.testruns.reportlog import read_reportlog

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SNIFF_LINES = 20  # a reportlog is recognised if one of its first lines is a report object


@dataclass
class LoadedTests:
    """The test frame and an account of what was merged or skipped."""

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0  # rows merged away because two reports held the same run
    files: list[str] = field(default_factory=list)
    runs: int = 0  # distinct test sessions found (a rerun in another file is a second run)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TestReportError("no such file", path=path) from None
    except IsADirectoryError:
        raise TestReportError("is a directory, not a test report", path=path) from None
    except OSError as err:
        raise TestReportError(f"cannot read ({err.strerror or err})", path=path) from None
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise TestReportError("empty file, not a test report", path=path)
    return data


def _is_reportlog(data: bytes) -> bool:
    for raw in data.splitlines()[:_SNIFF_LINES]:
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict) and "$report_type" in entry:
            return True
    return False


def _parse_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise TestReportError("not UTF-8 text, not a test report", path=where) from None
    except json.JSONDecodeError as err:
        raise TestReportError(f"not JSON ({err.msg})", path=where, line=err.lineno) from None
    except RecursionError:
        raise TestReportError("JSON nested too deeply to be a test report", path=where) from None


def _read_one(path: Path, strict: bool) -> ParsedReport:
    where = str(path)
    data = _read_bytes(path)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 with a BOM, as Windows PowerShell redirection writes reports; its XML declaration
        # often still says utf-8, so it is dropped (on line 1, so later line numbers hold).
        text = _XML_DECLARATION.sub("", data.decode("utf-16", errors="replace"), count=1)
        data = text.encode("utf-8")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return read_junit(data, where, strict=strict)
    if head not in (b"{", b"["):
        raise TestReportError("not a test report (neither XML nor JSON)", path=where, line=1)
    if _is_reportlog(data):
        return read_reportlog(data, where, strict=strict)
    doc = _parse_json(data, where)
    if (
        isinstance(doc, dict)
        and isinstance(doc.get("tests"), list)
        and ("created" in doc or "summary" in doc)
    ):
        return read_json_report(doc, where, strict=strict)
    if isinstance(doc, dict) and "summary" in doc and "created" in doc:
        raise TestReportError(
            "pytest-json-report without tests (written with --json-report-summary?)", path=where
        )
    raise TestReportError(
        "JSON but not a pytest report (expected pytest-json-report or pytest-reportlog)", path=where
    )


def _read_guarded(path: Path, strict: bool) -> ParsedReport:
    try:
        return _read_one(path, strict)
    except TestReportError:
        raise
    except (OverflowError, ValueError, RecursionError, MemoryError) as err:
        # Damaged numbers or nesting deep inside a report: the user needs the file, not a traceback.
        raise TestReportError(
            f"unreadable report content ({type(err).__name__})", path=path
        ) from None
    except (TypeError, AttributeError, KeyError, IndexError) as err:
        # A report shape no reader expected. The fuzz tests assert this net never catches, so a
        # reader that trips here is a bug to fix; the user still gets one line, not a traceback.
        raise TestReportError(
            f"report content of an unexpected shape ({type(err).__name__})", path=path
        ) from None


def read_tests(*paths: str | Path, strict: bool = False) -> LoadedTests:
    """Read test reports; the format is detected from content, not the file name.

    Args:
        *paths: JUnit XML, pytest-reportlog JSONL or pytest-json-report JSON files, in any mix.
            Several formats of one session merge into one row per test; different sessions
            (a rerun) keep their own rows.
        strict: raise on the first bad line or entry instead of skipping and counting it.

    Returns:
        ``LoadedTests``: the frame (``TEST_SCHEMA``, in run order), what was skipped, how many
        rows were merged as duplicates, the files read and the number of distinct runs.

    Raises:
        TestReportError: a file is missing, empty, unreadable, or not a supported report.
    """
    reports = [_read_guarded(Path(p), strict) for p in paths]
    runs, duplicates = group_runs(reports)
    rows = [row for run in runs for row in run.rows]
    for order, row in enumerate(rows):
        row["order"] = order
    frame = pl.DataFrame(rows, schema=TEST_SCHEMA, orient="row") if rows else empty_test_frame()
    return LoadedTests(
        frame=frame.select(list(TEST_SCHEMA)),
        skipped=[s for r in reports for s in r.skipped_list()],
        duplicates=duplicates,
        files=[str(p) for p in paths],
        runs=sum(1 for run in runs if run.rows),
    )


def load_tests(*paths: str | Path, strict: bool = False) -> pl.DataFrame:
    """The test frame of ``read_tests`` alone."""
    return read_tests(*paths, strict=strict).frame
