"""The run's JUnit XML again, with each failed testcase carrying its forensics verdict.

CI test views (Jenkins, GitLab, Allure) read JUnit; each failed or errored testcase gets::

    <properties>
      <property name="forensics.root_cause" value="missing_bypass_header"/>
      <property name="forensics.confidence" value="0.99"/>
      <property name="forensics.evidence" value="2025-09-07 15:22:10.679Z  WARNING ..."/>
    </properties>
    ...
    <system-out>...captured output...
    --- forensics ---
    missing_bypass_header 0.99: The app requires the E2E bypass header ...</system-out>

``<properties>`` goes first in the testcase (merged into one the testcase already has), the
explanation is appended to its ``<system-out>`` (made after the failure elements when absent), and
nothing else changes. Testcases are matched to verdicts by the node id the JUnit reader rebuilds
(``forensics.testruns.nodeid``). Every value is redacted as the other reports are.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from forensics.atomic import atomic_write
from forensics.exceptions import InputError, TestReportError
from forensics.report.deciding import deciding_evidence, deciding_line
from forensics.result import TriageResult, Verdict
from forensics.testruns.nodeid import node_id

FAILED_TAGS = ("failure", "error")
#: The line that starts forensics' part of a testcase's system-out.
MARK = "--- forensics ---"


def _properties(result: TriageResult, verdict: Verdict) -> list[tuple[str, str]]:
    entry = deciding_evidence(verdict)
    props = [
        ("forensics.root_cause", verdict.root_cause),
        ("forensics.confidence", f"{verdict.confidence:.2f}"),
        ("forensics.evidence", deciding_line(result, verdict)),
    ]
    if verdict.detail:
        props.append(("forensics.detail", verdict.detail))
    if entry is not None:
        props.append(("forensics.insert_id", entry.insert_id))
    return props


def _explanation(result: TriageResult, verdict: Verdict) -> str:
    head = f"{verdict.root_cause} {verdict.confidence:.2f}"
    why = result.scrub(verdict.explanation) or ""
    return f"{MARK}\n{head}: {why}\n{deciding_line(result, verdict, limit=2000)}\n"


def _annotate(case: ET.Element, result: TriageResult, verdict: Verdict) -> None:
    props = case.find("properties")
    if props is None:
        props = ET.Element("properties")
        case.insert(0, props)
    for name, value in _properties(result, verdict):
        ET.SubElement(props, "property", {"name": name, "value": value})
    out = case.find("system-out")
    if out is None:
        out = ET.Element("system-out")
        last_result = max(
            (
                i
                for i, child in enumerate(case)
                if child.tag in (*FAILED_TAGS, "skipped", "properties")
            ),
            default=-1,
        )
        case.insert(last_result + 1, out)
    text = (out.text or "").rstrip("\n")
    out.text = (text + "\n" if text else "") + _explanation(result, verdict)


def enrich_junit(
    data: bytes, result: TriageResult, *, path: str = "junit.xml"
) -> tuple[bytes, int]:
    """``data`` (a JUnit XML document) with the verdicts of ``result`` on its failed testcases.

    Returns:
        The new document (UTF-8, with an XML declaration) and how many testcases were annotated.

    Raises:
        TestReportError: ``data`` is not XML.
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise TestReportError(f"broken XML ({str(err).split(':', 1)[0]})", path=path) from None
    verdicts = {v.test_id: v for v in result.verdicts}
    annotated = 0
    for case in root.iter("testcase"):
        if not any(child.tag in FAILED_TAGS for child in case):
            continue
        verdict = verdicts.get(
            node_id(case.get("classname"), case.get("name") or "", case.get("file"))
        )
        if verdict is not None:
            _annotate(case, result, verdict)
            annotated += 1
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n", annotated


def write_enriched_junit(source: str | Path, result: TriageResult, out: str | Path) -> int:
    """Write ``source`` enriched with ``result`` to ``out`` (atomically); returns testcases annotated.

    Raises:
        InputError: ``source`` cannot be read or ``out`` cannot be written.
        TestReportError: ``source`` is not XML.
    """
    src, dest = Path(source), Path(out)
    try:
        data = src.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read ({err.strerror or err})", path=src) from None
    enriched, annotated = enrich_junit(data, result, path=str(src))
    try:
        atomic_write(dest, enriched)
    except OSError as err:
        raise InputError(
            f"cannot write the enriched JUnit ({err.strerror or err})", path=dest
        ) from None
    return annotated
