"""The reports a user reads: terminal text, the JSON contract, the markdown postmortem, the files."""

from __future__ import annotations

import html
import io
import json
import os
import re
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from forensics import atomic as atomic_mod
from forensics.exceptions import InputError, UsageError
from forensics.labels import REMEDIATION
from forensics.report import (
    render_json,
    render_markdown,
    render_text,
    text_report,
    verdicts_from_json,
    write_reports,
)
from forensics.report.facts import printable, rfc3339
from forensics.report.json import json_dict
from forensics.result import Evidence, Skipped, TriageResult, Verdict
from forensics.runfacts import RunFacts
from forensics.schema import LOG_SCHEMA, TEST_SCHEMA
from tests._correlate_frames import given_clock

PROJECT = "netra-staging"
REQ_LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests"
APP_LOG = f"projects/{PROJECT}/logs/run.googleapis.com%2Fstderr"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
ANSI = re.compile(r"\x1b\[")
T_CONNECT = "tests/e2e/test_ws.py::test_connect"
T_PIPE = "tests/e2e/test_ws.py::test_flow[a|b]"
T_UNKNOWN = "tests/e2e/test_agent.py::test_pipeline"


def _at(second: int) -> datetime:
    return datetime(2025, 9, 7, 9, 0, second, tzinfo=UTC)


def _tests() -> pl.DataFrame:
    rows = [
        (T_CONNECT, "failed", 1, 2),
        (T_PIPE, "failed", 3, 4),
        (T_UNKNOWN, "error", 5, 6),
        ("t::ok", "passed", 0, 1),
    ]
    return pl.DataFrame(
        {
            "test_id": [r[0] for r in rows],
            "outcome": [r[1] for r in rows],
            "start": [_at(r[2]) for r in rows],
            "stop": [_at(r[3]) for r in rows],
        },
        schema={k: TEST_SCHEMA[k] for k in ("test_id", "outcome", "start", "stop")},
    )


def _logs() -> pl.DataFrame:
    # app-2 carries no log_name on its Evidence: reports must find it in the log frame
    return pl.DataFrame(
        {"insert_id": ["app-2"], "log_name": [APP_LOG]},
        schema={"insert_id": LOG_SCHEMA["insert_id"], "log_name": LOG_SCHEMA["log_name"]},
    )


def make_result(*, redact: bool = True, secret: str | None = None) -> TriageResult:
    """Three failed tests: two missing_bypass_header with evidence, one unknown; two skipped inputs."""
    s = f" {secret}" if secret else ""
    v1 = Verdict(
        T_CONNECT,
        "missing_bypass_header",
        0.9,
        "app",
        (
            Evidence(
                "req-1",
                "2025-09-07T09:00:02.123456789Z",
                "run.googleapis.com/requests",
                "403 GET /ws",
                REQ_LOG,
            ),
            Evidence(
                "app-1",
                "2025-09-07T11:00:02.2+02:00",
                "run.googleapis.com/stderr",
                'rejected: x-e2e-bypass-key missing | got {"x-e2e-bypass-key": "wrongkey"}' + s,
                APP_LOG,
            ),
        ),
        f"app refused the handshake: bypass key missing; client sent Authorization: Bearer {JWT}{s}",
        rule="bypass-missing",
    )
    v2 = Verdict(
        T_PIPE + (f"[{secret}]" if secret else ""),
        "missing_bypass_header",
        0.8,
        "app",
        (
            Evidence(
                "app-2",
                "2025-09-07T09:00:04Z",
                "run.googleapis.com/stderr",
                "rejected: bypass key missing",
            ),
        ),
        "app refused: bypass key missing",
    )
    v3 = Verdict(
        T_UNKNOWN,
        "unknown",
        0.0,
        None,
        (),
        "no entry in the window",
        reason="no request from the runner between 09:00:05 and 09:00:06",
    )
    run = RunFacts.from_dict(
        {
            "tests": {"files": ["junit.xml"], "total": 4, "failed": 3, "duplicates_merged": 0},
            "logs": {
                "files": ["logs.json"],
                "entries": 40,
                "duplicates_removed": 2,
                "first": "2025-09-07T08:59:00+00:00",
                "last": "2025-09-07T09:01:00+00:00",
            },
            "correlation": {
                "clock_offset_s": 1.25,
                "clock_offset_uncertainty_s": 0.2,
                "clock_method": "trace ids",
                "fingerprint": {
                    "remote_ips": ["203.0.113.7"],
                    "user_agents": ["websockets/15.0.1"],
                },
            },
            "rules": 12,
        }
    )
    skipped = [
        Skipped("logs.json", "not JSON" + s, 3, 17),
        Skipped("junit.xml", "testcase without name", 1),
    ]
    clock = given_clock(_tests(), 1.25, 0.2, "trace ids")
    return TriageResult([v1, v2, v3], run, _logs(), _tests(), skipped, clock, redact=redact)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


