"""Rule files: loading, validation with file and line, the lint mode, user overrides."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forensics.classify import Rule, RuleSet, check_rules, load_rules
from forensics.classify.rules import BUILTIN_DIR
from forensics.exceptions import RuleError
from forensics.labels import LABELS, UNKNOWN
from tests.test_classify import TRACE, app_line, one, run_request

GOOD = """\
id: my-team-bypass
label: missing_bypass_header
layer: app
weight: 0.9
description: Our gateway's wording for a missing bypass key.
match:
  role: app
  message: 'gateway: e2e pass absent'
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_rules_load_without_problems() -> None:
    """Every shipped rule file is valid; check_rules() with no paths checks them."""
    assert check_rules() == []
    rules = load_rules()
    assert isinstance(rules, RuleSet) and len(rules) >= 40
    assert len({r.id for r in rules}) == len(rules)


def test_every_label_has_shipped_rules() -> None:
    """Each TAXONOMY label but unknown can be decided by at least one shipped rule."""
    labels = {r.label for r in load_rules()}
    assert labels == set(LABELS) - {UNKNOWN}


def test_shipped_rule_files_stay_small() -> None:
    """Rule files stay reviewable: one file per label, none longer than 250 lines."""
    for path in BUILTIN_DIR.glob("*.yaml"):
        assert len(path.read_text().splitlines()) <= 250, path.name


def test_rules_are_frozen_and_carry_their_source() -> None:
    """A Rule cannot be changed after loading and says where it was defined."""
    rule = load_rules().by_id("invalid-jwt-expired")
    assert rule.label == "invalid_jwt" and rule.detail == "expired" and rule.layer == "app"
    assert rule.source.endswith(".yaml:" + rule.source.rsplit(":", 1)[1])
    assert "invalid_jwt.yaml" in rule.source
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.weight = 0.1  # type: ignore[misc]


def test_check_rules_reports_every_broken_rule_with_its_line(tmp_path: Path) -> None:
    """One lint run reports every problem in every file, each with file and the right line."""
    write(
        tmp_path,
        "broken.yaml",
        """\
id: bad-label
label: not_a_label
weight: 0.5
description: x
match:
  role: app
---
id: bad-regex
label: missing_jwt
weight: 0.5
description: x
match:
  message: '(unclosed'
---
id: bad-field
label: missing_jwt
weight: 2
description: x
match:
  http_stattus: 403
  http_status: forbidden
---
label: app_error
description: x
match:
  role: app
""",
    )
    write(tmp_path, "syntax.yaml", "id: s\nlabel: app_error\nmatch: [unclosed\n")
    problems = check_rules(tmp_path)
    found = {(Path(p).name, line, msg.split(" ")[0]) for p, line, msg in problems}
    messages = " | ".join(m for _, _, m in problems)
    assert ("broken.yaml", 2, "unknown") in found  # unknown label, on the label line
    assert any(line == 13 and "bad regex '(unclosed'" in m for _, line, m in problems)
    assert ("broken.yaml", 17, "weight") in found  # weight out of range
    assert any(
        line == 20
        and "unknown field or condition 'http_stattus' (did you mean 'http_status'?)" in m
        for _, line, m in problems
    )
    assert any(line == 21 and "number column" in m for _, line, m in problems)  # wrong type
    assert any("missing required key 'id'" in m for _, _, m in problems)
    assert any("missing required key 'weight'" in m for _, _, m in problems)
    assert any(
        Path(p).name == "syntax.yaml" and line is not None and "YAML syntax error" in m
        for p, line, m in problems
    )
    assert len(problems) >= 8, messages


def test_duplicate_ids_and_keys_are_reported(tmp_path: Path) -> None:
    """Two rules with one id, or a key given twice, are problems with the line of the repeat."""
    write(tmp_path, "a.yaml", GOOD + "---\n" + GOOD)
    write(
        tmp_path,
        "b.yaml",
        GOOD.replace("weight: 0.9", "weight: 0.9\nweight: 0.8").replace("my-team-bypass", "other"),
    )
    problems = check_rules(tmp_path)
    assert any("duplicate rule id 'my-team-bypass'" in m and line == 10 for _, line, m in problems)
    assert any("duplicate key 'weight'" in m and line == 5 for _, line, m in problems)


def test_wrong_types_and_unknown_kinds_are_reported(tmp_path: Path) -> None:
    """Bad roles, comparisons, severities, layers and paths each give a problem."""
    write(
        tmp_path,
        "types.yaml",
        """\
- id: t1
  label: iam_denied
  layer: app
  weight: 0.5
  description: edge label on the app layer
  match: {role: server}
- id: t2
  label: app_error
  weight: 0.5
  description: x
  match:
    severity: {gte: LOUD}
    payload.: 1
    no_app_log: maybe
    http_status: {between: [1, 2]}
""",
    )
    messages = [m for _, _, m in check_rules(tmp_path)]
    for needle in (
        "contradicts",
        "unknown role",
        "unknown severity",
        "bad path",
        "no_app_log must be",
        "unknown comparison",
    ):
        assert any(needle in m for m in messages), needle


def test_load_rules_raises_rule_error_with_all_problems(tmp_path: Path) -> None:
    """load_rules refuses broken user rules; the error names file and line and carries them all."""
    write(
        tmp_path,
        "x.yaml",
        GOOD.replace("missing_bypass_header", "bogus") + "---\n" + GOOD.replace("0.9", "-1"),
    )
    with pytest.raises(RuleError) as err:
        load_rules(tmp_path)
    assert len(err.value.problems) == 2
    assert str(err.value).startswith(f"{tmp_path / 'x.yaml'}:2: unknown label 'bogus'")
    assert f"(and 1 more: `python -m forensics rules check {tmp_path}` lists them all)" in str(err.value)


