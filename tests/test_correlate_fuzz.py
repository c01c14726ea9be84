"""Test text is untrusted input: extracting ids from any text never fails and yields well-formed ids."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from forensics.correlate.textids import extract_ids

_PIECES = st.sampled_from(
    [
        "X-Cloud-Trace-Context: ",
        "traceparent: 00-",
        "projects/p/traces/",
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "/0000;o=1",
        "wss://h.example/ws?token=",
        "HTTP 403",
        "status_code=",
        "received 1008",
        "X-Request-Id: ",
        "\n",
        " ",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=40)), max_size=30).map("".join))
def test_any_text_gives_well_formed_ids(text: str) -> None:
    """Whatever the text, ids are well formed: 32 lower-case hex traces, paths without query, HTTP statuses."""
    ids = extract_ids(text)
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in ids.traces | ids.loose_hex)
    assert all(p.startswith("/") and "?" not in p for p in ids.paths)
    assert all(100 <= s <= 599 for s in ids.statuses)
