"""What every incident-corpus test file checks, parametrized by the corpus folder and its misses.

A corpus is a folder of incidents (tests/data/incidents*/<name>/) each holding the run's reports,
its export under logs/, and expected.json (the label of every failed test and the insert ids of
other clients). A test file declares its Corpus and keeps thin tests that call the checks below,
so the assertions, the strict xfails of today's misses and the accuracy table stay the same in
every corpus.
"""

from __future__ import annotations

import filecmp
import gzip
import importlib.util
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import pytest

from forensics import TriageResult, triage
from forensics.labels import UNKNOWN
from forensics.result import Verdict

DATA = Path(__file__).resolve().parent / "data"


@cache
def _triage(incident: Path, report_names: tuple[str, ...]) -> TriageResult:
    """One triage per incident, shared by its cases: the run's reports and its whole export folder."""
    reports = [incident / f for f in report_names if (incident / f).is_file()]
    return triage(reports, incident / "logs")


@cache
def _export_ids(logs: Path) -> frozenset[str]:
    """Every insertId written in the export, read with json (gzip opened), not with forensics' reader."""
    ids: set[str] = set()
    decoder = json.JSONDecoder()

    def walk(node: object) -> None:
        if isinstance(node, dict) and isinstance(node.get("insertId"), str):
            ids.add(node["insertId"])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in sorted(logs.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode()
        pos = 0
        while True:  # arrays, JSON lines and pasted pretty objects alike: values one after another
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            value, pos = decoder.raw_decode(text, pos)
            walk(value)
    return frozenset(ids)


def _short(test_id: str) -> str:
    """The test's name after the module's "::", as KNOWN_MISSES and the case ids spell it."""
    return test_id.split("::", 1)[1]


@dataclass(frozen=True)
class Corpus:
    """One folder of incidents and what the engine gets wrong on it today.

    Attributes:
        folder: tests/data/<corpus>, one sub-folder per incident with an expected.json.
        known_misses: (incident, test name after "::") -> why the engine misses it today; each
            such case is a strict xfail and the accuracy summary's misses must be exactly these.
        title: the corpus's name in the accuracy line ("blind accuracy: ...").
        report_names: the report files an incident may hold, passed to triage when present.
    """

    folder: Path
    known_misses: Mapping[tuple[str, str], str] = field(hash=False)
    title: str
    report_names: tuple[str, ...] = ("junit.xml", "report.jsonl")

    @cached_property
    def names(self) -> list[str]:
        """The incidents: every sub-folder holding an expected.json, sorted."""
        return sorted(p.parent.name for p in self.folder.glob("*/expected.json"))

    def expected(self, name: str) -> dict:
        """The incident's expected.json: failures (test id -> label) and foreign_insert_ids."""
        return json.loads((self.folder / name / "expected.json").read_text())

    def labels(self) -> set[str]:
        """Every label that is the truth of some failure in the corpus."""
        return {label for name in self.names for label in self.expected(name)["failures"].values()}

    def result(self, name: str) -> TriageResult:
        """The incident's triage result, computed once per incident."""
        return _triage(self.folder / name, self.report_names)

    def export_ids(self, name: str) -> frozenset[str]:
        """Every insertId in the incident's export, read independently of forensics' reader."""
        return _export_ids(self.folder / name / "logs")

    def verdict(self, name: str, test_id: str) -> Verdict:
        """The verdict triage gave one failed test of the incident."""
        return next(v for v in self.result(name).verdicts if v.test_id == test_id)

    def cases(self) -> list:
        """(incident, test id, label) per failure, id "<incident>::<test>", known misses strict xfail."""
        params = []
        for name in self.names:
            for test_id, label in self.expected(name)["failures"].items():
                short = _short(test_id)
                reason = self.known_misses.get((name, short))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                params.append(
                    pytest.param(name, test_id, label, id=f"{name}::{short}", marks=marks)
                )
        return params

    def assert_one_verdict_per_failure(self, name: str) -> None:
        """Triage answers exactly the failed tests of the incident's reports, no more, no fewer."""
        got = [v.test_id for v in self.result(name).verdicts]
        assert sorted(got) == sorted(self.expected(name)["failures"])

    def assert_root_cause(self, name: str, test_id: str, label: str) -> Verdict:
        """The failure's root cause is the label; an unknown verdict says what is missing."""
        verdict = self.verdict(name, test_id)
        assert verdict.root_cause == label, verdict.reason or verdict.explanation
        if label == UNKNOWN:
            assert verdict.reason, "unknown must say what is missing"
        return verdict

    def assert_cites_the_runners_entries(self, name: str, verdict: Verdict) -> None:
        """A named verdict cites entries that are in the export and never another client's."""
        assert verdict.evidence, f"{verdict.test_id}: a named cause must cite log entries"
        foreign = set(self.expected(name)["foreign_insert_ids"])
        for ev in verdict.evidence:
            assert ev.insert_id in self.export_ids(name), (
                f"{verdict.test_id}: {ev.insert_id} not in export"
            )
            assert ev.insert_id not in foreign, (
                f"{verdict.test_id}: {ev.summary!r} is another client's"
            )

    def assert_named_causes_cite_the_runners_entries(self, name: str) -> None:
        """Every non-unknown verdict of the incident passes assert_cites_the_runners_entries."""
        for verdict in self.result(name).verdicts:
            if verdict.root_cause != UNKNOWN:
                self.assert_cites_the_runners_entries(name, verdict)

    def assert_builder_reproduces(self, script: str, tmp_path: Path) -> None:
        """Running the corpus's build script into tmp_path gives byte-identical incident folders."""
        spec = importlib.util.spec_from_file_location(Path(script).stem, self.folder / script)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.OUT = tmp_path
        module.main()
        assert sorted(p.name for p in tmp_path.iterdir()) == self.names
        for name in self.names:
            files = sorted(
                str(p.relative_to(tmp_path / name))
                for p in (tmp_path / name).rglob("*")
                if p.is_file()
            )
            committed = sorted(
                str(p.relative_to(self.folder / name))
                for p in (self.folder / name).rglob("*")
                if p.is_file()
            )
            assert files == committed, name
            _, mismatch, errors = filecmp.cmpfiles(
                tmp_path / name, self.folder / name, files, shallow=False
            )
            assert not mismatch and not errors, (
                f"{name}: {mismatch or errors} differ from the builder"
            )

    def print_accuracy_and_assert_misses(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Prints the expected-vs-got table and accuracy; asserts the misses are exactly known_misses."""
        table, misses, hits, confident = [], set(), 0, 0
        for name in self.names:
            got = {v.test_id: v.root_cause for v in self.result(name).verdicts}
            for test_id, label in self.expected(name)["failures"].items():
                answer = got.get(test_id, "<none>")
                hits += answer == label
                if answer != label:
                    misses.add((name, _short(test_id)))
                    confident += answer != UNKNOWN
                table.append(
                    ("ok  " if answer == label else "MISS", name, _short(test_id), label, answer)
                )
        name_width = max(len(row[1]) for row in table)
        test_width = max(len(row[2]) for row in table)
        rows = [
            f"{mark} {name:{name_width}} {short:{test_width}} expected={label:22} got={answer}"
            for mark, name, short, label, answer in table
        ]
        truth = Counter(
            label for name in self.names for label in self.expected(name)["failures"].values()
        )
        with capsys.disabled():
            print("\n" + "\n".join(rows))
            print(
                f"{self.title} accuracy: {hits}/{len(table)} = {hits / len(table):.1%} over "
                f"{len(self.names)} incidents; confident mistakes (wrong non-unknown): {confident}; "
                f"truth by label: {dict(sorted(truth.items()))}"
            )
        assert misses == set(self.known_misses)
