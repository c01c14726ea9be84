"""End to end: secrets written into the logs of a real fixture never reach any report the CLI writes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from forensics.redact import marker

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "fixtures" / "seed"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlMmUtcnVubmVyIn0.Zm9yZW5zaWNzLXRlc3Qtc2lnbmF0dXJl"
KEY = "e2e-staging-key-7f3a9c"
REPLACE = "E2E bypass header X-E2E-Bypass-Key missing"
LEAKY = f"E2E bypass header X-E2E-Bypass-Key missing (x-e2e-bypass-key={KEY}, Authorization: Bearer {JWT})"


@pytest.fixture
def leaky_seed(tmp_path: Path) -> Path:
    """The seed fixture with a JWT and a bypass key written into every app rejection line."""
    if not (SEED / "logs").is_dir():
        pytest.skip("fixtures/seed is absent")
    dst = tmp_path / "seed"
    shutil.copytree(SEED, dst)
    for f in (dst / "logs").iterdir():
        f.write_text(f.read_text().replace(REPLACE, LEAKY))
    return dst


def _triage(seed: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "forensics",
            "triage",
            "--tests",
            str(seed / "junit.xml"),
            "--logs",
            str(seed / "logs"),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )


def test_cli_reports_never_show_logged_secrets(leaky_seed: Path, tmp_path: Path) -> None:
    """stdout in every format and every file under --out hold the key's marker, never the key or the JWT."""
    outputs = []
    for fmt in ("text", "json", "markdown"):
        run = _triage(leaky_seed, "--format", fmt, "--out", str(tmp_path / fmt))
        assert run.returncode == 0, run.stderr
        outputs += [run.stdout, run.stderr]
        outputs += [
            p.read_text()
            for p in (tmp_path / fmt).iterdir()
            if p.suffix in (".txt", ".json", ".md")
        ]
    for out in outputs:
        assert JWT not in out and KEY not in out
    # the secrets were on an output path (so the check above is not vacuous), shown as markers
    key_marker = f"x-e2e-bypass-key={marker(KEY)}"
    assert any(key_marker in out for out in outputs)
    assert any("Authorization: Bearer [REDACTED" in out for out in outputs)
