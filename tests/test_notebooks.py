"""The notebooks: each runs top to bottom on the committed fixtures, and git holds them without outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.conftest import FIXTURES, ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
SEED = FIXTURES / "seed"
CELL_TIMEOUT_S = 300


def test_there_are_four_notebooks() -> None:
    """The walkthrough, the timeline explorer, the unexplained-failures and the iterations notebook are all there."""
    assert [p.name for p in NOTEBOOKS] == [
        "01_triage_walkthrough.ipynb",
        "02_timeline_explorer.ipynb",
        "03_unexplained_failures.ipynb",
        "04_iterations.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    """A notebook in git carries no outputs or execution counts (no stale results, no leaked log lines)."""
    committed = subprocess.run(
        ["git", "show", f"HEAD:notebooks/{path.name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    text = committed.stdout if committed.returncode == 0 else path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {cell.get('id')} has outputs"
            assert cell.execution_count is None, (
                f"{path.name}: cell {cell.get('id')} has an execution count"
            )


def test_notebooks_match_their_builder() -> None:
    """The committed notebooks are exactly what notebooks/build_notebooks.py writes."""
    done = subprocess.run(
        [sys.executable, str(NOTEBOOK_DIR / "build_notebooks.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.realrun
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell executes without error on the seed fixture, offline, in a fresh python3 kernel."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if not (SEED / "junit.xml").exists():
        pytest.skip("fixtures/seed is absent")
    # The kernel is a child process: it finds this checkout first even when forensics is not installed.
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: {str(err)[-2000:]}")
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    images = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "image/png" in o.get("data", {})
    ]
    assert images or "unexplained" in path.name, f"{path.name} drew no figure"