# --- text -------------------------------------------------------------------------------------


def test_text_lists_every_test_cause_total_offset_and_skip() -> None:
    """The plain summary names each failed test and cause, totals, the offset, fingerprint, inputs and skips."""
    out = text_report(make_result())
    for needle in (
        T_CONNECT,
        T_PIPE,
        T_UNKNOWN,
        "missing_bypass_header",
        "unknown",
        "totals by cause: missing_bypass_header 2, unknown 1 (of 3)",
        "+1.250 s ± 0.200 s (trace ids)",
        "203.0.113.7",
        "websockets/15.0.1",
        "40 entries from logs.json, 2 duplicate(s) removed",
        "logs.json: not JSON (3 skipped, first at line 17)",
        "junit.xml: testcase without name (1 skipped)",
    ):
        assert needle in out, needle
    wide = text_report(make_result(), width=300)  # no wrapping inside table cells
    assert (
        "no entry in the window (no request from the runner between 09:00:05 and 09:00:06)" in wide
    )


def test_text_is_plain_when_not_a_terminal() -> None:
    """Written to a file or pipe the summary has no ANSI codes, no trailing blanks, and fits 120 columns."""
    buf = io.StringIO()
    render_text(make_result(), buf)
    out = buf.getvalue()
    assert not ANSI.search(out)
    assert all(line == line.rstrip() for line in out.splitlines())
    assert max(len(line) for line in out.splitlines()) <= 120


def test_text_stays_plain_in_ci_even_when_colour_is_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """FORCE_COLOR / TTY_COMPATIBLE in a CI environment do not put ANSI codes into a file."""
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    buf = io.StringIO()
    render_text(make_result(), buf)
    assert not ANSI.search(buf.getvalue())


def test_text_has_colour_on_a_terminal() -> None:
    """On a terminal the same summary is coloured (so the plain mode above is a real switch)."""
    buf = _Tty()
    render_text(make_result(), buf, width=140)
    assert ANSI.search(buf.getvalue())


def test_control_characters_in_logs_cannot_drive_the_terminal() -> None:
    """An ESC sequence or bidi override in a test id or log line is shown escaped, never emitted."""
    r = make_result()
    v = r.verdicts[0]
    r.verdicts[0] = Verdict(
        "t::x\x1b[2J\u202e", v.root_cause, v.confidence, v.layer, v.evidence, "boom\x1b]0;pwned\x07"
    )
    r.skipped.append(Skipped("f\x1b[31m.json", "bad\x00line", 1))
    for out in (text_report(r, width=300), render_markdown(r)):
        assert not re.search("[\x00-\x08\x1b\x7f\u202e]", out)
        assert "\\x1b" in out


def test_text_with_no_failures_says_so() -> None:
    """A run without failed tests prints a clear line instead of an empty table."""
    r = make_result()
    r.verdicts = []
    assert "no failed tests" in text_report(r)


