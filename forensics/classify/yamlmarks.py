"""YAML with line marks: every mapping, key and list remembers the line it came from.

Rule problems name file and line (``rules/x.yaml:12: bad regex``), so the loader keeps the marks
that PyYAML's composer knows and its constructors drop. Safe loading only: no Python tags.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: A problem found in a rule file: (file, line or None, message).
Problem = tuple[str, int | None, str]


class _LineDict(dict[Any, Any]):
    line: int | None = None
    key_lines: dict[Any, int]


class _LineList(list[Any]):
    line: int | None = None
    item_lines: list[int]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping, key and list (for problem reports)."""

    duplicates: list[tuple[int, str]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    out = _LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):  # YAML allows them; a rule never needs them
            loader.duplicates.append((key_node.start_mark.line + 1, "a key must be a plain value"))
            key = f"<{type(key).__name__} key>"
        if key in out:
            loader.duplicates.append((key_node.start_mark.line + 1, f"duplicate key {key!r}"))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_documents(path: Path) -> tuple[list[Any], list[Problem]]:
    """Every YAML document of a file, with line marks, and every problem reading it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return [], [(str(path), None, f"cannot read rule file: {err}")]
    return parse_documents(text, str(path))


def parse_documents(text: str, name: str) -> tuple[list[Any], list[Problem]]:
    """Every YAML document of ``text`` (named ``name`` in problems), with line marks."""
    loader = _LineLoader(text)
    loader.duplicates = []
    docs: list[Any] = []
    problems: list[Problem] = []
    try:
        while loader.check_data():
            docs.append(loader.get_data())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        what = getattr(err, "problem", None) or str(err).splitlines()[0]
        problems.append((name, mark.line + 1 if mark else None, f"YAML syntax error: {what}"))
    finally:
        loader.dispose()
    problems.extend((name, line, msg) for line, msg in loader.duplicates)
    return docs, problems
