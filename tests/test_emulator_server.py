"""The local Cloud Logging API server: reading exports, the entries.list protocol, errors, its CLI."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from forensics.emulator import EntryStore, FaultPlan, LoggingEmulator, load_export
from forensics.emulator.synth import synthetic_entries
from forensics.exceptions import InputError, LogFormatError

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = synthetic_entries(120, project="p1") + synthetic_entries(30, project="p2")


@pytest.fixture(scope="module")
def server():
    with LoggingEmulator(EntryStore.from_entries(ENTRIES)) as srv:
        yield srv


def _post(url: str, body: object, path: str = "/v2/entries:list") -> tuple[int, dict, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.load(resp), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err), dict(err.headers)


def test_default_page_size_is_50_and_at_most_1000(server: LoggingEmulator) -> None:
    """Without pageSize a page holds 50 entries, as Cloud Logging's; larger sizes are capped."""
    _, page, _ = _post(server.url, {"resourceNames": ["projects/p1"]})
    assert len(page["entries"]) == 50 and page["nextPageToken"]
    _, page, _ = _post(server.url, {"resourceNames": ["projects/p1"], "pageSize": 5000})
    assert len(page["entries"]) == 120 and "nextPageToken" not in page


def test_entries_belong_to_the_project_asked_for(server: LoggingEmulator) -> None:
    """projects/P lists only P's entries; several resource names list the union."""
    _, page, _ = _post(server.url, {"resourceNames": ["projects/p2"], "pageSize": 1000})
    assert len(page["entries"]) == 30 and all("projects/p2/" in e["logName"] for e in page["entries"])
    _, page, _ = _post(server.url, {"resourceNames": ["projects/p1", "projects/p2"], "pageSize": 1000})
    assert len(page["entries"]) == 150


@pytest.mark.parametrize(("body", "code", "status"), [
    ({"resourceNames": ["projects/nope"]}, 404, "NOT_FOUND"),
    ({}, 400, "INVALID_ARGUMENT"),
    ({"resourceNames": ["organizations/1/x"]}, 400, "INVALID_ARGUMENT"),
    ({"resourceNames": ["projects/p1"], "filter": "severity >= LOUD"}, 400, "INVALID_ARGUMENT"),
    ({"resourceNames": ["projects/p1"], "orderBy": "severity"}, 400, "INVALID_ARGUMENT"),
    ({"resourceNames": ["projects/p1"], "pageToken": "bm90LWEtdG9rZW4"}, 400, "INVALID_ARGUMENT"),
    (b"{not json", 400, "INVALID_ARGUMENT"),
])
def test_bad_requests_get_google_json_errors(server: LoggingEmulator, body: object, code: int, status: str) -> None:
    """Errors come in Google's {"error": {code, message, status}} shape with the right HTTP status."""
    got, payload, _ = _post(server.url, body)
    assert got == code
    assert payload["error"]["code"] == code and payload["error"]["status"] == status
    assert payload["error"]["message"]


def test_page_token_of_another_query_is_refused(server: LoggingEmulator) -> None:
    """A token only continues the query it came from."""
    _, page, _ = _post(server.url, {"resourceNames": ["projects/p1"], "pageSize": 10})
    got, payload, _ = _post(server.url, {"resourceNames": ["projects/p1"], "pageSize": 10,
                                         "filter": "severity >= ERROR", "pageToken": page["nextPageToken"]})
    assert got == 400 and "page token" in payload["error"]["message"]


def test_unknown_method_is_not_found(server: LoggingEmulator) -> None:
    """Paths outside the API answer 404 in the same error shape."""
    got, payload, _ = _post(server.url, {}, path="/v2/entries:write")
    assert got == 404 and payload["error"]["status"] == "NOT_FOUND"