def test_text_warns_when_redaction_is_off() -> None:
    """--no-redact shows the secret and a warning that it is shown."""
    out = text_report(make_result(redact=False, secret="E2E_BYPASS_KEY=plainvalue7"), width=400)
    assert "logs.json: not JSON E2E_BYPASS_KEY=plainvalue7 (3 skipped" in out
    assert "redaction is off" in out


# --- JSON -------------------------------------------------------------------------------------


def test_json_keys_are_the_contract() -> None:
    """The JSON has exactly the documented keys at every level."""
    data = json.loads(render_json(make_result()))
    assert set(data) == {"run", "failures", "summary"}
    assert set(data["summary"]) == {"failed_tests", "by_root_cause", "unknown", "skipped_input"}
    assert {"tests", "logs", "correlation", "skipped"} <= set(data["run"])
    for f in data["failures"]:
        assert set(f) == {
            "test_id",
            "root_cause",
            "confidence",
            "layer",
            "evidence",
            "explanation",
            "detail",
            "rule",
            "reason",
        }
        for e in f["evidence"]:
            assert set(e) == {"insert_id", "timestamp", "log_id", "summary", "log_name"}


def test_json_counts_skipped_input_by_file_and_reason() -> None:
    """Skipped input appears per file and reason, and its total in the summary."""
    data = json.loads(render_json(make_result()))
    assert data["summary"]["skipped_input"] == 4
    assert data["run"]["skipped"][0] == {
        "source": "logs.json",
        "reason": "not JSON",
        "count": 3,
        "first_line": 17,
    }
    assert data["summary"]["by_root_cause"] == {"missing_bypass_header": 2, "unknown": 1}


def test_json_timestamps_are_rfc3339_utc() -> None:
    """Evidence times are RFC 3339 in UTC with Z; nanoseconds kept; offsets moved to UTC."""
    data = json.loads(render_json(make_result()))
    stamps = [e["timestamp"] for f in data["failures"] for e in f["evidence"]]
    assert stamps == [
        "2025-09-07T09:00:02.123456789Z",
        "2025-09-07T09:00:02.2Z",
        "2025-09-07T09:00:04Z",
    ]
    assert data["run"]["logs"]["first"] == "2025-09-07T08:59:00Z"


def test_json_round_trips_to_the_same_verdicts() -> None:
    """Verdicts rebuilt from the JSON equal the originals (times normalized, secrets kept off)."""
    r = make_result(redact=False)
    back = verdicts_from_json(render_json(r))
    assert [v.to_dict() for v in back] == json_dict(r)["failures"]
    assert [v.root_cause for v in back] == [v.root_cause for v in r.verdicts]


def test_json_redacts_by_default() -> None:
    """The bearer JWT in an explanation and the bypass key in a summary are not in the JSON."""
    out = render_json(make_result())
    assert JWT not in out and "wrongkey" not in out
    assert "[REDACTED jwt sha256:" in out


# --- markdown ---------------------------------------------------------------------------------


def test_markdown_has_every_section() -> None:
    """The postmortem has title, summary, impact, timeline, causes, unexplained, skipped, method, appendix."""
    md = render_markdown(make_result())
    assert md.startswith("# Postmortem: 3 failed test(s)")
    for heading in (
        "## Summary",
        "## Impact",
        "## Timeline (UTC)",
        "## Root causes",
        "### `missing_bypass_header`: 2 test(s)",
        "## Unexplained",
        "## Skipped input",
        "## How the logs were read",
        "## Appendix: find the evidence in Cloud Logging",
    ):
        assert f"\n{heading}\n" in md, heading
    assert "**Verdict:** Of 3 failed test(s): 2 `missing_bypass_header`" in md
    assert (
        "Failures from **2025-09-07 09:00:03.250Z** to **2025-09-07 09:00:07.250Z** (UTC: runner clock +1.250 s ± 0.200 s)."
        in md
    )


