"""Shared test setup: offline by default, clean environment, paths to shared material."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
REAL_LOGS = ROOT.parent / "shared" / "real-logs"

# google-auth reads this once, at import, and only the exact value "true": set it before any test
# imports google.auth, so a test that reaches google.auth.default never probes the metadata server.
os.environ["NO_GCE_CHECK"] = "true"

_ENV_TO_CLEAN = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
    "LOGGING_EMULATOR_HOST",
    "FORENSICS_HISTORY",  # would make every CLI triage record into the user's run history
)


class NetworkBlocked(RuntimeError):
    """A test tried to reach an address outside loopback."""


def _is_local(address: object) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like never leave the machine
    host = str(address[0])
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost would need DNS and the network


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Refuse every connection outside 127.0.0.0/8 and ::1, and clear Google environment variables."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def guarded_connect_ex(self: socket.socket, address: object) -> int:
        if not _is_local(address):
            raise NetworkBlocked(f"test tried to connect to {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    for name in _ENV_TO_CLEAN:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORENSICS_CACHE_DIR", str(tmp_path_factory.mktemp("forensics-cache")))


@pytest.fixture
def real_logs() -> Path:
    """The shared real-logs folder; tests using it skip when it is absent."""
    if not REAL_LOGS.is_dir():
        pytest.skip("../shared/real-logs is not beside the checkout")
    return REAL_LOGS
