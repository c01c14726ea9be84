"""End to end: secrets written into the logs of a real fixture never reach any report the CLI writes."""

from __future__ import annotations

import json
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


# tokens the seed's deciding app lines carry after neutral names, bare, and where the summary cuts
GITHUB = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
GOOGLE_KEY = "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"
REFRESH = "1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCESS = "ya29.a0AfH6SMBx3kE9vQ7pLmN2oR8sT1uW4yZ6cD0fG5hJ"
CLIENT_SECRET = "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"
DECIDING = (
    "E2E bypass header X-E2E-Bypass-Key missing on automated request WS /ws "
    "(ua='Python/3.11 websockets/17.4') - rejecting"
)
HEAD, TAIL = DECIDING[:42], DECIDING[42:]  # "... X-E2E-Bypass-Key missing", " on automated ..."
#: the summary keeps a message's first 159 characters: these put the cut 8, 20 and 35 into a token
CUT_AT = {GITHUB: 8, GOOGLE_KEY: 20, REFRESH: 35}


def _cut_line(token: str, into: int) -> str:
    filler = "~" * (159 - len(DECIDING) - 2 - into)
    return f"{DECIDING} {filler} {token}"


SHAPED_LINES = [
    f"{HEAD} (ctx={GITHUB}){TAIL}",
    f"{HEAD} (note: {GOOGLE_KEY}){TAIL}",
    f"{HEAD} (ctx={REFRESH}){TAIL}",
    f"{HEAD} (ctx={AWS_SECRET}){TAIL}",
    f"{HEAD} with {ACCESS} or {CLIENT_SECRET}{TAIL}",
    *(_cut_line(token, into) for token, into in CUT_AT.items()),
]


@pytest.fixture
def shaped_seed(tmp_path: Path) -> Path:
    """The seed fixture with one provider token in each of its deciding app lines."""
    if not (SEED / "logs").is_dir():
        pytest.skip("fixtures/seed is absent")
    dst = tmp_path / "seed"
    shutil.copytree(SEED, dst)
    export = dst / "logs" / "gcloud-logging-read.json"
    parts = export.read_text().split(DECIDING)
    assert len(parts) > len(SHAPED_LINES), "the seed has fewer deciding lines than this test fills"
    lines = [*SHAPED_LINES, *[DECIDING] * (len(parts) - 1 - len(SHAPED_LINES))]
    export.write_text("".join(p + line for p, line in zip(parts, lines, strict=False)) + parts[-1])
    return dst


def test_cli_reports_never_show_any_part_of_a_shaped_token(
    shaped_seed: Path, tmp_path: Path
) -> None:
    """No 12-character piece of a token (after a neutral name, bare, or cut by a summary) reaches
    text, JSON or markdown on stdout, or triage.txt, triage.json or postmortem.md under --out."""
    outputs = []
    for fmt in ("text", "json", "markdown"):
        run = _triage(shaped_seed, "--format", fmt, "--out", str(tmp_path / fmt))
        assert run.returncode == 0, run.stderr
        outputs += [run.stdout, run.stderr]
        outputs += [
            p.read_text()
            for p in (tmp_path / fmt).iterdir()
            if p.suffix in (".txt", ".json", ".md")
        ]
    shown = "\n".join(outputs)
    # what was hidden is counted by kind in the run facts and the postmortem's appendix
    redacted = json.loads((tmp_path / "json" / "triage.json").read_text())["run"]["redacted"]
    assert {"github token", "google api key", "google refresh token", "high-entropy"} <= set(
        redacted
    )
    appendix = (
        (tmp_path / "markdown" / "postmortem.md").read_text().split("### Secrets redacted")[1]
    )
    assert f"{redacted['github token']} github token" in appendix
    for token in (GITHUB, GOOGLE_KEY, REFRESH, AWS_SECRET, ACCESS, CLIENT_SECRET):
        leaked = [token[i : i + 12] for i in range(len(token) - 11) if token[i : i + 12] in shown]
        assert not leaked, f"{leaked[0]!r} of {token}"
    # the lines reached the reports (the check above is not vacuous), their tokens as markers
    for kind in (
        "github token",
        "google api key",
        "google refresh token",
        "high-entropy",
        "google access token",
    ):
        assert f"[REDACTED {kind} sha256:" in shown, kind
    assert "~" * 20 in shown  # a line cut inside its token was shown, up to the cut
