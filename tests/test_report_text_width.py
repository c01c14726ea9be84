"""The terminal summary at the width the user has: COLUMNS, whole test ids, narrow layouts."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest

from forensics.report import render_text, text_report
from forensics.report.text import wrap_test_id
from forensics.result import TriageResult
from tests.test_report import make_result

LONG_IDS = (
    "tests/e2e/test_1_websocket_events_staging.py::test_websocket_connection",
    "tests/e2e/test_4_agent_orchestration_staging.py::TestAgents::test_orchestration_result_shape",
    "tests/e2e/test_2_message_flow_staging.py::test_message_payload_roundtrip[utf-8|big]",
)
_PARTS = re.compile(r"(?<=/)|(?=::)")


def _long_result() -> TriageResult:
    r = make_result()
    r.verdicts = [
        dataclasses.replace(v, test_id=test_id)
        for v, test_id in zip(r.verdicts, LONG_IDS, strict=True)
    ]
    return r


def _table_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(("|", "+"))]


def test_columns_sets_the_width_when_output_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``COLUMNS=80 forensics triage > file`` lays the table out in 80 columns, border included."""
    monkeypatch.setenv("COLUMNS", "80")
    buf = io.StringIO()
    render_text(_long_result(), buf)
    table = _table_lines(buf.getvalue())
    assert table and {len(line) for line in table} == {80}
    monkeypatch.setenv("COLUMNS", "200")
    buf = io.StringIO()
    render_text(_long_result(), buf)
    assert max(len(line) for line in buf.getvalue().splitlines()) > 120


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_test_ids_are_never_broken_mid_name(width: int) -> None:
    """Each part of a test id (a folder, the file, the test) is whole on one line at any width."""
    out = text_report(_long_result(), width=width)
    for test_id in LONG_IDS:
        for part in _PARTS.split(test_id):
            assert part in out, (width, part)


def test_wide_output_shows_each_test_id_on_one_line() -> None:
    """With room (COLUMNS=200) each id is on one line, so it can be copied in one go."""
    out = text_report(_long_result(), width=200)
    for test_id in LONG_IDS:
        assert test_id in out


def test_at_80_columns_the_explanation_has_its_own_line_and_the_border_stays() -> None:
    """At 80 columns every table line ends with its right border and each "why" is a line of its own."""
    out = text_report(_long_result(), width=80)
    table = _table_lines(out)
    assert all(line.endswith(("|", "+")) for line in table)
    assert all(len(line) == 80 for line in table)
    assert re.search(r"^\|   app refused the handshake", out, re.M)
    assert re.search(r"^\|   no entry in the window \(no request from the runner", out, re.M)
    assert "missing_bypass_header" in out and "0.90" in out


def test_wrap_test_id_prefers_the_file_test_boundary() -> None:
    """An id too long for its column breaks before ``::`` first, then after ``/``; nothing is lost."""
    test_id = LONG_IDS[0]
    assert wrap_test_id(test_id, 50).split("\n") == [
        "tests/e2e/test_1_websocket_events_staging.py",
        "::test_websocket_connection",
    ]
    narrow = wrap_test_id(test_id, 30)
    assert narrow.replace("\n", "") == test_id
    assert "test_1_websocket_events_staging.py" in narrow.split("\n")
