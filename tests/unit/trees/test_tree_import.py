"""Importing trees into the cache: validated first, all or none, versions only go up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.recipes import catalog_from_dir
from tests.support.workbench import Clock
from workbench.core.errors import BadInput
from workbench.resources import RESOURCES
from workbench.services.tickets import TicketService
from workbench.store import trees as tree_store
from workbench.trees.service import TreeService

CATALOG = catalog_from_dir(RESOURCES / "recipes")
PRINTER = RESOURCES / "trees" / "printer-not-printing.yaml"
BROKEN = Path(__file__).with_name("fixtures") / "dangling_next.yaml"


@pytest.fixture
def trees(service: TicketService, tmp_path: Path, clock: Clock) -> TreeService:
    empty_library = tmp_path / "library"
    empty_library.mkdir()
    return TreeService(service, CATALOG, empty_library, clock)


def _stored(trees: TreeService) -> list[tuple[str, int]]:
    with trees.store.read() as db:
        return [(t.id, t.tree_version) for t in tree_store.stored_trees(db)]


def test_a_broken_file_stores_nothing(trees: TreeService) -> None:
    refusal = r"nothing imported: 1 error, the first: .*dangling_next.yaml:11:29"
    with pytest.raises(BadInput, match=refusal):
        trees.import_files([PRINTER, BROKEN])
    assert _stored(trees) == []
    with trees.store.read() as db:
        assert db.outbox() == ()


def test_import_update_and_version_rule(trees: TreeService, tmp_path: Path) -> None:
    copy = tmp_path / "printer.yaml"
    shutil.copy(PRINTER, copy)
    assert [r for _t, r in trees.import_files([copy])] == ["imported"]
    assert [r for _t, r in trees.import_files([copy])] == ["unchanged"]
    assert [i.origin for i in trees.infos()] == ["cache"]
    copy.write_text(copy.read_text().replace("Printer does not print", "Printer is silent"))
    with pytest.raises(BadInput, match="version 2 is already stored with other content"):
        trees.import_files([copy])
    copy.write_text(copy.read_text().replace("version: 2", "version: 3"))
    assert [r for _t, r in trees.import_files([copy])] == ["updated"]
    assert _stored(trees) == [("printer-not-printing", 3)]
    assert trees.tree("printer-not-printing").title == "Printer is silent"
    with trees.store.read() as db:
        ops = [(o.entity, o.op, o.base_version) for o in db.outbox() if o.entity == "tree"]
    assert ops == [("tree", "insert", 0), ("tree", "update", 0)]
