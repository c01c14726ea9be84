"""Untrusted report bytes: reading them either works or raises TestReportError, nothing else."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics import read_tests
from forensics.exceptions import TestReportError
from forensics.schema import TEST_SCHEMA

DATA = Path(__file__).parent / "data" / "testruns"
SAMPLES = [p.read_bytes() for p in sorted(DATA.glob("*.xml"))]
REPORTLOG = "\n".join(
    json.dumps(
        {
            "nodeid": "tests/test_a.py::test_x",
            "when": w,
            "outcome": o,
            "longrepr": lr,
            "sections": [["Captured stdout call", "trace=abc"]],
            "duration": 0.1,
            "start": 1757258529.0 + i,
            "stop": 1757258529.1 + i,
            "$report_type": "TestReport",
        }
    )
    for i, (w, o, lr) in enumerate(
        [
            ("setup", "passed", None),
            ("call", "failed", {"reprcrash": {"message": "boom"}}),
            ("teardown", "passed", None),
        ]
    )
).encode()
JSON_REPORT = json.dumps(
    {
        "created": 1757258530.0,
        "duration": 2.0,
        "tests": [
            {
                "nodeid": "tests/test_a.py::test_x",
                "outcome": "failed",
                "setup": {"duration": 0.1, "outcome": "passed"},
                "call": {
                    "duration": 0.5,
                    "outcome": "failed",
                    "crash": {"message": "boom"},
                    "longrepr": "E boom",
                },
                "teardown": {"duration": 0.1, "outcome": "passed"},
            }
        ],
    }
).encode()
SEEDS = [*SAMPLES, REPORTLOG, JSON_REPORT, SAMPLES[0].decode().encode("utf-16")]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "report"


def _read_or_report_error(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        loaded = read_tests(path)
    except TestReportError as err:
        assert str(err).startswith(str(path)) and "\n" not in str(err)
        assert "unexpected shape" not in str(err)  # the loader's safety net must stay unused
        return
    assert dict(loaded.frame.schema) == TEST_SCHEMA


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    data=st.one_of(
        st.binary(max_size=2000), st.binary(max_size=2000).map(lambda b: b"\xff\xfe" + b)
    )
)
def test_random_bytes_never_crash(scratch: Path, data: bytes) -> None:
    """Arbitrary bytes give a frame or a one-line TestReportError, never another exception."""
    _read_or_report_error(scratch, data)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real sample with a slice cut out, replaced, or the file truncated."""
    seed = draw(st.sampled_from(SEEDS))
    i = draw(st.integers(0, len(seed)))
    j = draw(st.integers(i, min(len(seed), i + 200)))
    patch = draw(
        st.one_of(
            st.just(b""),
            st.binary(max_size=40),
            st.sampled_from(
                [
                    b"<",
                    b">",
                    b'"',
                    b"&",
                    b"]]>",
                    b"{",
                    b"}",
                    b"-08:00",
                    b"1e308",
                    b'"start": -1',
                    b"\xff",
                    b"9999-12-31T23:59:59",
                ]
            ),
        )
    )
    return seed[:i] + patch + seed[j:]


@settings(
    max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(data=damaged())
def test_damaged_reports_never_crash(scratch: Path, data: bytes) -> None:
    """Damaged JUnit, reportlog and json-report files give a frame or a TestReportError, nothing else."""
    _read_or_report_error(scratch, data)


@settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    time=st.one_of(st.text(max_size=12), st.floats(allow_nan=True).map(str)),
    stamp=st.one_of(st.text(max_size=30), st.datetimes().map(lambda d: d.isoformat())),
)
def test_odd_junit_numbers_and_timestamps(scratch: Path, time: str, stamp: str) -> None:
    """Any suite time or timestamp text is read or rejected cleanly (never an overflow traceback)."""
    from xml.sax.saxutils import quoteattr

    xml = f'<testsuite time={quoteattr(time)} timestamp={quoteattr(stamp)}><testcase classname="t.test_a" name="b" time={quoteattr(time)}/></testsuite>'
    _read_or_report_error(scratch, xml.encode())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
REPORTLOG_ENTRY = json.loads(REPORTLOG.splitlines()[1])
JSON_REPORT_DOC = json.loads(JSON_REPORT)


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    key=st.sampled_from([*REPORTLOG_ENTRY, "wasxfail", "user_properties"]),
    value=JSON_VALUES,
)
def test_reportlog_fields_of_any_type(scratch: Path, key: str, value: object) -> None:
    """A reportlog line whose field holds any JSON type is read, skipped or rejected cleanly."""
    entry = {**REPORTLOG_ENTRY, key: value}
    lines = [
        REPORTLOG.splitlines()[0].decode(),
        json.dumps(entry),
        REPORTLOG.splitlines()[2].decode(),
    ]
    _read_or_report_error(scratch, "\n".join(lines).encode())


@settings(
    max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(
    where=st.sampled_from(["doc", "test", "call", "crash"]),
    key=st.sampled_from(
        [
            "created",
            "duration",
            "tests",
            "collectors",
            "nodeid",
            "outcome",
            "call",
            "setup",
            "longrepr",
            "crash",
            "message",
            "stdout",
            "log",
        ]
    ),
    value=JSON_VALUES,
)
def test_json_report_fields_of_any_type(scratch: Path, where: str, key: str, value: object) -> None:
    """A json-report whose fields hold any JSON type is read or rejected cleanly."""
    doc = json.loads(JSON_REPORT)
    target = {
        "doc": doc,
        "test": doc["tests"][0],
        "call": doc["tests"][0]["call"],
        "crash": doc["tests"][0]["call"]["crash"],
    }[where]
    target[key] = value
    _read_or_report_error(scratch, json.dumps(doc).encode())
