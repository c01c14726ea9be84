"""The public API: everything a notebook needs is importable from ``forensics``."""

from __future__ import annotations

import forensics


def test_all_is_sorted_and_complete() -> None:
    """``__all__`` names every public member exactly once, in sorted order, and each exists."""
    names = forensics.__all__
    # isort style, as ruff keeps it: CONSTANTS, then Classes, then functions, each alphabetical
    def kind(name: str) -> int:
        return 0 if name.isupper() else 1 if name[0].isupper() else 2

    assert names == sorted(names, key=lambda n: (kind(n), n))
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(forensics, name), name
    public = {n for n in vars(forensics) if not n.startswith("_") and not isinstance(getattr(forensics, n), type(forensics))}
    public -= {"annotations"}
    assert public == set(names)


def test_labels_match_taxonomy() -> None:
    """The labels forensics emits are exactly the TAXONOMY's strings."""
    from tests.conftest import ROOT

    taxonomy = ROOT.parent / "shared" / "TAXONOMY.md"
    if not taxonomy.exists():
        import pytest

        pytest.skip("../shared/TAXONOMY.md is absent")
    import re

    table = re.findall(r"^\| `([a-z_]+)` \|", taxonomy.read_text(), flags=re.M)
    assert tuple(table) == forensics.LABELS