def test_markdown_evidence_table_and_remediation() -> None:
    """Each cause lists its evidence rows (insertId, UTC time, log, summary) and its TAXONOMY remediation."""
    md = render_markdown(make_result())
    assert "| insertId | timestamp (UTC) | log | summary |" in md
    assert (
        "| `req-1` | 2025-09-07 09:00:02.123Z | run.googleapis.com/requests | 403 GET /ws |" in md
    )
    assert "| `app-1` | 2025-09-07 09:00:02.200Z |" in md
    assert f"**Remediation:** {REMEDIATION['missing_bypass_header']}" in md


def test_markdown_cause_section_counts_details() -> None:
    """A cause whose verdicts carry rule details says how many tests had each detail."""
    r = make_result()
    v = r.verdicts[0]
    r.verdicts[0] = Verdict(
        v.test_id,
        v.root_cause,
        v.confidence,
        v.layer,
        v.evidence,
        v.explanation,
        detail="value_rejected",
    )
    assert "By detail: `value_rejected` 1." in render_markdown(r)


def test_markdown_unknown_reasons_and_skipped_input() -> None:
    """Unexplained failures carry their reason; skipped input is listed by file and reason."""
    md = render_markdown(make_result())
    assert f"`{T_UNKNOWN}`: no request from the runner between 09:00:05 and 09:00:06" in md
    assert "- logs.json: not JSON (3 skipped, first at line 17)" in md


def test_markdown_timeline_is_in_time_order() -> None:
    """Timeline rows (evidence and failures on Google's clock) are sorted by UTC time."""
    md = render_markdown(make_result())
    section = md.split("## Timeline (UTC)")[1].split("## Root causes")[0]
    times = re.findall(r"^\| (2025-\S+ \S+Z) \|", section, re.M)
    assert times == sorted(times) and len(times) == 6
    assert (
        "| 2025-09-07 09:00:03.250Z | test failed (`missing_bypass_header`) |" in section
    )  # stop + 1.25 s


def test_markdown_logs_explorer_link_opens_the_evidence() -> None:
    """The appendix link decodes to a query for exactly the cause's insertIds, time range and project."""
    md = render_markdown(make_result())
    url = re.search(
        r"\(https://console\.cloud\.google\.com/logs/query;query=([^;]+);timeRange=([^?]+)\?project=([^)]+)\)",
        md,
    )
    assert url, md
    query = unquote(url.group(1))
    assert 'insertId="app-1" OR insertId="app-2" OR insertId="req-1"' in query
    assert 'timestamp>="2025-09-07T09:00:01Z" AND timestamp<="2025-09-07T09:00:06Z"' in query
    assert f'logName="{APP_LOG}"' in query and f'logName="{REQ_LOG}"' in query
    assert unquote(url.group(2)) == "2025-09-07T09:00:01Z/2025-09-07T09:00:06Z"
    assert url.group(3) == PROJECT
    assert "```\n" + query + "\n```" in md  # the same query, readable


def test_markdown_table_cells_render_log_text_as_written() -> None:
    """A | or * in a test id or log line neither splits a row nor formats: the cell reads as logged."""
    md = render_markdown(make_result())
    cells = [c for row in _rendered_rows(md) for c in row]
    assert T_PIPE in cells
    assert (
        'rejected: x-e2e-bypass-key missing | got {"x-e2e-bypass-key": "[REDACTED sha256:c211eb3e]"}'
        in cells
    )
    assert '"[REDACTED sha256:c211eb3e]"' in md  # markers stay readable in the raw file
    assert _table_rows(md) == [5, 5, 5] + [3] * 7 + [4] * 4


def test_markdown_embeds_plots_with_relative_links() -> None:
    """Plots passed in are embedded with the relative path given."""
    md = render_markdown(make_result(), plots={"timeline": Path("timeline.png")})
    assert "![timeline](timeline.png)" in md


def test_markdown_warns_when_redaction_is_off() -> None:
    """A postmortem written with --no-redact says so at the top and shows the value."""
    md = render_markdown(make_result(redact=False))
    assert "Redaction is off" in md.splitlines()[1]
    assert "wrongkey" in md


