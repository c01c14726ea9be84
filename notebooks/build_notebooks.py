"""Write the notebooks of notebooks/ from the cell sources below, without outputs.

The notebooks are generated so their text stays reviewable in one Python file and they are
always committed clean (no outputs, no execution counts, stable cell ids).

    python notebooks/build_notebooks.py          # rewrite notebooks/*.ipynb
    python notebooks/build_notebooks.py --check  # exit 1 if a notebook differs from this file
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


class Md(str):
    """A markdown cell's source (every other source is a code cell)."""


SETUP = """\
%matplotlib inline
from pathlib import Path

import polars as pl

import forensics
from forensics import explore, plot

# JupyterLab starts in notebooks/, CI may start at the repo root: find the seed fixture either way.
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "fixtures" / "seed").is_dir())
SEED = ROOT / "fixtures" / "seed"
pl.Config.set_tbl_rows(25)
pl.Config.set_fmt_str_lengths(120)
pl.Config.set_tbl_width_chars(180)
print(f"forensics {forensics.__version__}, seed fixture: {SEED}")"""

TRIAGE = """\
tests = forensics.read_tests(SEED / "junit.xml")
logs = forensics.read_logs(SEED / "logs")
result = forensics.triage(tests, logs)"""

WALKTHROUGH = [
    Md(
        "# 1 · Triage walkthrough: from files to verdicts\n\n"
        "The seed incident: an end-to-end run against staging where six WebSocket tests failed with "
        "`InvalidStatus: server rejected WebSocket connection: HTTP 403`. The client's error is the same "
        "for every cause, so only the service's logs can tell them apart.\n\n"
        "This notebook loads the test report and the Cloud Logging export, runs the triage, and then "
        "drills from one failed test to the log entries that prove its cause and the request behind them."
    ),
    SETUP,
    Md(
        "## Load the test report\n\n"
        "`read_tests` detects the format (JUnit XML, pytest-reportlog, pytest-json-report) from the content. "
        "Every test becomes one row of the test frame; failures keep their message."
    ),
    'tests = forensics.read_tests(SEED / "junit.xml")\n'
    'print(f"{tests.frame.height} tests from {tests.files}, skipped input: {tests.skipped}")\n'
    'tests.frame.group_by("outcome").len().sort("len", descending=True)',
    'failed = tests.frame.filter(pl.col("outcome").cast(pl.String).is_in(["failed", "error"]))\n'
    'failed.select("test_id", "start", "duration_s", "window_uncertainty_s", pl.col("message").str.slice(0, 90))',
    Md(
        "## Load the log export\n\n"
        "`read_logs` reads files or whole folders (JSON arrays, JSONL, console copies, sink trees) into one "
        "frame with one row per entry. Lines it cannot use are counted by reason, never silently dropped."
    ),
    'logs = forensics.read_logs(SEED / "logs")\n'
    'print(f"{logs.frame.height} entries, {logs.duplicates} duplicates removed")\n'
    "for s in logs.skipped:\n"
    '    print(f"skipped {s.count} from {s.source}: {s.reason}")\n'
    'logs.frame.group_by("service", "log_id").len().sort("len", descending=True)',
    Md(
        "## Triage\n\n"
        "Correlation estimates the runner's clock offset, ties each failed test to the entries of its own "
        "requests, and the rules decide the cause. The result shows as a table."
    ),
    "result = forensics.triage(tests, logs)\nresult",
    "clock = result.clock  # Google minus runner, as every report states it\n"
    'print(f"runner clock offset: {clock.offset_text(2)}")\n'
    'print("found by:", clock.method)\n'
    "result.summary",
    "plot.causes(result)",
    "plot.timeline(result)",
    Md(
        "## Drill down: one failed test\n\n"
        "Take the first failure a rule decided. Its verdict names the cause, the rule, and the entries "
        "that prove it."
    ),
    'decided = [v for v in result.verdicts if v.root_cause != "unknown"]\n'
    "verdict = decided[0] if decided else result.verdicts[0]\n"
    'print("test:       ", verdict.test_id)\n'
    'print("root cause: ", verdict.root_cause, f"({verdict.detail})" if verdict.detail else "")\n'
    'print("confidence: ", verdict.confidence, "  rule:", verdict.rule)\n'
    'print("why:        ", result.scrub(verdict.explanation))\n'
    "for e in verdict.evidence:\n"
    '    print("  evidence:", e.timestamp, e.log_id, "-", result.scrub(e.summary))',
    Md("The evidence entries themselves, as rows of the log frame (secrets redacted):"),
    "evidence = explore.evidence_rows(result, verdict.test_id)\nexplore.readable(result, evidence)",
    Md(
        "### The request behind the evidence\n\n"
        "An app line says *why*; the request-log entry says *what* was asked and answered. "
        "`request_behind` follows the trace id (or, for app logs without one, the same service at the same moment)."
    ),
    "if evidence.height:\n"
    '    request = explore.request_behind(result, evidence.item(0, "insert_id"))\n'
    "else:\n"
    "    request = explore.linked_rows(result, verdict.test_id)\n"
    "explore.readable(result, request)",
    Md(
        "## Every failure, for pandas users\n\n"
        "`to_pandas()` gives the verdict table as a pandas DataFrame; failures left `unknown` say what is missing."
    ),
    "result.to_pandas()",
    'for v in result.verdicts:\n    if v.root_cause == "unknown":\n        print(v.test_id, "->", v.reason)',
]

