"""pytest-json-report JSON -> rows.

The plugin writes ``created`` when the session finishes (``time.time()`` in its
``pytest_sessionfinish``) and ``duration`` since its ``pytest_sessionstart``, so the session started
at ``created - duration``, in UTC. Tests carry per-phase durations but no start time: their windows
are reconstructed in run order exactly as for JUnit (``timing.estimate_windows``), without JUnit's
millisecond rounding.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forensics.exceptions import TestReportError
from forensics.testruns.model import LATEST_EPOCH_S, ParsedReport, join_message, make_row
from forensics.testruns.timing import estimate_windows

_PHASES = ("setup", "call", "teardown")
_OUTCOMES = {"passed", "failed", "error", "skipped", "xfailed", "xpassed"}


def _number(value: Any) -> float | None:
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < LATEST_EPOCH_S
    ):
        return float(value)
    return None


def _phase_text(name: str, phase: dict[str, Any]) -> str | None:
    crash: dict[str, Any] = phase["crash"] if isinstance(phase.get("crash"), dict) else {}
    longrepr = phase.get("longrepr")
    parts: list[str | None] = [
        str(crash.get("message")) if crash.get("message") else None,
        str(longrepr) if longrepr else None,
    ]
    for stream in ("stdout", "stderr"):
        if phase.get(stream):
            parts.append(f"--- Captured {stream} {name} ---\n{phase[stream]}")
    records: list[Any] = phase["log"] if isinstance(phase.get("log"), list) else []
    lines = [
        f"{r.get('levelname', '')} {r.get('name', '')}: {r.get('msg', '')}"
        for r in records
        if isinstance(r, dict)
    ]
    if lines:  # logging records of the phase: clients often log the request ids they sent
        parts.append(f"--- Captured log {name} ---\n" + "\n".join(lines))
    return join_message(*parts)


def _outcome(test: dict[str, Any], phases: dict[str, dict[str, Any]]) -> str:
    stated = test.get("outcome")
    if stated in ("xfailed", "xpassed", "skipped"):
        return str(stated)
    # Same rule as the other readers: a failing test body is "failed" even when teardown errs too.
    if phases.get("call", {}).get("outcome") == "failed":
        return "failed"
    if any(p.get("outcome") == "failed" for p in phases.values()):
        return "error"
    return stated if isinstance(stated, str) and stated in _OUTCOMES else "passed"


def read_json_report(doc: dict[str, Any], path: str, *, strict: bool = False) -> ParsedReport:
    """Read one parsed pytest-json-report document.

    Args:
        doc: the JSON object (``created``, ``duration``, ``tests``, ...).
        path: the file path, for rows and errors.
        strict: raise on the first unreadable test entry instead of counting it.

    Raises:
        TestReportError: ``tests`` is not a list.
    """
    report = ParsedReport(path=path, source_format="json-report")
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        raise TestReportError("json-report 'tests' is not a list", path=path)
    collectors = doc.get("collectors")
    for collector in collectors if isinstance(collectors, list) else []:
        if isinstance(collector, dict) and collector.get("outcome") == "failed":
            message = join_message("collection failed", str(collector.get("longrepr") or ""))
            report.rows.append(
                make_row(
                    str(collector.get("nodeid") or "<collection>"),
                    "error",
                    report=report,
                    message=message,
                    duration_s=0.0,
                )
            )
    cases: list[tuple[str, str, float, str | None]] = []
    for index, test in enumerate(tests):
        if (
            not isinstance(test, dict)
            or not isinstance(test.get("nodeid"), str)
            or not test["nodeid"]
        ):
            report.skip(f"test entry #{index + 1} without a nodeid", None, strict=strict)
            continue
        phases = {w: test[w] for w in _PHASES if isinstance(test.get(w), dict)}
        seconds = sum(_number(p.get("duration")) or 0.0 for p in phases.values())
        message = join_message(*(_phase_text(w, p) for w, p in phases.items()))
        cases.append((test["nodeid"], _outcome(test, phases), seconds, message))
    created, session_s = _number(doc.get("created")), _number(doc.get("duration"))
    start = None
    if (
        created is not None
        and session_s is not None
        and created - session_s > 0
        and created < LATEST_EPOCH_S
    ):
        start = datetime.fromtimestamp(created - session_s, UTC)
    windows = estimate_windows([c[2] for c in cases], start, session_s)
    for (test_id, outcome, seconds, message), (t0, t1, unc) in zip(cases, windows, strict=True):
        report.rows.append(
            make_row(
                test_id,
                outcome,
                report=report,
                message=message,
                duration_s=seconds,
                start=t0,
                stop=t1,
                uncertainty_s=unc,
                clock="utc" if t0 else "none",
            )
        )
    return report