# --- write_reports ----------------------------------------------------------------------------


def test_write_reports_writes_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """triage.txt (plain), triage.json and postmortem.md are written, matching the renderers."""
    monkeypatch.setitem(
        sys.modules, "forensics.plot", None
    )  # no plot module: reports still written
    r = make_result()
    written = write_reports(r, tmp_path / "out")
    assert set(written) == {"text", "json", "markdown"}
    assert written["json"].read_text() == render_json(r)
    assert not ANSI.search(written["text"].read_text())
    md = written["markdown"].read_text()
    assert "plots were not drawn" in md
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "postmortem.md",
        "triage.json",
        "triage.txt",
    ]


def test_write_reports_draws_and_embeds_plots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plots from forensics.plot are saved as PNG beside the postmortem and embedded; a failing one is noted."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    def timeline(result: TriageResult) -> Figure:
        fig = Figure()
        fig.add_subplot().plot([0, 1], [0, 1])
        return fig

    def causes(result: TriageResult) -> Figure:
        raise ValueError("no data")

    fake = types.ModuleType("forensics.plot")
    fake.timeline = timeline  # type: ignore[attr-defined]
    fake.causes = causes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forensics.plot", fake)
    written = write_reports(make_result(), tmp_path)
    assert written["timeline"].read_bytes().startswith(b"\x89PNG")
    md = written["markdown"].read_text()
    assert "![timeline](timeline.png)" in md
    assert "plot 'causes' was not drawn: ValueError: no data" in md
    assert "requests_by_status" in md and "causes" not in {p.stem for p in tmp_path.glob("*.png")}


def test_a_failed_write_keeps_the_old_report_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing triage.json fails midway, the previous triage.json survives whole and no temp file is left."""
    monkeypatch.setitem(sys.modules, "forensics.plot", None)
    (tmp_path / "triage.json").write_text('{"old": true}\n')
    real_fsync = os.fsync
    calls = {"n": 0}

    def failing_fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # triage.txt is written first, triage.json second
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(
        InputError, match=r"triage.json: cannot write the report: No space left on device"
    ):
        write_reports(make_result(), tmp_path)
    assert (tmp_path / "triage.json").read_text() == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["triage.json", "triage.txt"]


# --- secrets in every output ------------------------------------------------------------------

_B64 = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    min_size=10,
    max_size=30,
)
_SHAPES = [
    lambda s: (f"eyJ{s}.eyJ{s}.{s}", None),
    lambda s: (f"{s}7", "Authorization: Bearer {}"),
    lambda s: ("AIza" + (s * 35)[:35], None),
    lambda s: (f"{s}7", "x-e2e-bypass-key={}"),
    lambda s: (f"{s}7", '{{"E2E_BYPASS_KEY": "{}"}}'),
    lambda s: (f"{s}7", "session_token: {}"),
]


@st.composite
def _secrets(draw: st.DrawFn) -> tuple[str, str]:
    value, template = draw(st.sampled_from(_SHAPES))(draw(_B64))
    return value, template.format(value) if template else value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_secrets())
def test_generated_secrets_never_reach_any_output(case: tuple[str, str]) -> None:
    """A secret in explanations, evidence summaries, test ids or skipped reasons is absent from text, JSON and markdown."""
    value, shown = case
    # Hypothesis also draws words of the code ("clock_meth"): a tail the secret-free report
    # already holds is no leak, so such a draw proves nothing either way
    plain = make_result()
    baseline = (text_report(plain, width=2000), render_json(plain), render_markdown(plain))
    assume(all(value[-10:] not in out for out in baseline))
    r = make_result(secret=shown)
    outputs = {
        "text": text_report(r, width=2000),
        "json": render_json(r),
        "markdown": render_markdown(r),
    }
    for name, out in outputs.items():
        assert value not in out, name
        assert value[-10:] not in out, name  # not even a fragment cut by wrapping or clipping
    r.redact = False
    assert value in render_json(r) and value in render_markdown(r)


def test_reprs_never_show_secrets() -> None:
    """repr() of a result, verdict, evidence or skipped record, and its verdict table (notebooks, logs), is redacted."""
    r = make_result(secret="E2E_BYPASS_KEY=reprsecret7")
    shown = (
        repr(r)
        + repr(r.verdicts)
        + repr(r.skipped)
        + r._repr_html_()
        + str(r.to_frame().to_dicts())
    )
    assert "reprsecret7" not in shown and JWT not in shown and "wrongkey" not in shown
    assert "missing_bypass_header 2" in repr(r)


def test_text_cuts_explanations_only_after_redacting() -> None:
    """A secret holding '. ' is hidden whole even though the table shows only the first sentence."""
    r = make_result()
    v = r.verdicts[0]
    r.verdicts[0] = Verdict(
        v.test_id,
        v.root_cause,
        v.confidence,
        v.layer,
        v.evidence,
        'Rejected {"password": "Hello. World"}. More text.',
    )
    out = text_report(r, width=300)
    assert "Hello" not in out and '"password": "[REDACTED' in out


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    """--out naming an existing file fails with one clear error and leaves the file alone."""
    target = tmp_path / "report"
    target.write_text("keep me")
    with pytest.raises(UsageError, match="is not a folder"):
        write_reports(make_result(), target)
    assert target.read_text() == "keep me"


def test_reports_get_ordinary_file_permissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written reports are readable like any file the user creates (not the 0600 of temp files)."""
    monkeypatch.setitem(sys.modules, "forensics.plot", None)
    written = write_reports(make_result(), tmp_path)
    assert written["json"].stat().st_mode & 0o777 == 0o666 & ~atomic_mod._UMASK