def test_missing_rule_path_is_a_problem(tmp_path: Path) -> None:
    """A rule folder that does not exist is reported, not ignored."""
    assert check_rules(tmp_path / "nope") == [
        (str(tmp_path / "nope"), None, "no such rule file or folder")
    ]


def test_user_rule_adds_a_wording(tmp_path: Path) -> None:
    """A user rule file teaches the classifier a house wording without touching code."""
    write(tmp_path, "house.yaml", GOOD)
    rows = [run_request(403), app_line("gateway: e2e pass absent", trace=TRACE)]
    assert one(rows).root_cause == "unknown"
    v = one(rows, rules=load_rules(tmp_path))
    assert (v.root_cause, v.rule) == ("missing_bypass_header", "my-team-bypass")


def test_user_rule_overrides_a_builtin_by_id(tmp_path: Path) -> None:
    """A user rule with a shipped rule's id replaces it; ``disabled: true`` turns one off."""
    write(
        tmp_path,
        "override.yml",
        """\
id: invalid-jwt-expired
label: invalid_jwt
detail: exp_claim
weight: 0.9
description: our own expired rule
match:
  role: app
  message: 'token expired'
---
id: missing-jwt-words
label: missing_jwt
weight: 0.5
description: not used in our environment
disabled: true
match: {role: app}
""",
    )
    rules = load_rules(tmp_path)
    assert rules.by_id("invalid-jwt-expired").detail == "exp_claim"
    assert "override.yml" in rules.by_id("invalid-jwt-expired").source
    with pytest.raises(KeyError):
        rules.by_id("missing-jwt-words")
    assert len(rules) == len(load_rules()) - 1


def test_builtin_false_loads_only_user_rules(tmp_path: Path) -> None:
    """builtin=False gives exactly the user's rules."""
    write(tmp_path, "house.yaml", GOOD)
    rules = load_rules(tmp_path, builtin=False)
    assert [r.id for r in rules] == ["my-team-bypass"]
    assert isinstance(rules.rules[0], Rule)


def test_every_rule_example_in_the_docs_is_valid(tmp_path: Path) -> None:
    """The YAML examples users copy from docs/rules.md load without problems."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text()
    blocks = [b.split("```", 1)[0] for b in doc.split("```yaml\n")[1:]]
    assert len(blocks) >= 5
    for i, block in enumerate(blocks):
        write(tmp_path, f"example{i}.yaml", block)
    assert check_rules(tmp_path) == []
    assert len(load_rules(tmp_path, builtin=False)) == len(blocks)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(
        alphabet=st.sampled_from(list("idlabel:weightmsg -'\"[]{}\n\t0123456789.#&*!|>?")),
        max_size=200,
    )
)
def test_check_rules_never_crashes_on_arbitrary_text(tmp_path: Path, text: str) -> None:
    """Whatever a rule file holds, the lint returns problems (file, line, message), never raises."""
    path = write(tmp_path, "fuzz.yaml", text)
    for where, line, message in check_rules(path):
        assert where == str(path)
        assert line is None or line >= 1
        assert message


@pytest.mark.parametrize(
    "text",
    [
        "[1]: 2",
        "? [a, b]\n: 1",
        "{ {a: 1}: 2 }",
        "!!python/object:os.system x",
        "a: &x 1\nb: *y",
        "id: x\nlabel: app_error\nweight: .nan\ndescription: d\nmatch: {role: app}",
        "- 1\n- [2]\n- {id: 3}",
        "id: x\nlabel: app_error\nweight: 0.5\ndescription: d\nmatch: {any: [], not: 5, role: []}",
    ],
)
def test_hostile_rule_files_give_problems_not_tracebacks(tmp_path: Path, text: str) -> None:
    """Odd YAML (list keys, python tags, undefined aliases, NaN) is reported as problems."""
    problems = check_rules(write(tmp_path, "odd.yaml", text))
    assert problems
    assert all(isinstance(msg, str) and msg for _, _, msg in problems)


def test_problems_inside_nested_blocks_and_lists_point_at_their_own_line(tmp_path: Path) -> None:
    """A bad regex in a list or a bad comparison under any/not is reported on its own line."""
    write(
        tmp_path,
        "nested.yaml",
        """\
id: nested
label: app_error
weight: 0.5
description: nested problems
match:
  role: app
  message:
    - 'fine'
    - '(bad'
  any:
    - message: 'ok'
    - not:
        http_status: {gte: "x"}
""",
    )
    problems = {(line, msg.split(" ")[0]) for _, line, msg in check_rules(tmp_path)}
    assert problems == {(9, "bad"), (13, "gte")}


def test_rules_build_from_dict_and_yaml_text() -> None:
    """Rule.from_dict and RuleSet.from_yaml build validated rules without files (notebooks)."""
    rule = Rule.from_dict(
        {
            "id": "x",
            "label": "app_error",
            "weight": 0.5,
            "description": "d",
            "match": {"http_status": 500},
        }
    )
    assert (rule.id, rule.layer) == ("x", "app")
    rules = RuleSet.from_yaml(GOOD + "---\n" + GOOD.replace("my-team-bypass", "second"))
    assert [r.id for r in rules] == ["my-team-bypass", "second"]
    with pytest.raises(RuleError) as err:
        RuleSet.from_yaml(GOOD.replace("role: app", "role: server"), source="inline")
    assert err.value.problems[0][:2] == ("inline", 7)
    with pytest.raises(RuleError):
        Rule.from_dict({"id": "x"})
