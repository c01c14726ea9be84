"""Each test's exact start and stop, every phase, as pytest-reportlog records them.

The recorder keeps what ``pytest_report_to_serializable`` makes of each ``TestReport`` (setup,
call, teardown: ``start``, ``stop``, ``duration``, outcome, failure text, captured output) and
writes them as a reportlog JSONL file that ``forensics.read_tests`` reads with exact windows
(uncertainty 0). It runs on the controller: with pytest-xdist the workers' reports, with their own
``start``/``stop``, arrive there through ``pytest_runtest_logreport``.
For each failed test it also keeps where the failure is in the test file, for CI annotations.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from forensics.atomic import atomic_file
from forensics.report.github import Place


class RunRecorder:
    """The reportlog lines of one session, and the place of each failed test."""

    def __init__(self, config: pytest.Config, workspace: str | None = None) -> None:
        self._config = config
        self._serialize = config.hook.pytest_report_to_serializable
        self._invocation = Path(config.invocation_params.dir)
        self._rootpath = Path(config.rootpath)
        self._workspace = Path(workspace) if workspace else None
        self.records: list[dict[str, Any]] = [
            {"pytest_version": pytest.__version__, "$report_type": "SessionStart"}
        ]
        #: node id -> where its failure is, in run order of the first failing phase.
        self.failed: dict[str, Place] = {}

    def add(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        """Keep one report: every test phase, and collection reports that failed."""
        if isinstance(report, pytest.CollectReport) and not report.failed:
            return
        self.records.append(self._serialize(config=self._config, report=report))
        if report.failed and report.nodeid not in self.failed:
            self.failed[report.nodeid] = self._place(report)

    def finish(self, exitstatus: int) -> None:
        """Close the log as reportlog does."""
        self.records.append({"exitstatus": int(exitstatus), "$report_type": "SessionFinish"})

    def write(self, path: Path) -> Path:
        """Write the reportlog JSONL to ``path`` (atomically; its folder is created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as fh:
            for record in self.records:
                fh.write(json.dumps(record, default=str))
                fh.write("\n")
        return path

    def _place(self, report: pytest.TestReport | pytest.CollectReport) -> Place:
        """The test file (relative to the CI workspace when set, else to rootdir) and failing line."""
        location = getattr(report, "location", None)
        rel = location[0] if location else report.nodeid.split("::", 1)[0]
        line = location[1] + 1 if location and location[1] is not None else None
        test_file = Path(
            os.path.normpath(self._rootpath / rel)
        )  # no resolve(): no syscalls per failure
        crash = _line_in(report.longrepr, test_file, self._invocation)
        return Place(self._shown_path(test_file, rel), crash or line)

    def _shown_path(self, test_file: Path, rel: str) -> str:
        if self._workspace is not None:
            try:
                return test_file.relative_to(os.path.normpath(self._workspace)).as_posix()
            except ValueError:
                pass
        return rel.replace(os.sep, "/")


def _line_in(longrepr: Any, test_file: Path, invocation: Path) -> int | None:
    """The last traceback line inside ``test_file`` (where the test itself failed), if any."""
    entries = getattr(getattr(longrepr, "reprtraceback", None), "reprentries", None) or []
    for entry in reversed(entries):
        loc = getattr(entry, "reprfileloc", None)
        if loc is None or not loc.path:
            continue
        if Path(os.path.normpath(invocation / loc.path)) == test_file:  # an absolute loc.path stays
            return int(loc.lineno)
    return None
