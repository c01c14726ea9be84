"""What every incident corpus is checked for, read from the corpus.toml in its folder.

A corpus is a folder of incidents (tests/data/<corpus>/<incident>/) each holding the run's reports,
its export under logs/, and expected.json (the label of every failed test and the insert ids of
other clients). Beside them, corpus.toml names the corpus, says what it was written to cover, lists
what the engine gets wrong on it today (strict xfails with their reasons) and names its builder.
tests/test_incident_corpora.py runs the checks below over every corpus, so the assertions, the
strict xfails of today's misses and the accuracy table stay the same in every corpus.
"""

from __future__ import annotations

import filecmp
import gzip
import importlib.util
import json
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pytest

from forensics import TriageResult, triage
from forensics.labels import LABELS, UNKNOWN
from forensics.result import Verdict

DATA = Path(__file__).resolve().parent / "data"
CORPUS_FILE = "corpus.toml"
DEFAULT_REPORT_NAMES = ("junit.xml", "report.jsonl")


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
    """The test's name after the module's "::", as known misses and the case ids spell it."""
    return test_id.split("::", 1)[1]


def _strict_xfail(reason: str | None) -> list[pytest.MarkDecorator]:
    """A strict xfail naming what the engine gets wrong, or no mark when it gets it right."""
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def _only_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """A misspelt key in corpus.toml is an error, not a silently dropped xfail or brief item."""
    unknown = set(table) - allowed
    if unknown:
        raise ValueError(
            f"{where}: unknown keys {sorted(unknown)}, expected some of {sorted(allowed)}"
        )


@dataclass(frozen=True)
class Brief:
    """What a corpus was written to cover, so a rebuild cannot quietly narrow it.

    Attributes:
        min_incidents: the corpus holds at least this many incidents.
        labels: each is the truth of some failure in the corpus.
        every_label: every label of the taxonomy is the truth of some failure.
        gzip_export: some incident's export is gzipped.
        sink_tree: some incident's export is a Cloud Storage sink tree (run.googleapis.com/...).
        min_log_suffixes: the exports use at least this many file suffixes between them.
    """

    min_incidents: int
    labels: frozenset[str] = frozenset()
    every_label: bool = False
    gzip_export: bool = False
    sink_tree: bool = False
    min_log_suffixes: int = 0

    @classmethod
    def from_toml(cls, table: Mapping[str, Any], where: str) -> Brief:
        """The [brief] table of a corpus.toml."""
        _only_keys(table, set(cls.__dataclass_fields__), where)
        return cls(**{**table, "labels": frozenset(table.get("labels", ()))})


