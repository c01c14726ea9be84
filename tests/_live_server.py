"""The local Cloud Logging API server the live tests pull from: one per module, reset per test.

A test module defines a module-scoped ``server`` fixture (a ``LoggingEmulator`` on its own
entries) and imports ``emulator`` from here, which hands each test that server with no faults
planned and an empty request log.
"""

from __future__ import annotations

import pytest

from forensics.emulator import FaultPlan, LoggingEmulator


@pytest.fixture
def emulator(server: LoggingEmulator) -> LoggingEmulator:
    """The module's server with no faults planned and no requests seen yet."""
    server.faults.replace(FaultPlan())
    server.requests_seen.clear()
    return server
