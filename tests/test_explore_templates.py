"""forensics.explore templates: masking messages, ranking templates, drafting rule files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import regex
from hypothesis import example, given
from hypothesis import strategies as st

from forensics import explore
from forensics.classify.rules import check_rules, load_rules
from forensics.explore.templates import suggest_label, template_regex
from forensics.labels import LABELS
from tests.test_explore import SECRET_JWT, make_result


@pytest.mark.parametrize(
    ("message", "template"),
    [
        ("request 3fa85f64-5717-4562-b3fc-2c963f66afa6 took 12.5ms", "request <uuid> took <num>"),
        ("rejected 10.0.0.3:53422 at 2025-09-07T09:00:01.123Z", "rejected <ip> at <ts>"),
        (
            '127.0.0.1 - - [07/Sep/2025:09:00:01 +0000] "GET /ws HTTP/1.1" 403',
            '<ip> - - [<ts>] "GET /ws HTTP/1.1" <num>',
        ),
        ("Origin 'https://evil.example.com' not allowed", "Origin '<str>' not allowed"),
        ("GET /api/items?id=5&sig=abc returned 500", "GET /api/items?<query> returned <num>"),
        ("token for bob@example.org expired", "token for <email> expired"),
        ("instance 00f46b928598a2f4c1 restarted", "instance <hex> restarted"),
        ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer <token>"),
        (f"bad token {SECRET_JWT}", "bad token <jwt>"),
        (
            '{"event": "ws_reject", "reason": "no token"}',
            '{"event": "ws_reject", "reason": "no token"}',
        ),
        (
            "INFO:     ('127.0.0.1', 50506) - \"WebSocket /ws\" 403",
            "INFO: ('<ip>', <num>) - \"WebSocket /ws\" <num>",
        ),
        ("test_1_websocket_events_staging failed", "test_1_websocket_events_staging failed"),
        ("bypass key [REDACTED sha256:ba7816bf] rejected", "bypass key <secret> rejected"),
    ],
)
def test_mask_one(message: str, template: str) -> None:
    """Variable parts become placeholders; words, JSON keys and request lines stay readable."""
    assert explore.mask_one(message) == template


def test_templates_rank_by_count_with_an_example() -> None:
    """Messages that differ only in ids group into one template, most frequent first."""
    messages = pl.Series(
        [f"conn {i:08x}-aaaa-bbbb-cccc-123456789abc rejected: no token" for i in range(5)]
        + ["worker 7 crashed", "worker 12 crashed", None, "  "]
    )
    frame = explore.templates(messages)
    assert frame.get_column("template").to_list() == [
        "conn <uuid> rejected: no token",
        "worker <num> crashed",
    ]
    assert frame.get_column("count").to_list() == [5, 2]
    assert frame.get_column("share").to_list() == pytest.approx([5 / 7, 2 / 7])
    assert frame.item(1, "example") in {"worker 7 crashed", "worker 12 crashed"}


def test_templates_of_unexplained_rank_by_failed_tests() -> None:
    """Given the unexplained frame, templates near more failed tests rank first and keep context."""
    frame = explore.templates(explore.unexplained(make_result()))
    assert frame.columns[:5] == ["template", "tests", "count", "share", "example"]
    assert frame.get_column("tests").is_sorted(descending=True)
    row = frame.filter(pl.col("template") == "GET <num> /ws").row(0, named=True)
    assert row["statuses"] == [403] and row["log_ids"] == ["run.googleapis.com/requests"]


def test_templates_examples_are_redacted() -> None:
    """An example never shows a secret the raw message held."""
    frame = explore.templates(pl.Series([f"Authorization: Bearer {SECRET_JWT}"] * 2))
    assert SECRET_JWT not in frame.item(0, "example")


@given(st.text(max_size=200))
@example("0%:")  # a percentage masked as <num>
def test_template_regex_matches_its_own_messages(message: str) -> None:
    """The regex drawn from a template matches the (first line of the) message it came from."""
    line = message.strip().splitlines()[0] if message.strip() else ""
    template = explore.mask_one(message)
    if line and len(" ".join(line.split())) <= 300:
        assert regex.search(template_regex(template), " ".join(line.split()), regex.IGNORECASE)


def _write_draft(tmp_path: Path, text: str) -> Path:
    (tmp_path / "draft.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_draft_rules_pass_the_rule_check(tmp_path: Path) -> None:
    """The draft file is valid as written: check_rules finds no problem and it loads."""
    frame = explore.templates(explore.unexplained(make_result()))
    folder = _write_draft(tmp_path, explore.draft_rules(frame, top=3))
    assert check_rules(folder) == []
    load_rules(folder, builtin=False)


def test_draft_rules_are_disabled_until_reviewed(tmp_path: Path) -> None:
    """Passing an unedited draft with --rules adds no rule: each is disabled until a person says so."""
    frame = explore.templates(explore.unexplained(make_result()))
    text = explore.draft_rules(frame, top=3)
    assert len(regex.findall(r"(?m)^disabled: true$", text)) == 3
    assert len(load_rules(_write_draft(tmp_path, text), builtin=False)) == 0


def test_draft_rules_suggest_labels_and_keep_structure(tmp_path: Path) -> None:
    """Labels are suggested from the words (and say so), a single status/log id is kept as a condition."""
    frame = explore.templates(explore.unexplained(make_result()))
    text = explore.draft_rules(frame, top=10)
    assert "label: invalid_jwt  # SUGGESTED" in text
    assert "http_status: 403" in text
    for line in text.splitlines():
        if line.startswith("label: "):
            assert line.split()[1] in LABELS


def test_draft_rules_with_a_chosen_label_match_the_message(tmp_path: Path) -> None:
    """With a label chosen, every rule carries it, and the rule's regex matches the real message."""
    frame = explore.templates(pl.Series(["JWT expired at 2025-09-07T09:00:00Z for kid 9f8e7d6c5b"]))
    text = explore.draft_rules(frame, label="invalid_jwt")
    assert "label: invalid_jwt  # chosen by the caller" in text
    enabled = text.replace("disabled: true", "disabled: false")
    rules = load_rules(_write_draft(tmp_path, enabled), builtin=False)
    assert [r.label for r in rules] == ["invalid_jwt"]
    pattern = regex.search(r"message: '(.*)'", text).group(1)  # type: ignore[union-attr]
    assert regex.search(
        pattern, "JWT expired at 2025-10-01T12:13:14Z for kid 0a1b2c3d4e", regex.IGNORECASE
    )


def test_draft_rules_reject_a_label_outside_the_taxonomy() -> None:
    """A made-up label is refused at once rather than written into a file that would not load."""
    with pytest.raises(ValueError, match="TAXONOMY"):
        explore.draft_rules(explore.templates(pl.Series(["x"])), label="auth_failure")


@pytest.mark.parametrize(
    ("template", "label"),
    [
        ("Missing E2E bypass header x-e2e-bypass-key", "missing_bypass_header"),
        ("Origin '<str>' is not allowed", "cors_origin"),
        ("no token in handshake", "missing_jwt"),
        ("Signature verification failed", "invalid_jwt"),
        ("closing session <num> after <num>", None),
    ],
)
def test_suggest_label(template: str, label: str | None) -> None:
    """Suggestions follow the words of the template, and nothing is suggested without a hint."""
    assert suggest_label(template) == label
