"""The shipped trees: each validates against the shipped recipes and every terminal is reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.recipes import catalog_from_dir
from workbench.resources import RESOURCES
from workbench.trees.loader import read_tree_file, tree_id_of
from workbench.trees.model import NodeType

LIBRARY = sorted((RESOURCES / "trees").glob("*.yaml"))
CATALOG = catalog_from_dir(RESOURCES / "recipes")
IDS = {tree_id_of(p.read_text()) for p in LIBRARY}


def test_at_least_ten_trees() -> None:
    assert len(LIBRARY) >= 10 and None not in IDS and len(IDS) == len(LIBRARY)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_shipped_tree_is_clean(path: Path) -> None:
    tree, problems = read_tree_file(path, CATALOG, known_trees={i for i in IDS if i})
    assert problems == [], [str(p) for p in problems]
    assert tree is not None and tree.id == path.stem
    terminals = [n for n in tree.nodes.values() if n.type in (NodeType.RESOLVE, NodeType.ESCALATE)]
    # Both outcomes are offered: what Tier 1 can resolve, and a hand-over with the facts.
    assert {n.type for n in terminals} == {NodeType.RESOLVE, NodeType.ESCALATE}


def test_library_uses_remote_checks() -> None:
    checks = set()
    for path in LIBRARY:
        tree, _problems = read_tree_file(path, CATALOG)
        assert tree is not None
        checks |= {n.recipe for n in tree.nodes.values() if n.type is NodeType.CHECK}
    assert {"windows.print-queue-status", "windows.diagnostics", "windows.driver-list"} <= checks
