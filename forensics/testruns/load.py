"""Read test reports of any supported format into one test frame.

The format is recognised from content, not the file name: XML is JUnit, a JSON object with
``tests`` is pytest-json-report, JSON lines with ``$report_type`` are pytest-reportlog.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from forensics.exceptions import MissingTestReportError, TestReportError
from forensics.logs.files import GZIP_MAGIC
from forensics.logs.load import walk_folder
from forensics.result import Skipped
from forensics.schema import TEST_SCHEMA, empty_test_frame
from forensics.testruns.jsonreport import read_json_report
from forensics.testruns.junit import read_junit
from forensics.testruns.merge import group_runs
from forensics.testruns.model import ParsedReport
from forensics.testruns.reportlog import read_reportlog

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SNIFF_LINES = 20  # a reportlog is recognised if one of its first lines is a report object
#: The path that means standard input.
STDIN = "-"
#: Files a folder walk passes over without reading: never test reports.
_NOT_REPORTS = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass
class LoadedTests:
    """The test frame and an account of what was merged or skipped."""

    frame: pl.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    duplicates: int = 0  # rows merged away because two reports held the same run
    files: list[str] = field(default_factory=list)
    runs: int = 0  # distinct test sessions found (a rerun in another file is a second run)


def _read_bytes(path: Path) -> bytes:
    """The bytes of one report (``-``: standard input), gunzipped when they are gzip."""
    try:
        data = sys.stdin.buffer.read() if str(path) == STDIN else path.read_bytes()
    except FileNotFoundError:
        raise MissingTestReportError("no such file", path=_where(path)) from None
    except IsADirectoryError:
        raise TestReportError("is a directory, not a test report", path=path) from None
    except OSError as err:
        raise TestReportError(f"cannot read ({err.strerror or err})", path=path) from None
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise TestReportError(f"not a readable gzip file ({err})", path=path) from None
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise TestReportError("empty file, not a test report", path=_where(path))
    return data


def _report_files(paths: tuple[str | Path, ...]) -> list[tuple[Path, bool]]:
    """Each report to read, with whether it was found in a folder (then it may be passed over).

    ``-`` is standard input; a folder is walked (sharded CI writes one JUnit file per shard).
    """
    found: list[tuple[Path, bool]] = []
    for given in map(Path, paths):
        if str(given) != STDIN and given.is_dir():
            walked = [p for p in walk_folder(given) if p.name not in _NOT_REPORTS]
            if not walked:
                raise TestReportError("is a directory with no files in it", path=given)
            found.extend((p, True) for p in walked)
        else:
            found.append((given, False))
    return found


def _read_all(
    paths: tuple[str | Path, ...], strict: bool
) -> tuple[list[ParsedReport], list[str], list[Skipped]]:
    """The reports under ``paths``, the files they came from and the folder files passed over.

    A file named directly must be a report; in a folder, a file that is not one is recorded as
    skipped and the walk goes on (a folder with no report at all is an error).
    """
    reports: list[ParsedReport] = []
    files: list[str] = []
    passed_over: list[Skipped] = []
    for path, in_folder in _report_files(paths):
        try:
            reports.append(_read_guarded(path, strict))
        except TestReportError as err:
            if not in_folder:
                raise
            passed_over.append(Skipped(str(path), f"not a test report: {err.message}", 1, err.line))
            continue
        files.append(_where(path))
    if passed_over and not reports:
        raise TestReportError("no test report found in any file", path=", ".join(map(str, paths)))
    return reports, files, passed_over


def _where(path: Path) -> str:
    """How errors and the run facts name a report: its path, or ``<stdin>``."""
    return "<stdin>" if str(path) == STDIN else str(path)


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
    where = _where(path)
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
    reports, files, passed_over = _read_all(paths, strict)
    runs, duplicates = group_runs(reports)
    rows = [row for run in runs for row in run.rows]
    for order, row in enumerate(rows):
        row["order"] = order
    frame = pl.DataFrame(rows, schema=TEST_SCHEMA, orient="row") if rows else empty_test_frame()
    return LoadedTests(
        frame=frame.select(list(TEST_SCHEMA)),
        skipped=[s for r in reports for s in r.skipped_list()] + passed_over,
        duplicates=duplicates,
        files=files,
        runs=sum(1 for run in runs if run.rows),
    )


def load_tests(*paths: str | Path, strict: bool = False) -> pl.DataFrame:
    """The test frame of ``read_tests`` alone."""
    return read_tests(*paths, strict=strict).frame
