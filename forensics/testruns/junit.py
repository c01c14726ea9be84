"""pytest JUnit XML (pytest 6-9, ``<testsuites>`` or a bare ``<testsuite>`` root) -> rows.

Testcases carry durations, not start times: windows come from ``timing.estimate_windows``.
The suite ``timestamp`` decides the clock: with an offset it is converted to UTC (``"utc"``);
without one (pytest 5.1-8.2 write the runner's local time) it is stored as if UTC and marked
``"naive"`` for the correlation stage to align; no timestamp leaves the tests untimed (``"none"``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from forensics.exceptions import TestReportError
from forensics.testruns.model import ParsedReport, join_message, make_row, worse_outcome
from forensics.testruns.nodeid import node_id
from forensics.testruns.timing import estimate_windows

_JUNIT_ROUNDING_S = 0.0005  # pytest writes times with three decimals


def _parse_xml(data: bytes, path: str) -> ET.Element:
    try:
        return ET.fromstring(data)
    except ET.ParseError as err:
        line = err.position[0] if err.position else None
        reason = str(err).split(":", 1)[0]
        raise TestReportError(f"broken XML ({reason})", path=path, line=line) from None
    except LookupError as err:  # the XML declaration names an encoding Python does not know
        raise TestReportError(f"XML in an unknown encoding ({err})", path=path, line=1) from None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    # A week bounds any real test session; larger values are damage, not durations.
    return seconds if 0 <= seconds <= 7 * 86400 else None


def _suite_start(
    suite: ET.Element, report: ParsedReport, strict: bool
) -> tuple[datetime | None, str]:
    raw = suite.get("timestamp")
    if not raw:
        return None, "none"
    try:
        stamp = datetime.fromisoformat(raw.strip())
    except ValueError:
        report.skip(
            f"testsuite timestamp {raw[:40]!r} unreadable (its tests left untimed)",
            None,
            strict=strict,
        )
        return None, "none"
    if not 1971 <= stamp.year <= 2200:
        report.skip(
            f"testsuite timestamp {raw[:40]!r} out of range (its tests left untimed)",
            None,
            strict=strict,
        )
        return None, "none"
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC), "naive"
    return stamp.astimezone(UTC), "utc"


#: Retry records (Maven surefire style, also written by some pytest rerun setups): a rerun*
#: element is a failed attempt of a test that still failed; flaky* ones preceded a final pass.
_RETRY_TAGS = {
    "rerunFailure": "failed",
    "rerunError": "error",
    "flakyFailure": None,
    "flakyError": None,
}


def _outcome_and_message(case: ET.Element) -> tuple[str, str | None]:
    outcome = "passed"
    parts: list[str | None] = []
    for child in case:
        tag, text, msg = child.tag, (child.text or "").strip(), child.get("message") or ""
        if tag in ("failure", "error"):
            outcome = worse_outcome(outcome, "failed" if tag == "failure" else "error")
            # The attribute holds pytest's one-line crash message, the text the full traceback.
            parts.append(join_message(msg, text))
        elif tag in _RETRY_TAGS:
            outcome = worse_outcome(outcome, _RETRY_TAGS[tag] or "passed")
            parts.append(join_message(f"{tag}: {msg}" if msg else tag, text))
        elif tag == "skipped":
            if child.get("type") == "pytest.xfail":
                outcome = worse_outcome(outcome, "xfailed")
            elif msg.startswith("xfail-marked test passes unexpectedly"):
                outcome = worse_outcome(outcome, "xpassed")
            else:
                outcome = worse_outcome(outcome, "skipped")
            parts.append(join_message(f"skipped: {msg}" if msg else None, text))
        elif tag == "properties":
            # record_property() values: tests often record the request or trace id they used.
            props = [
                f"{p.get('name')}: {p.get('value', p.text or '')}" for p in child.iter("property")
            ]
            parts.append("--- properties ---\n" + "\n".join(props) if props else None)
        elif tag in ("system-out", "system-err") and text:
            parts.append(f"--- {tag} ---\n{text}")
    return outcome, join_message(*parts)


def _suites(root: ET.Element, path: str) -> list[ET.Element]:
    if root.tag == "testsuite":
        return [root]
    if root.tag != "testsuites":
        raise TestReportError(
            f"XML root <{root.tag}> is not JUnit (<testsuites> or <testsuite>)", path=path
        )
    return list(root.iter("testsuite"))


def read_junit(data: bytes, path: str, *, strict: bool = False) -> ParsedReport:
    """Read one JUnit XML report.

    Args:
        data: the file's bytes.
        path: the file path, for rows and errors.
        strict: raise on the first testcase that cannot be read instead of counting it.

    Returns:
        A ``ParsedReport`` with one row per test, in document order.

    Raises:
        TestReportError: broken XML, or XML that is not JUnit.
    """
    report = ParsedReport(path=path, source_format="junit")
    root = _parse_xml(data, path)
    for suite in _suites(root, path):
        # Within a suite a repeated id is one execution written twice; across suites (merged
        # shard or rerun files) it is another execution and keeps its own row.
        by_id: dict[str, dict[str, Any]] = {}
        start, clock = _suite_start(suite, report, strict)
        cases: list[tuple[str, float, str, str | None]] = []
        for case in suite.findall("testcase"):
            name = case.get("name")
            if not name:
                report.skip("testcase without a name", None, strict=strict)
                continue
            test_id = node_id(case.get("classname"), name, case.get("file"))
            outcome, message = _outcome_and_message(case)
            cases.append((test_id, _seconds(case.get("time")) or 0.0, outcome, message))
        windows = estimate_windows(
            [c[1] for c in cases], start, _seconds(suite.get("time")), rounding_s=_JUNIT_ROUNDING_S
        )
        for (test_id, seconds, outcome, message), (t0, t1, unc) in zip(cases, windows, strict=True):
            row = make_row(
                test_id,
                outcome,
                report=report,
                message=message,
                duration_s=seconds,
                start=t0,
                stop=t1,
                uncertainty_s=unc,
                clock=clock if t0 else "none",
            )
            if test_id in by_id:
                # pytest writes a second testcase for a call failure followed by a teardown error.
                _absorb(by_id[test_id], row)
            else:
                by_id[test_id] = row
                report.rows.append(row)
    return report


def _absorb(first: dict[str, Any], again: dict[str, Any]) -> None:
    first["outcome"] = worse_outcome(first["outcome"], again["outcome"])
    first["duration_s"] = (first["duration_s"] or 0.0) + (again["duration_s"] or 0.0)
    first["message"] = join_message(first["message"], again["message"])
    if first["start"] is not None and again["stop"] is not None:
        first["stop"] = max(first["stop"], again["stop"])
        first["window_uncertainty_s"] = max(
            first["window_uncertainty_s"] or 0.0, again["window_uncertainty_s"] or 0.0
        )