def test_markdown_appendix_has_a_window_query_for_unexplained_failures() -> None:
    """Unknown failures get a query for everything logged while they ran, padded and on Google's clock."""
    md = render_markdown(make_result())
    section = md.split("### Unexplained failures")[1]
    # T_UNKNOWN ran 09:00:05-09:00:06 runner time, +1.25 s offset, padded by 5 s + 0.2 s uncertainty
    assert 'timestamp>="2025-09-07T09:00:01Z" AND timestamp<="2025-09-07T09:00:13Z"' in section
    assert "timeRange=2025-09-07T09:00:01Z%2F2025-09-07T09:00:13Z?project=netra-staging" in section


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-09-07T09:00:02.123456789Z", "2025-09-07T09:00:02.123456789Z"),
        ("2025-09-07T11:00:02.5+02:00", "2025-09-07T09:00:02.5Z"),
        ("2025-09-07T09:00:02", "2025-09-07T09:00:02Z"),
        ("2025-09-07 09:00:02.000+00:00", "2025-09-07T09:00:02Z"),
        (datetime(2025, 9, 7, 9, 0, 2, 250000, tzinfo=UTC), "2025-09-07T09:00:02.250000Z"),
        ("not a time", "not a time"),
        (None, None),
    ],
)
def test_rfc3339_normalizes_times_to_utc(given: object, expected: str | None) -> None:
    """Report times are RFC 3339 UTC with Z; text that is no time is kept rather than lost."""
    assert rfc3339(given) == expected