TIMELINE = [
    Md(
        "# 2 · Timeline explorer\n\n"
        "Filter the log frame by service, status, layer and time; plot it; and look at everything that "
        "happened around any one failure. Change the values in the parameter cells and re-run."
    ),
    SETUP,
    TRIAGE + "\n"
    'print(f"{len(result.verdicts)} failed tests, {result.logs.height} log entries")\n'
    "explore.failure_windows(result)",
    Md(
        "## Filter the logs\n\n"
        "`filter_logs` combines filters with AND: `service` (one or several), `status` (codes like `403` "
        'or classes like `"4xx"`), `layer` (`"edge"`: Google front-end request logs, `"app"`: the '
        "service's own lines), `start`/`end` (UTC) and `text` (a case-insensitive regex on the message)."
    ),
    'services = explore.annotate(result.logs).group_by("service", "layer").len().sort("len", descending=True)\n'
    "services",
    "# Parameters: edit and re-run.\n"
    'STATUS = "4xx"\n'
    'windows = explore.failure_windows(result).drop_nulls("lo")\n'
    'START = windows.get_column("lo").min()\n'
    'END = windows.get_column("hi").max()\n'
    "rejected = explore.filter_logs(result.logs, status=STATUS, start=START, end=END)\n"
    'print(f"{rejected.height} requests with status {STATUS} between {START} and {END}")\n'
    "explore.readable(result, rejected)",
    'app_lines = explore.filter_logs(result.logs, layer="app", start=START, end=END)\n'
    'explore.readable(result, app_lines).group_by("service", "severity").len().sort("len", descending=True)',
    Md(
        "## Plot\n\n"
        "Requests by status for the services the failures touched (failed-test windows shaded), then "
        "every failure on the log timeline."
    ),
    "plot.requests_by_status(result)",
    "plot.timeline(result)",
    Md(
        "## The neighbourhood of one failure\n\n"
        "Everything logged from a few seconds before a failed test's window to a few seconds after it, "
        "whatever the service, with the entries its verdict cites flagged in `evidence`."
    ),
    "# Parameters: pick a failure by position and a margin in seconds.\n"
    "FAILURE = 0\n"
    "SECONDS = 3.0\n"
    "verdict = result.verdicts[FAILURE]\n"
    'print(verdict.test_id, "->", verdict.root_cause)\n'
    "near = explore.neighbourhood(result, verdict.test_id, seconds=SECONDS)\n"
    "explore.readable(result, near)",
    'near.group_by("service", "layer", "status_class").len().sort("len", descending=True)',
    Md("Zoom the timeline onto that failure: draw into an Axes of our own and narrow its x range."),
    "from matplotlib.figure import Figure\n"
    "import matplotlib.dates as mdates\n\n"
    'fig = Figure(figsize=(11, 4.5), layout="constrained")\n'
    "ax = fig.add_subplot()\n"
    "plot.timeline(result, ax=ax)\n"
    "window = explore.failure_windows(result).row(FAILURE, named=True)\n"
    'if window["lo"] is not None:\n'
    '    ax.set_xlim(mdates.date2num(window["lo"]) - SECONDS / 86400, mdates.date2num(window["hi"]) + SECONDS / 86400)\n'
    "fig",
]

