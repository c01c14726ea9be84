"""Write a comparison of runs into a folder: text, JSON, markdown and its plots, each atomically."""

from __future__ import annotations

from pathlib import Path

from forensics.atomic import atomic_write
from forensics.exceptions import InputError, UsageError
from forensics.history.model import Comparison
from forensics.history.render import render_json, render_markdown, render_text

#: Plot functions of ``forensics.plot`` drawing a comparison; each is saved as ``<name>.png``.
PLOTS = ("run_grid", "causes_per_run", "pass_rate")


def write_history_plots(comparison: Comparison, out: Path) -> dict[str, Path]:
    """Draw the history plots into ``out`` as PNG; returns name -> path."""
    from forensics import plot

    written = {}
    for name in PLOTS:
        fig = getattr(plot, name)(comparison)
        written[name] = plot.save(fig, out / f"{name}.png", dpi=120)
    return written


def write_history_reports(comparison: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """Write history.txt, history.json, history.md and the plots it embeds into ``out_dir``.

    Raises:
        UsageError: ``out_dir`` is an existing file.
        InputError: a file could not be written (its previous version is kept).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = {"text": out / "history.txt", "json": out / "history.json"}
        atomic_write(written["text"], render_text(comparison))
        atomic_write(written["json"], render_json(comparison))
        images = write_history_plots(comparison, out)
        md = render_markdown(comparison, plots={k: p.name for k, p in images.items()})
        written["markdown"] = out / "history.md"
        atomic_write(written["markdown"], md)
    except OSError as err:
        raise InputError(
            f"cannot write the history report: {err.strerror or err}", path=out
        ) from err
    return {**written, **images}