# log text, rich in what markdown treats specially
_ANY = st.text(
    alphabet=st.one_of(
        st.sampled_from("|`\\<>\n*_[]#!"), st.characters(codec="utf-8", exclude_categories=("Cs",))
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@example(
    test_id="t|x", summary="5xx | *boom* `c` <b> [l](u) __init__", insert_id="i|d", reason="r|s"
)
@given(test_id=_ANY, summary=_ANY, insert_id=_ANY, reason=_ANY)
def test_markdown_tables_survive_any_log_text(
    test_id: str, summary: str, insert_id: str, reason: str
) -> None:
    """Pipes, backticks, emphasis, newlines or HTML in log text never break a row: cells read as logged."""
    ev = (Evidence(insert_id or "x", "2025-09-07T09:00:01Z", "log", summary, REQ_LOG),)
    r = TriageResult(
        [
            Verdict(test_id, "app_error", 0.5, "app", ev, summary),
            Verdict(test_id + "2", "unknown", 0.0, None, (), "", reason=reason),
        ],
        RunFacts(),
        _logs(),
        _tests(),
        [Skipped("f", reason, 1)],
    )
    md = render_markdown(r)
    text_report(r)
    source_rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(_table_rows(md)) == len(source_rows)  # every source row parses as one table row
    shown = " ".join(summary.split())
    evidence_rows = [row for row in _rendered_rows(md) if len(row) == 4]
    assert evidence_rows[1][3] == printable(r.scrub(shown) or "").strip()  # row 0 is the header


def _rendered_rows(md: str) -> list[list[str]]:
    """Each table row's cells as a reader sees them: rendered by a markdown parser, tags stripped."""
    parser = MarkdownIt("commonmark").enable("table")
    rows: list[list[str]] = []
    in_cell = False
    for tok in parser.parse(md):
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type in ("td_open", "th_open"):
            rows[-1].append("")
            in_cell = True
        elif tok.type in ("td_close", "th_close"):
            in_cell = False
        elif tok.type == "inline" and in_cell:
            rendered = parser.renderer.renderInline(tok.children or [], parser.options, {})
            rows[-1][-1] = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    return rows


def _table_rows(md: str) -> list[int]:
    """Cells per table row, as a CommonMark+GFM-tables parser reads the markdown."""
    cells: list[int] = []
    for tok in MarkdownIt("commonmark").enable("table").parse(md):
        if tok.type == "tr_open":
            cells.append(0)
        elif tok.type in ("td_open", "th_open"):
            cells[-1] += 1
    return cells


def test_markdown_long_tables_say_how_many_rows_are_not_shown() -> None:
    """A cause with more evidence than a table shows states how many rows were left to triage.json."""
    ev = tuple(
        Evidence(f"id-{i:03d}", f"2025-09-07T09:00:{i % 60:02d}Z", "log", "403", REQ_LOG)
        for i in range(70)
    )
    r = TriageResult(
        [Verdict("t::x", "app_error", 0.9, "app", ev, "5xx")], RunFacts(), _logs(), _tests()
    )
    md = render_markdown(r)
    section = md.split("Evidence (70 entries):")[1].split("**Remediation:**")[0]
    assert section.count("| `id-") == 60
    assert "_10 more row(s) not shown; every failure and entry is in triage.json._" in section


def test_render_text_defaults_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a file the summary goes to stdout (plain, as stdout is captured, not a terminal)."""
    render_text(make_result())
    out = capsys.readouterr().out
    assert T_CONNECT in out and not ANSI.search(out)


def test_write_reports_without_plots_does_not_import_the_plot_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plots=False writes the three reports and never touches forensics.plot."""
    boom = types.ModuleType("forensics.plot")
    boom.timeline = lambda result: (_ for _ in ()).throw(AssertionError("plot called"))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forensics.plot", boom)
    written = write_reports(make_result(), tmp_path, plots=False)
    assert set(written) == {"text", "json", "markdown"}
    assert "## Plots" not in written["markdown"].read_text()


def test_clip_never_shows_part_of_a_redaction_marker() -> None:
    """A cut anywhere near a marker shows it whole or not at all (never ``[REDACTE…``)."""
    from forensics.report.facts import clip

    text = "refused: token [REDACTED jwt sha256:1a2b3c4d] expired"
    for limit in range(8, len(text) + 1):
        shown = clip(text, limit)
        assert len(shown) <= limit
        if "[" in shown:
            assert "[REDACTED jwt sha256:1a2b3c4d]" in shown, (limit, shown)