@dataclass(frozen=True)
class Corpus:
    """One folder of incidents, what it covers and what the engine gets wrong on it today.

    Attributes:
        folder: tests/data/<corpus>, one sub-folder per incident with an expected.json.
        name: the corpus's name in test ids ("blind5/<incident>") and in the accuracy line.
        notes: what the corpus is and how it was written.
        builder: the script in the folder that writes every incident folder.
        brief: what the corpus covers.
        known_misses: (incident, test name after "::") -> why the engine misses it today; each
            such case is a strict xfail and the accuracy summary's misses must be exactly these.
        evidence_misses: incident -> why its named verdicts cite another client's entries today;
            the incident's evidence check is a strict xfail.
        report_names: the report files an incident may hold, passed to triage when present.
    """

    folder: Path
    name: str
    notes: str
    builder: str
    brief: Brief
    known_misses: Mapping[tuple[str, str], str] = field(default_factory=dict, hash=False)
    evidence_misses: Mapping[str, str] = field(default_factory=dict, hash=False)
    report_names: tuple[str, ...] = DEFAULT_REPORT_NAMES

    @classmethod
    def load(cls, folder: Path) -> Corpus:
        """The corpus described by folder/corpus.toml."""
        where = str(folder / CORPUS_FILE)
        meta = tomllib.loads((folder / CORPUS_FILE).read_text())
        _only_keys(meta, set(cls.__dataclass_fields__) - {"folder"}, where)
        known: dict[tuple[str, str], str] = {}
        for miss in meta.get("known_misses", []):
            _only_keys(miss, {"incident", "test", "reason"}, f"{where} [[known_misses]]")
            known[(miss["incident"], miss["test"])] = miss["reason"]
        evidence: dict[str, str] = {}
        for miss in meta.get("evidence_misses", []):
            _only_keys(miss, {"incident", "reason"}, f"{where} [[evidence_misses]]")
            evidence[miss["incident"]] = miss["reason"]
        return cls(
            folder=folder,
            name=meta["name"],
            notes=meta["notes"],
            builder=meta["builder"],
            brief=Brief.from_toml(meta["brief"], f"{where} [brief]"),
            known_misses=known,
            evidence_misses=evidence,
            report_names=tuple(meta.get("report_names", DEFAULT_REPORT_NAMES)),
        )

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

    def param(self) -> Any:
        """The corpus as one test case, id "<corpus>"."""
        return pytest.param(self, id=self.name)

    def incidents(self) -> list[Any]:
        """(corpus, incident) per incident, id "<corpus>/<incident>"."""
        return [pytest.param(self, name, id=f"{self.name}/{name}") for name in self.names]

    def evidence_cases(self) -> list[Any]:
        """(corpus, incident) per incident; incidents in evidence_misses are strict xfails."""
        return [
            pytest.param(
                self,
                name,
                id=f"{self.name}/{name}",
                marks=_strict_xfail(self.evidence_misses.get(name)),
            )
            for name in self.names
        ]

    def cases(self) -> list[Any]:
        """(corpus, incident, test id, label) per failure, id "<corpus>/<incident>::<test>".

        Known misses are strict xfails with their reasons.
        """
        return [
            pytest.param(
                self,
                name,
                test_id,
                label,
                id=f"{self.name}/{name}::{_short(test_id)}",
                marks=_strict_xfail(self.known_misses.get((name, _short(test_id)))),
            )
            for name in self.names
            for test_id, label in self.expected(name)["failures"].items()
        ]

    def assert_covers_its_brief(self) -> None:
        """The corpus still holds the incidents, labels and export shapes it was written to cover."""
        brief = self.brief
        assert len(self.names) >= brief.min_incidents
        labels = self.labels()
        if brief.every_label:
            assert labels == set(LABELS)
        assert brief.labels <= labels, f"no failure's truth is {sorted(brief.labels - labels)}"
        files = [p for name in self.names for p in (self.folder / name / "logs").rglob("*")]
        files = [p for p in files if p.is_file()]
        if brief.gzip_export:
            assert any(p.suffix == ".gz" for p in files)
        if brief.sink_tree:
            assert any("run.googleapis.com" in p.parts for p in files)
        assert len({p.suffix for p in files}) >= brief.min_log_suffixes

    def assert_one_verdict_per_failure(self, name: str) -> None:
        """Triage answers exactly the failed tests of the incident's reports, no more, no fewer."""
        got = [v.test_id for v in self.result(name).verdicts]
        assert sorted(got) == sorted(self.expected(name)["failures"])

    def assert_root_cause(self, name: str, test_id: str, label: str) -> None:
        """The failure's root cause is the label; an unknown verdict says what is missing."""
        verdict = self.verdict(name, test_id)
        assert verdict.root_cause == label, verdict.reason or verdict.explanation
        if label == UNKNOWN:
            assert verdict.reason, "unknown must say what is missing"

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

    def assert_builder_reproduces(self, tmp_path: Path) -> None:
        """Running the corpus's builder into tmp_path gives byte-identical incident folders."""
        spec = importlib.util.spec_from_file_location(
            Path(self.builder).stem, self.folder / self.builder
        )
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
                f"{self.name} accuracy: {hits}/{len(table)} = {hits / len(table):.1%} over "
                f"{len(self.names)} incidents; confident mistakes (wrong non-unknown): {confident}; "
                f"truth by label: {dict(sorted(truth.items()))}"
            )
        assert misses == set(self.known_misses)


def corpora(data: Path = DATA) -> list[Corpus]:
    """Every corpus under data (a folder with a corpus.toml), by folder name; names are unique."""
    found = [Corpus.load(p.parent) for p in sorted(data.glob(f"*/{CORPUS_FILE}"))]
    names = Counter(c.name for c in found)
    if twice := sorted(n for n, k in names.items() if k > 1):
        raise ValueError(f"corpus names used twice under {data}: {twice}")
    return found
