"""The plugin object of one session: record every phase, explain the failures, print the section.

Nothing here may change what pytest decided. Every hook keeps its work inside a ``try``: the
first thing that goes wrong (no credentials, a refused pull, a bug) becomes one warning line in
the ``forensics`` section, recording stops, and pytest ends the session as it would have.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from forensics.exceptions import ForensicsError
from forensics.plugin.explain import Explained, explain_run
from forensics.plugin.record import RunRecorder
from forensics.plugin.section import section_lines
from forensics.plugin.settings import Settings
from forensics.redact import redact

NOT_TRIAGED = "the failures were not triaged; pytest's outcome is unchanged"


class ForensicsPlugin:
    """Registered on the controller when ``--forensics`` is given."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.warning: str | None = None
        self.explained: Explained | None = None
        self.settings: Settings | None = None
        self.recorder: RunRecorder | None = None
        try:
            self.settings = Settings.from_config(config)
            self.recorder = RunRecorder(config, os.environ.get("GITHUB_WORKSPACE"))
        except Exception as err:
            self._fail(err)

    def _fail(self, err: BaseException) -> None:
        """Keep the first failure as the one warning line, and stop doing anything else."""
        if self.warning is None:
            self.warning = warning_line(err)
        self.recorder = None

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one phase of one test (on the controller, also the xdist workers' phases)."""
        if self.recorder is not None:
            try:
                self.recorder.add(report)
            except Exception as err:
                self._fail(err)

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Record a collection that failed (it is a failure of the run too)."""
        self.pytest_runtest_logreport(report)  # type: ignore[arg-type]

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        """Explain the failures, before the terminal summary is written."""
        if self.recorder is None or self.settings is None:
            return
        if not self.recorder.failed and self.settings.history is None:
            return  # nothing to explain, nothing to record
        try:
            self.recorder.finish(exitstatus)
            self.explained = explain_run(self.settings, self.recorder)
        except (Exception, KeyboardInterrupt) as err:  # Ctrl-C while waiting skips forensics only
            self._fail(err)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The ``forensics`` section (and the GitHub annotations on GitHub Actions)."""
        if self.warning is None and self.explained is None:
            return
        terminalreporter.write_sep("=", "forensics")
        if self.warning is not None:
            terminalreporter.write_line(self.warning, yellow=True)
            return
        assert self.explained is not None
        try:
            for line in section_lines(self.explained):
                terminalreporter.write_line(line)
            for line in self.explained.annotations:
                terminalreporter.write_line(line)
        except Exception as err:
            terminalreporter.write_line(warning_line(err), yellow=True)


def warning_line(err: BaseException) -> str:
    """One redacted line saying what went wrong, and that pytest's result stands."""
    if isinstance(err, KeyboardInterrupt):
        what = "interrupted"
    elif isinstance(err, ForensicsError):
        what = str(err)
    else:
        what = f"internal error ({type(err).__name__}: {err})"
    one = " ".join((redact(what) or "").split())
    return f"forensics: warning: {one}; {NOT_TRIAGED}"