UNEXPLAINED = [
    Md(
        "# 3 · Unexplained failures: from log lines to a new rule\n\n"
        "Failures left `unknown`, and entries near failures that no verdict cites, are where a new rule "
        "is needed. Masking the variable parts of their messages (ids, numbers, hex, timestamps, IPs, "
        "quoted values, URL queries) turns many lines into a few templates; the top ones become a draft "
        "rule file to edit and pass with `--rules DIR`."
    ),
    SETUP,
    TRIAGE + "\n"
    'unknown = [v for v in result.verdicts if v.root_cause == "unknown"]\n'
    'print(f"{len(result.verdicts)} failed tests, {len(unknown)} left unknown")\n'
    "for v in unknown:\n"
    '    print(" -", v.test_id, "->", v.reason)',
    Md(
        "## Entries no verdict explains\n\n"
        "For every failed test, the entries tied to it that no decided verdict cites (successful "
        "requests left out). `root_cause` is the verdict of the test the entry sits near."
    ),
    "unexplained = explore.unexplained(result)\n"
    "print(f\"{unexplained.height} entries near {unexplained.get_column('test_id').n_unique()} failed tests\")\n"
    'unexplained.select("test_id", "root_cause", "timestamp", "service", "log_id", "http_status", "message")',
    Md(
        "## Templates, ranked\n\n"
        "Templates near more failed tests rank first, then the most frequent."
    ),
    "ranked = explore.templates(unexplained)\nranked",
    Md(
        "For comparison, the templates of the whole export: what the service logs all the time is "
        "rarely the cause of a failure."
    ),
    'explore.templates(result.logs.get_column("message")).head(10)',
    Md(
        "## A draft rule file\n\n"
        "`draft_rules` writes one rule per template. Each label is a suggestion from the template's "
        "words (or a placeholder) that a person must confirm, and every rule starts `disabled: true`, "
        "so an unedited draft changes no verdict."
    ),
    "draft = explore.draft_rules(ranked, top=5)\nprint(draft)",
    "import tempfile\n\n"
    'rules_dir = Path(tempfile.mkdtemp(prefix="forensics-draft-"))\n'
    '(rules_dir / "draft.yaml").write_text(draft, encoding="utf-8")\n'
    "problems = forensics.check_rules(rules_dir)\n"
    'print("rules check:", problems or "no problems")\n'
    "assert not problems",
    Md(
        "The same check from the terminal, and a triage with the draft added:\n\n"
        "```\n"
        "python -m forensics rules check DIR\n"
        "python -m forensics triage --tests fixtures/seed/junit.xml --logs fixtures/seed/logs --rules DIR\n"
        "```\n\n"
        "Here the draft is still disabled, so the verdicts must not change:"
    ),
    "again = forensics.triage(tests, logs, rules=[rules_dir])\n"
    "before = [(v.test_id, v.root_cause) for v in result.verdicts]\n"
    "after = [(v.test_id, v.root_cause) for v in again.verdicts]\n"
    'print("verdicts unchanged:", before == after)\n'
    "assert before == after",
    Md(
        "Next: open the draft, set each `label` to the cause the line proves (see TAXONOMY.md), "
        "narrow `match` with structure (`http_status`, `log_id`, `role`, `request:`/`app_log:` blocks; "
        "docs/rules.md), delete `disabled: true`, and keep the file beside your other rules."
    ),
]

