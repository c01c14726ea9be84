"""Write every report format into a folder, atomically.

``write_reports`` leaves ``triage.txt`` (plain text), ``triage.json`` (the contract),
``postmortem.md`` and, when ``forensics.plot`` can draw them, PNG plots beside the postmortem.
Each file is replaced in one step (``forensics.atomic``): a crash or a full disk leaves the
previous report whole, never half of a new one.
"""

from __future__ import annotations

import importlib
import io
import logging
import tempfile
from pathlib import Path
from typing import Any

from forensics.atomic import atomic_write
from forensics.exceptions import InputError, UsageError
from forensics.report.json import render_json
from forensics.report.markdown import render_markdown
from forensics.report.text import text_report
from forensics.result import TriageResult

log = logging.getLogger(__name__)

#: Functions of ``forensics.plot`` drawing a ``TriageResult``; each is saved as ``<name>.png``.
PLOTS = ("timeline", "causes", "requests_by_status")


def _png(drawn: Any) -> bytes | None:
    """PNG bytes from what a plot function returned: a matplotlib Figure, bytes, or None."""
    if drawn is None:
        return None
    if isinstance(drawn, (bytes, bytearray)):
        return bytes(drawn)
    if hasattr(drawn, "savefig"):
        buf = io.BytesIO()
        drawn.savefig(buf, format="png", dpi=120, bbox_inches="tight")
        try:  # free the figure: many triages in one notebook must not pile up figures
            import matplotlib.pyplot as plt

            plt.close(drawn)
        except Exception:  # pragma: no cover - closing is best effort
            pass
        return buf.getvalue()
    raise TypeError(f"returned {type(drawn).__name__}, not a figure or PNG bytes")


def write_plots(result: TriageResult, out_dir: Path) -> tuple[dict[str, Path], list[str]]:
    """Draw the plots ``forensics.plot`` offers into ``out_dir``.

    Returns:
        (name -> written PNG path, notes on plots that were not drawn and why). A missing
        plot module or a failing plot never stops the reports.
    """
    try:
        plot = importlib.import_module("forensics.plot")
    except Exception as err:  # absent, or its own imports (matplotlib) fail
        return {}, [
            f"plots were not drawn: forensics.plot is not available ({type(err).__name__}: {err})"
        ]
    written: dict[str, Path] = {}
    notes: list[str] = []
    for name in PLOTS:
        fn = getattr(plot, name, None)
        if not callable(fn):
            notes.append(f"plot {name!r} was not drawn: forensics.plot has no {name}()")
            continue
        try:
            data = _png(fn(result))
        except Exception as err:
            log.warning("plot %s failed: %s", name, err)
            notes.append(f"plot {name!r} was not drawn: {type(err).__name__}: {err}")
            continue
        if data is None:
            notes.append(f"plot {name!r} was not drawn: nothing to show")
            continue
        path = out_dir / f"{name}.png"
        try:
            atomic_write(path, data)
        except OSError as err:
            notes.append(f"plot {name!r} was not saved: {err.strerror or err}")
            continue
        written[name] = path
    return written, notes


def prepare_out_dir(out_dir: str | Path) -> Path:
    """The report folder, created and proven writable (the CLI calls this before any work).

    Raises:
        UsageError: ``out_dir`` is an existing file.
        InputError: the folder cannot be created or written to.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise InputError(
            f"cannot write the report folder: {err.strerror or err}", path=out
        ) from err
    return out


def write_reports(
    result: TriageResult, out_dir: str | Path, *, plots: bool = True
) -> dict[str, Path]:
    """Write triage.txt, triage.json, postmortem.md (and its plots) into ``out_dir``.

    Args:
        result: the triage to report; redaction follows ``result.redact``.
        out_dir: the folder, created if missing.
        plots: draw PNG plots with ``forensics.plot`` when it is available.

    Returns:
        Report name ("text", "json", "markdown", and each plot's name) -> written path.

    Raises:
        UsageError: ``out_dir`` is an existing file.
        InputError: a report could not be written (the previous version of it is kept).
    """
    out = prepare_out_dir(out_dir)
    written: dict[str, Path] = {}
    _write(written, "text", out / "triage.txt", text_report(result))
    _write(written, "json", out / "triage.json", render_json(result))
    # a run that passed gets no plots: there is no failure to picture
    images, notes = write_plots(result, out) if plots and result.verdicts else ({}, [])
    md = render_markdown(result, plots={k: Path(p.name) for k, p in images.items()}, notes=notes)
    _write(written, "markdown", out / "postmortem.md", md)
    written.update(images)
    return written


def _write(written: dict[str, Path], name: str, path: Path, data: str) -> None:
    """Write one report; a full disk or a missing permission becomes one line naming the file."""
    try:
        atomic_write(path, data)
    except OSError as err:
        raise InputError(f"cannot write the report: {err.strerror or err}", path=path) from err
    written[name] = path
