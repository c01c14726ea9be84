"""What the user asked the plugin for: command line first, then ``[tool.pytest.ini_options]``, then env.

Each setting is read from the first of these that is given::

    --forensics-project  forensics_project  $GOOGLE_CLOUD_PROJECT
    --forensics-logs     forensics_logs     (ini paths are relative to the ini file)
    --forensics-out      forensics_out
    --forensics-history  forensics_history
    --forensics-service  forensics_service
    --forensics-wait     forensics_wait     5 seconds
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forensics.exceptions import UsageError
from pytest_forensics import DEFAULT_WAIT_S

PROJECT_ENV = "GOOGLE_CLOUD_PROJECT"
#: A wait longer than this is a typo (ingestion delay is seconds to a few minutes).
MAX_WAIT_S = 600.0


@dataclass(frozen=True)
class Settings:
    """The plugin's settings for one session.

    Attributes:
        project: project to pull the run's window from (None when ``logs`` are given or none is set).
        logs: exports to read instead of pulling.
        out: folder for the reports (None: nothing is kept on disk).
        history: history folder that records every run, passing ones too (None: not recorded).
        services: keep only these services' entries in the pull.
        wait_s: the longest wait for entries that have not arrived yet.
        github: write the GitHub Actions job summary and annotations (``GITHUB_ACTIONS=true``).
        rootpath: pytest's rootdir; test files are relative to it.
    """

    project: str | None = None
    logs: tuple[Path, ...] = ()
    out: Path | None = None
    history: Path | None = None
    services: tuple[str, ...] = ()
    wait_s: float = DEFAULT_WAIT_S
    github: bool = False
    rootpath: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_config(cls, config: Any, environ: dict[str, str] | None = None) -> Settings:
        """Read the options of a ``pytest.Config``.

        Raises:
            UsageError: ``forensics_wait`` is not a number of seconds from 0 to 600.
        """
        env = os.environ if environ is None else environ
        opt, ini = config.getoption, config.getini
        logs = [Path(p) for p in opt("forensics_logs") or ()] or list(ini("forensics_logs"))
        out = opt("forensics_out") or next(iter(ini("forensics_out")), None)
        wait = opt("forensics_wait")
        history = opt("forensics_history") or next(iter(ini("forensics_history")), None)
        return cls(
            project=opt("forensics_project")
            or ini("forensics_project")
            or env.get(PROJECT_ENV)
            or None,
            logs=tuple(logs),
            out=Path(out) if out else None,
            history=Path(history) if history else None,
            services=tuple(opt("forensics_service") or ini("forensics_service") or ()),
            wait_s=_seconds(wait if wait is not None else ini("forensics_wait")),
            github=env.get("GITHUB_ACTIONS") == "true",
            rootpath=Path(config.rootpath),
        )


def _seconds(value: object) -> float:
    if value in (None, ""):
        return DEFAULT_WAIT_S
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_WAIT_S:  # also refuses nan
        raise UsageError(
            f"--forensics-wait {value!r} is not a number of seconds from 0 to {MAX_WAIT_S:.0f}"
        )
    return seconds
