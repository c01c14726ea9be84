"""A local Cloud Logging v2 API serving an export, so the live path runs without a Google account.

    python -m forensics.emulator --logs EXPORT [--port N] [--grpc-port N] [--faults PLAN]

prints the URL to pass as ``--endpoint`` (or ``LOGGING_EMULATOR_HOST``). In Python::

    from forensics.emulator import LoggingEmulator, load_export
    with LoggingEmulator(load_export("logs.json")) as server:
        ...  # point google-cloud-logging at server.url
"""

from __future__ import annotations

from forensics.emulator.faults import Fault, FaultPlan
from forensics.emulator.filter import FilterSyntaxError, compile_filter
from forensics.emulator.server import LoggingEmulator
from forensics.emulator.store import EntryStore, load_export

__all__ = ["EntryStore", "Fault", "FaultPlan", "FilterSyntaxError", "LoggingEmulator", "compile_filter",
           "load_export"]
