"""The pytest plugin's machinery (the entry point is the light ``pytest_forensics`` module).

- ``settings``: options from the command line, ``[tool.pytest.ini_options]`` and the environment.
- ``record``: every phase's report as pytest-reportlog writes it, so test times are exact.
- ``explain``: at the end of a session with failures, the logs (read or pulled, waiting for late
  entries), the triage, and the files and CI outputs asked for.
- ``section``: the ``forensics`` section of pytest's terminal summary.
- ``session``: the plugin object, which keeps every failure inside it to one warning line.
"""

from __future__ import annotations

from forensics.plugin.session import ForensicsPlugin

__all__ = ["ForensicsPlugin"]