ITERATIONS = [
    Md(
        "# 4 · Iterations: what changed since the last run, which deploy did it, what keeps coming back\n\n"
        "A test-deploy loop runs the staging suite, finds why tests failed, fixes, deploys and runs again. "
        "After the first run the questions are about change: did the fix work, what broke since, which "
        "deploy did it, is this test flaky, what keeps coming back.\n\n"
        "`fixtures/iterations` holds seven runs of such a loop (58 tests each), each served by the Cloud Run "
        "revision deployed before it. This notebook records them in a run history, compares them, and drills "
        "into one transition down to the log lines on both sides."
    ),
    """\
%matplotlib inline
import json
import tempfile
from pathlib import Path

import polars as pl
from IPython.display import Markdown

import forensics
from forensics import history, plot
from forensics.history.iteration import iteration_report
from forensics.history.render import render_text

# JupyterLab starts in notebooks/, CI may start at the repo root: find the fixture either way.
ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "fixtures" / "iterations").is_dir())
LOOP = ROOT / "fixtures" / "iterations"
RUNS = sorted(p for p in LOOP.iterdir() if p.is_dir())
HIST = Path(tempfile.mkdtemp(prefix="history-"))  # use .forensics/history for your own runs
pl.Config.set_tbl_rows(25)
pl.Config.set_fmt_str_lengths(110)
pl.Config.set_tbl_width_chars(180)
print(f"{len(RUNS)} runs in {LOOP}; history in {HIST}")""",
    Md(
        "## Record every run\n\n"
        "`history.record(result, DIR)` adds a triaged run: every test's outcome (passes too), every verdict "
        "with its evidence and rule, the revisions that served the runner's requests, the clock, and the CI "
        "facts (here the GitHub Actions variables each job had, kept in `ci.json`). The command line does "
        "the same with `triage ... --history DIR` or `python -m forensics record RUN_DIR`."
    ),
    """\
for run in RUNS:
    result = forensics.triage([run / "junit.xml"], [run / "logs"])
    path = history.record(result, HIST, ci=json.loads((run / "ci.json").read_text()))
    print(f"{run.name:24} {len(result.verdicts)} failed -> {path.name}")""",
    Md(
        "## The history is a table\n\n"
        "One Parquet file per run; `history.load` reads them as one polars frame, one row per (run, test)."
    ),
    """\
rows = history.load(HIST)
rows.group_by("run_id", maintain_order=True).agg(
    pl.col("started").first(),
    pl.col("revisions").first().list.join(", ").alias("revisions"),
    pl.col("commit").first().str.slice(0, 7),
    pl.len().alias("tests"),
    pl.col("outcome").is_in(["failed", "error"]).sum().alias("failed"),
)""",
    Md(
        "## Compare the runs\n\n"
        "Each test gets a status: `fixed`, `new`, `persistent`, `cause_changed`, `flaky` (passed and failed "
        "with the same revisions and commit) or `passing`. A deploy is where the revisions serving the runner "
        "changed; it is credited with what changed across it."
    ),
    """\
comparison = history.compare(HIST, last=None)
print(render_text(comparison))""",
    "plot.run_grid(comparison, max_tests=20)",
    "plot.causes_per_run(comparison)",
    "plot.pass_rate(comparison)",
    Md(
        "## Did the fix work?\n\n"
        "Compare the two runs around the deploy of revision `00313-lim` (iterations 3 and 4)."
    ),
    """\
step = history.compare(HIST, last=2, until=comparison.runs[3].started)
for d in step.deploys:
    print(d.sentence())
pl.DataFrame([vars(t) for t in step.tests if t.status != "passing"])""",
    Md(
        "## Drill into one transition\n\n"
        "`test_concurrent_websocket_real` still failed in iteration 4, passed in 5 on the same revision and "
        "commit (flaky), and its cause changed wording between 3 and 4. The history keeps each verdict's "
        "evidence (insertIds); the runs' own exports hold the lines."
    ),
    """\
TEST = "tests/e2e/test_1_websocket_events_staging.py::test_concurrent_websocket_real"
mine = rows.filter(pl.col("test_id") == TEST).with_columns(pl.col("revisions").list.join(", "))
mine.select("run_id", "revisions", "outcome", "root_cause", "deciding_line")""",
    """\
def lines_of(run_index: int) -> pl.DataFrame:
    \"\"\"The log lines of TEST in one run: its verdict's evidence, else its requests in its window.\"\"\"
    run = comparison.runs[run_index - 1]
    logs = forensics.load_logs(RUNS[run_index - 1] / "logs")
    row = rows.filter((pl.col("run_id") == run.run_id) & (pl.col("test_id") == TEST)).row(0, named=True)
    ids = [e["insert_id"] for e in row["evidence"] or []]
    if ids:
        picked = logs.filter(pl.col("insert_id").is_in(ids))
    else:  # a pass has no verdict: show the WebSocket requests during the test
        picked = logs.filter(
            pl.col("timestamp").is_between(row["start"], row["stop"]) & (pl.col("http_path") == "/ws")
        )
    return picked.select("timestamp", "revision", "http_status", pl.col("message").str.slice(0, 110))


print("iteration 3:")
display(lines_of(3))
print("iteration 4:")
display(lines_of(4))
print("iteration 5 (passed):")
lines_of(5)""",
    Md(
        "## What keeps coming back\n\n"
        "Failures grouped across runs by cause and the template of their deciding line (numbers, ids, times "
        "and quoted values masked), most frequent first."
    ),
    """\
pl.DataFrame([s.to_dict() for s in comparison.signatures]).select(
    "root_cause", "failures", "runs", "tests", "first_run", "last_run", "template"
)""",
    Md(
        "## The iteration report\n\n"
        "What the seed team wrote by hand after every run, written from the evidence "
        "(`python -m forensics report-iteration 4 --history DIR`)."
    ),
    "Markdown(iteration_report(HIST, 4))",
    Md(
        "## Without forensics\n\n"
        "The history is plain Parquet: polars (or DuckDB: `SELECT ... FROM 'DIR/*.parquet'`) reads it directly."
    ),
    """\
pl.scan_parquet(f"{HIST}/*.parquet").filter(pl.col("outcome") == "failed").group_by(
    "root_cause"
).agg(pl.len().alias("failures"), pl.col("run_id").n_unique().alias("runs")).sort(
    "failures", descending=True
).collect()""",
]

NOTEBOOKS = {
    "01_triage_walkthrough.ipynb": WALKTHROUGH,
    "02_timeline_explorer.ipynb": TIMELINE,
    "03_unexplained_failures.ipynb": UNEXPLAINED,
    "04_iterations.ipynb": ITERATIONS,
}


def build(name: str, sources: list[str]) -> nbformat.NotebookNode:
    """One clean notebook from its cell sources."""
    stem = name.split("_")[0]
    cells = []
    for i, src in enumerate(sources):
        cell = new_markdown_cell(str(src)) if isinstance(src, Md) else new_code_cell(src)
        cell["id"] = f"nb{stem}-{i:02d}"  # stable ids keep diffs of regenerated notebooks empty
        cells.append(cell)
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, sources in NOTEBOOKS.items():
        text = nbformat.writes(build(name, sources)) + "\n"
        path = HERE / name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python notebooks/build_notebooks.py):", ", ".join(stale))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
