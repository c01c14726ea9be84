"""Splitting entries.list responses into entry texts, and entry texts into the log frame."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.emulator.synth import synthetic_entries
from forensics.sources.cloud_logging.pages import PageFormatError, split_page
from forensics.sources.frame import texts_to_frame

ENTRIES = synthetic_entries(25, project="p1")


def test_compact_page_keeps_each_entry_text_byte_for_byte() -> None:
    """Each entry's text is exactly what the server sent, and the token is read."""
    texts = [json.dumps(e, separators=(",", ":")) for e in ENTRIES]
    page = '{"entries":[' + ",".join(texts) + '],"nextPageToken":"abc"}'
    assert split_page(page.encode()) == (texts, "abc")


def test_pretty_printed_page_gives_one_line_per_entry() -> None:
    """An indented response (token first, unicode, nested arrays) still yields one-line entries."""
    entries = [{**ENTRIES[0], "textPayload": 'ünïcode "quoted" [x], {y}'}, ENTRIES[1]]
    page = json.dumps({"nextPageToken": "t2", "entries": entries}, indent=2, ensure_ascii=False)
    texts, token = split_page(page)
    assert token == "t2" and [json.loads(t) for t in texts] == entries
    assert all("\n" not in t for t in texts)


@pytest.mark.parametrize(
    ("page", "token"),
    [
        ("{}", None),
        ('{"nextPageToken": ""}', None),
        ('{"entries": [], "nextPageToken": "more"}', "more"),
        (' { "entries" : [ ] } ', None),
    ],
)
def test_empty_pages_and_empty_tokens(page: str, token: str | None) -> None:
    """No entries is fine; an empty token means the end, like an absent one."""
    assert split_page(page) == ([], token)


@pytest.mark.parametrize(
    "page", ["", "[]", '{"entries": [1, 2', "<html>503</html>", '{"entries": {}}x']
)
def test_bodies_that_are_not_pages_are_refused(page: str) -> None:
    """A body that is not an entries.list object raises PageFormatError, not a crash."""
    with pytest.raises(PageFormatError):
        split_page(page)


def test_texts_become_the_same_frame_as_the_entries() -> None:
    """Entry texts give the same log frame as the normalizer's dict entry point."""
    from forensics.logs import entries_to_frame

    texts = [json.dumps(e) for e in ENTRIES]
    frame = texts_to_frame(texts, "cloud-logging:p1")
    assert frame.equals(entries_to_frame(ENTRIES, "cloud-logging:p1"))
    assert frame.height == 25 and frame.get_column("source_file").unique().to_list() == [
        "cloud-logging:p1"
    ]


def test_logs_of_a_pull_count_skipped_and_repeated_entries() -> None:
    """Entries the normalizer cannot place are counted, and an entry the API sent twice is kept once."""
    from forensics.sources.frame import texts_to_logs

    texts = [json.dumps(e) for e in ENTRIES[:5]]
    texts += [
        texts[0],
        json.dumps({"insertId": "x", "logName": "projects/p1/logs/a", "timestamp": "soon"}),
    ]
    logs = texts_to_logs(texts, "cloud-logging:p1")
    assert logs.frame.height == 5 and logs.duplicates == 1
    assert sum(s.count for s in logs.skipped) == 1 and logs.files == ["cloud-logging:p1"]
    assert logs.frame.get_column("timestamp").is_sorted()


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    entries=st.lists(st.dictionaries(st.text(max_size=8), _JSON, max_size=4), max_size=5),
    token=st.one_of(st.none(), st.text(max_size=10)),
    indent=st.sampled_from([None, 1, 2]),
    token_first=st.booleans(),
)
def test_any_page_splits_into_its_entries_and_token(
    entries: list, token: str | None, indent: int | None, token_first: bool
) -> None:
    """Whatever the entries hold and however the page is laid out, each entry comes back intact."""
    body: dict = {}
    if token_first and token is not None:
        body["nextPageToken"] = token
    body["entries"] = entries
    if not token_first and token is not None:
        body["nextPageToken"] = token
    texts, got_token = split_page(json.dumps(body, indent=indent))
    assert [json.loads(t) for t in texts] == entries
    assert all("\n" not in t for t in texts)
    assert got_token == (token or None)