def test_429_carries_retry_after(server: LoggingEmulator) -> None:
    """An injected 429 is RESOURCE_EXHAUSTED with the planned Retry-After header."""
    server.faults.replace(FaultPlan.parse([{"kind": "429", "retry_after": 3}]))
    got, payload, headers = _post(server.url, {"resourceNames": ["projects/p1"]})
    assert got == 429 and payload["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert headers["Retry-After"] == "3"
    assert payload["error"]["details"] == [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"}]
    assert _post(server.url, {"resourceNames": ["projects/p1"]})[0] == 200


@pytest.mark.parametrize("plan", [[{"kind": "418"}], [{"kind": "429", "when": 1}], {"kind": "429"},
                                  [{"kind": "500", "times": 0}]])
def test_bad_fault_plans_are_refused(plan: object) -> None:
    """A plan with unknown kinds or keys is an error, not a silently ignored plan."""
    with pytest.raises(ValueError):
        FaultPlan.parse(plan)


@pytest.mark.parametrize("shape", ["array", "jsonl", "pretty", "gzip", "utf16"])
def test_export_shapes_load_the_same_entries(tmp_path: Path, shape: str) -> None:
    """JSON arrays, JSONL, pretty objects one after another, gzip and UTF-16 all load the same entries."""
    entries = ENTRIES[:20]
    if shape == "array":
        data = json.dumps(entries, indent=2).encode()
    elif shape == "pretty":
        data = "\n".join(json.dumps(e, indent=2) for e in entries).encode()
    else:
        data = "\n".join(json.dumps(e) for e in entries).encode()
    if shape == "gzip":
        data = gzip.compress(data)
    if shape == "utf16":  # what a PowerShell redirect writes; triage reads it, so the server does
        data = data.decode().encode("utf-16")
    path = tmp_path / "export.json"
    path.write_bytes(data)
    store = load_export(path)
    assert [e["insertId"] for e in store.entries] == [e["insertId"] for e in entries]


def test_folder_of_exports_and_non_entries_are_counted(tmp_path: Path) -> None:
    """Folders are walked whatever the file names; non-exports and non-entries are counted, not served."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jsonl").write_text("\n".join(json.dumps(e) for e in ENTRIES[:5]) + '\n[1, "x"]\n')
    (tmp_path / "b.json").write_text(json.dumps(ENTRIES[5:8]))
    (tmp_path / "README.md").write_text("# what this export is\n")
    (tmp_path / "copy.txt").write_text("\n".join(json.dumps(e, indent=2) for e in ENTRIES[8:10]))
    store = load_export(tmp_path)
    assert len(store.entries) == 10
    assert store.skipped == {"not a LogEntry object": 2, "file in the folder is not a JSON export": 1}
    with pytest.raises(LogFormatError):  # a file named directly must be an export
        load_export(tmp_path / "README.md")


def test_export_that_is_not_json_names_file_and_line(tmp_path: Path) -> None:
    """A broken export gives one error with the file and the line."""
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(ENTRIES[0]) + "\n{broken\n")
    with pytest.raises(LogFormatError, match=r"bad.jsonl:2: not JSON"):
        load_export(path)
    with pytest.raises(InputError, match="no such file"):
        load_export(tmp_path / "missing.json")


def test_entries_without_a_project_go_to_the_default_project() -> None:
    """An entry whose logName names no project is served under the export's (or --project's) project."""
    store = EntryStore.from_entries([{"timestamp": "2026-01-15T10:00:00Z", "textPayload": "x"}],
                                    default_project="mine")
    assert store.projects == ["mine"] and store.project_ids == {"mine"}


def test_module_serves_an_export_until_stopped(tmp_path: Path) -> None:
    """python -m forensics.emulator prints its URL and serves entries.list there."""
    export = tmp_path / "logs.jsonl"
    export.write_text("\n".join(json.dumps(e) for e in ENTRIES))
    proc = subprocess.Popen([sys.executable, "-m", "forensics.emulator", "--logs", str(export), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("serving 150 entries of project(s) p1, p2 on http://127.0.0.1:")
        url = first.rsplit(" ", 1)[1].strip()
        assert proc.stdout.readline().strip() == f"export LOGGING_EMULATOR_HOST={url[len('http://'):]}"
        got, page, _ = _post(url, {"resourceNames": ["projects/p2"], "pageSize": 100})
        assert got == 200 and len(page["entries"]) == 30
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_module_reports_a_bad_export_in_one_line(tmp_path: Path) -> None:
    """A missing export exits 2 with one line naming it, no traceback."""
    done = subprocess.run([sys.executable, "-m", "forensics.emulator", "--logs", str(tmp_path / "x.json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == f"forensics.emulator: error: {tmp_path / 'x.json'}: no such file or folder"


def test_module_takes_a_fault_plan_at_start(tmp_path: Path) -> None:
    """--faults given as JSON text is served from the first request on."""
    export = tmp_path / "logs.jsonl"
    export.write_text("\n".join(json.dumps(e) for e in ENTRIES[:10]))
    proc = subprocess.Popen([sys.executable, "-m", "forensics.emulator", "--logs", str(export), "--port", "0",
                             "--faults", '[{"kind": "503", "times": 2}]'],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().rsplit(" ", 1)[1].strip()
        statuses = [_post(url, {"resourceNames": ["projects/p1"]})[0] for _ in range(3)]
        assert statuses == [503, 503, 200]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_module_refuses_a_bad_fault_plan_in_one_line(tmp_path: Path) -> None:
    """An unknown fault kind exits 2 with one line naming the allowed kinds."""
    export = tmp_path / "logs.jsonl"
    export.write_text(json.dumps(ENTRIES[0]))
    done = subprocess.run([sys.executable, "-m", "forensics.emulator", "--logs", str(export),
                           "--faults", '[{"kind": "teapot"}]'], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "unknown fault kind 'teapot'" in done.stderr and "429" in done.stderr


@pytest.mark.parametrize(("content", "message"), [
    ('[{"kind": "429",\n', r"plan.json:2: fault plan is not JSON \("),
    (None, r"missing.json: cannot read the fault plan: No such file or directory$"),
])
def test_fault_plan_file_errors_name_the_file(tmp_path: Path, content: str | None, message: str) -> None:
    """A broken or missing --faults file is one error naming the file (and line), without errno noise."""
    name = "plan.json" if content is not None else "missing.json"
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(InputError) as caught:
        FaultPlan.from_option(str(tmp_path / name))
    assert re.search(message, str(caught.value)) and "Errno" not in str(caught.value)
