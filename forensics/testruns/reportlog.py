"""pytest-reportlog JSONL -> rows with exact windows.

Every test phase (setup, call, teardown) is one ``TestReport`` line with ``start`` / ``stop`` epoch
seconds, so a test's window is known exactly: setup start to teardown stop, uncertainty 0, clock
``"utc"``. A test that runs again in the same file (pytest-rerunfailures) starts a new setup and
becomes a new row, so no failed attempt is lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forensics.testruns.model import LATEST_EPOCH_S, ParsedReport, join_message, make_row

_PHASES = ("setup", "call", "teardown")
_KNOWN_TYPES = {"SessionStart", "SessionFinish", "CollectReport", "TestReport", "WarningMessage"}


def render_longrepr(longrepr: Any) -> str | None:
    """Text of a serialized pytest longrepr (string, skip tuple, or exception dict)."""
    if longrepr is None or isinstance(longrepr, str):
        return longrepr
    if isinstance(longrepr, list) and len(longrepr) == 3:
        path, line, reason = longrepr
        return f"{path}:{line}: {reason}"
    if isinstance(longrepr, dict):
        try:
            return _render_exception(longrepr)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # an unexpected shape still keeps its text below
    return json.dumps(longrepr, ensure_ascii=False, default=str)


def _render_exception(longrepr: dict[str, Any]) -> str | None:
    chain = longrepr.get("chain") or [
        [longrepr.get("reprtraceback"), longrepr.get("reprcrash"), None]
    ]
    lines: list[str] = []
    crash = longrepr.get("reprcrash") or {}
    if crash.get("message"):
        lines += [str(crash["message"]), ""]
    for traceback, _crash, description in chain:
        for entry in (traceback or {}).get("reprentries") or []:
            data = entry.get("data") or {}
            lines += [str(x) for x in data.get("lines") or []]
            loc = data.get("reprfileloc")
            if loc:
                lines += ["", f"{loc.get('path')}:{loc.get('lineno')}: {loc.get('message')}"]
        if (traceback or {}).get("extraline"):
            lines.append(str(traceback["extraline"]))
        if description:
            lines += ["", str(description), ""]
    for title, content in longrepr.get("sections") or []:
        lines += [f"--- {title} ---", str(content)]
    return "\n".join(lines).strip() or None


def _list(value: Any) -> list[Any]:
    """``value`` if it is a list, else nothing (a damaged field must not stop the file)."""
    return value if isinstance(value, list) else []


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < LATEST_EPOCH_S:
        return datetime.fromtimestamp(value, UTC)
    return None


def _outcome(phases: list[dict[str, Any]], finished: bool) -> str:
    by_when = {p["when"]: p for p in phases}
    outcomes = [p["outcome"] for p in phases]
    if not finished and "failed" not in outcomes:
        return "error"  # the session stopped inside this test (killed runner, timeout)
    xfail = any("wasxfail" in p for p in phases)
    if "failed" in outcomes:
        # A failing test body is a failure; a fixture failing around it is an error.
        return "failed" if by_when.get("call", {}).get("outcome") == "failed" else "error"
    if "rerun" in outcomes:
        return "failed"  # pytest-rerunfailures: this attempt failed and was run again
    if xfail:
        return "xpassed" if by_when.get("call", {}).get("outcome") == "passed" else "xfailed"
    if "skipped" in outcomes:
        return "skipped"
    return "passed"


def _row(report: ParsedReport, test_id: str, phases: list[dict[str, Any]]) -> dict[str, Any]:
    starts = [t for t in (_epoch(p.get("start")) for p in phases) if t]
    stops = [t for t in (_epoch(p.get("stop")) for p in phases) if t]
    finished = any(p["when"] == "teardown" for p in phases)
    parts: list[str | None] = (
        [] if finished else ["interrupted: no teardown report (the session stopped in this test)"]
    )
    seen_sections: set[tuple[str, ...]] = set()
    for p in phases:
        if p.get("wasxfail"):
            parts.append(f"xfail: {p['wasxfail']}")
        if p["outcome"] != "passed":
            parts.append(render_longrepr(p.get("longrepr")))
    props = {
        f"{prop[0]}: {prop[1]}"
        for p in phases
        for prop in _list(p.get("user_properties"))
        if isinstance(prop, list) and len(prop) == 2
    }
    if props:  # record_property() values: tests often record the request or trace id they used
        parts.append("--- properties ---\n" + "\n".join(sorted(props)))
    for p in phases:  # later phases repeat earlier phases' captured output
        for section in _list(p.get("sections")):
            if (
                isinstance(section, list)
                and len(section) == 2
                and tuple(map(str, section)) not in seen_sections
            ):
                seen_sections.add(tuple(map(str, section)))
                parts.append(f"--- {section[0]} ---\n{section[1]}")
    timed = bool(starts and stops)
    # pytest's own duration (the phases summed), as JUnit and json-report give it; the window
    # from setup start to teardown stop also holds the moments between phases.
    duration = sum(
        float(p["duration"]) for p in phases if isinstance(p.get("duration"), (int, float))
    )
    return make_row(
        test_id,
        _outcome(phases, finished),
        report=report,
        message=join_message(*parts),
        duration_s=duration,
        start=min(starts) if timed else None,
        stop=max(stops) if timed else None,
        uncertainty_s=0.0 if timed else None,
        clock="utc" if timed else "none",
    )


def read_reportlog(data: bytes, path: str, *, strict: bool = False) -> ParsedReport:
    """Read one pytest-reportlog file; bad lines are counted by reason (or raise when ``strict``)."""
    report = ParsedReport(path=path, source_format="reportlog")
    attempts: list[tuple[str, list[dict[str, Any]]]] = []
    open_attempt: dict[str, list[dict[str, Any]]] = {}
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            report.skip("line is not UTF-8", number, strict=strict)
            continue
        except ValueError:
            report.skip("line is not JSON (truncated?)", number, strict=strict)
            continue
        kind = entry.get("$report_type") if isinstance(entry, dict) else None
        if not isinstance(kind, str) or kind not in _KNOWN_TYPES:
            report.skip("line is not a pytest report object", number, strict=strict)
            continue
        if kind == "CollectReport" and entry.get("outcome") == "failed":
            test_id = str(entry.get("nodeid") or "<collection>")
            message = join_message("collection failed", render_longrepr(entry.get("longrepr")))
            report.rows.append(
                make_row(test_id, "error", report=report, message=message, duration_s=0.0)
            )
        if kind != "TestReport":
            continue
        test_id, when, outcome = entry.get("nodeid"), entry.get("when"), entry.get("outcome")
        if (
            not isinstance(test_id, str)
            or not test_id
            or when not in _PHASES
            or not isinstance(outcome, str)
        ):
            report.skip("TestReport without nodeid, when or outcome", number, strict=strict)
            continue
        phases = open_attempt.get(test_id)
        if phases is None or (when == "setup" and any(p["when"] == "setup" for p in phases)):
            phases = open_attempt[test_id] = []
            attempts.append((test_id, phases))
        phases.append(entry)
    # Collection errors come before any test; test rows follow in the order their setup began.
    report.rows += [_row(report, test_id, phases) for test_id, phases in attempts]
    return report
