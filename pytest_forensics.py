"""pytest plugin: explain each failed test from the run's Cloud Logging entries.

Installed with forensics (entry point ``pytest11``) and inert unless asked::

    pytest --forensics --forensics-project my-project        # pull the run's window, then triage
    pytest --forensics --forensics-logs logs.json            # or read an export taken separately

It records each test's exact start and stop (every phase, on the controller when pytest-xdist
runs workers), and at the end of a session with failures adds a ``forensics`` section to the
terminal summary: each failed test's cause, confidence and deciding log line. It never changes
an outcome or the exit status; anything that goes wrong inside it is one warning line.

This module only declares options: ``import forensics`` (polars, the rules) happens when the
plugin is turned on, so an installed but unused plugin costs a session nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

#: Name under which the running plugin registers itself (``config.pluginmanager.get_plugin``).
RUN_PLUGIN = "forensics-run"
DEFAULT_WAIT_S = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--forensics*`` options, and the same settings as ``forensics*`` ini keys."""
    group = parser.getgroup("forensics", "forensics: explain failed tests from Cloud Logging")
    group.addoption(
        "--forensics",
        action="store_true",
        default=None,
        help="explain each failed test from the run's Cloud Logging entries (ini: forensics = true)",
    )
    group.addoption(
        "--forensics-project",
        metavar="ID",
        help="project whose logs to pull for the run's window "
        "(ini: forensics_project; default $GOOGLE_CLOUD_PROJECT)",
    )
    group.addoption(
        "--forensics-logs",
        action="append",
        metavar="PATH",
        help="read this log export instead of pulling (repeatable; ini: forensics_logs)",
    )
    group.addoption(
        "--forensics-out",
        metavar="DIR",
        help="write report.jsonl, triage.txt/json, postmortem.md, summary.md here (ini: forensics_out)",
    )
    group.addoption(
        "--forensics-history",
        metavar="DIR",
        help="record the run (every test, every verdict) in this history folder, passing runs "
        "too (ini: forensics_history); compare runs with `python -m forensics history`",
    )
    group.addoption(
        "--forensics-service",
        action="append",
        metavar="NAME",
        help="pull only these services' entries (repeatable; ini: forensics_service)",
    )
    group.addoption(
        "--forensics-wait",
        type=float,
        metavar="SECONDS",
        help=f"wait at most this long for late log entries (ingestion delay; ini: forensics_wait; "
        f"default {DEFAULT_WAIT_S:g})",
    )
    parser.addini(
        "forensics",
        "explain failed tests from Cloud Logging (as --forensics)",
        type="bool",
        default=False,
    )
    parser.addini(
        "forensics_project", "Google Cloud project whose logs to pull (as --forensics-project)"
    )
    parser.addini(
        "forensics_logs",
        "log exports to read instead of pulling (as --forensics-logs)",
        type="paths",
    )
    parser.addini(
        "forensics_out", "folder for the forensics reports (as --forensics-out)", type="paths"
    )
    parser.addini(
        "forensics_history",
        "history folder that records every run (as --forensics-history)",
        type="paths",
    )
    parser.addini(
        "forensics_service",
        "services whose entries to pull, one a line (as --forensics-service)",
        type="linelist",
    )
    parser.addini(
        "forensics_wait", "seconds to wait at most for late log entries (as --forensics-wait)"
    )


def enabled(config: pytest.Config) -> bool:
    """Whether the user asked for forensics (``--forensics`` or ``forensics = true``)."""
    return bool(config.getoption("forensics") or config.getini("forensics"))


def pytest_configure(config: pytest.Config) -> None:
    """Start recording on the controller when asked; xdist workers only run tests."""
    if not enabled(config) or hasattr(config, "workerinput"):
        return
    try:
        from forensics.plugin import ForensicsPlugin

        plugin: Any = ForensicsPlugin(config)
    except Exception as err:  # a broken install must not break the session
        plugin = _Unavailable(f"{type(err).__name__}: {err}")
    config.pluginmanager.register(plugin, RUN_PLUGIN)


class _Unavailable:
    """Stands in when forensics itself cannot load: one warning line, nothing else."""

    def __init__(self, why: str) -> None:
        self.why = why

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "forensics")
        terminalreporter.write_line(
            f"forensics: warning: could not load ({self.why}); the failures were not triaged",
            yellow=True,
        )
