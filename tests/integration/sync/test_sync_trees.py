"""Troubleshooting trees and tree runs through the central PostgreSQL: a tree imported on one
laptop reaches the others, a run's state reaches the server, a tree id created on two
laptops at once becomes conflicts instead of one import silently winning."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from workbench.cli import run
from workbench.resources import RESOURCES
from workbench.store import sync_state
from workbench.store import trees as tree_store
from workbench.sync import central

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]
PRINTER = Path(RESOURCES) / "trees" / "printer-not-printing.yaml"


def _central_rows(url: str, table: str) -> list[dict[str, object]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        rows = [dict(r) for r in db.execute(select(central.metadata.tables[table])).mappings()]
    engine.dispose()
    return rows


def _import(laptop: Laptop, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        ["--data-dir", str(laptop.data_dir), "--as", "ana.lopez", "tree", "import", str(path)]
    )
    _, err = capsys.readouterr()
    assert code == 0, err


def test_an_imported_tree_reaches_other_laptops_and_a_run_reaches_the_server(
    laptops: Laptops, central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor", scope="mine")
    _import(ana, PRINTER, capsys)
    ticket = ana.service.create(title="Printer", category="printing", impact=3, urgency=3).ticket
    started = datetime.now(UTC)
    run_id = str(uuid.uuid4())
    with ana.store.write() as tx:
        stored = tree_store.stored_tree(tx, "printer-not-printing")
        assert stored is not None
        tree_store.insert_tree_run(
            tx,
            tree_store.TreeRunRecord(
                run_id, stored.id, stored.tree_version, stored.digest, ticket.id, "ana.lopez",
                "open", json.dumps({"node": "powered", "answers": []}), started, started,
            ),
        )  # fmt: skip
    assert ana.sync().pushed == 4  # the tree, the ticket, its opening entry, the run

    (tree_row,) = _central_rows(central_url, "trees")
    assert (tree_row["id"], tree_row["source"]) == (stored.id, stored.source)
    assert not ben.sync().mismatched  # trees are reference data: in every scope
    with ben.store.read() as db:
        pulled = tree_store.stored_tree(db, "printer-not-printing")
    assert pulled is not None and (pulled.digest, pulled.source) == (stored.digest, stored.source)

    # The run goes on: its state (the transcript so far) reaches the server.
    state = json.dumps({"node": "hostname", "answers": [["powered", "Yes"]]})
    with ana.store.write() as tx:
        tree_store.update_tree_run(tx, run_id, "open", state, started + timedelta(minutes=2))
    ana.sync()
    (run_row,) = _central_rows(central_url, "tree_runs")
    assert (run_row["ticket_id"], run_row["state"], run_row["changed_by"]) == (
        ticket.id,
        state,
        "ana.lopez",
    )
    # Ben (tier 2) does not hold Ana's tier-1 ticket, nor its runs; Cara (all) does.
    with ben.store.read() as db:
        assert tree_store.tree_runs_of_ticket(db, ticket.id) == []
    cara = laptops("cara.nguyen")
    with cara.store.read() as db:
        (seen,) = tree_store.tree_runs_of_ticket(db, ticket.id)
    assert seen.state == state


def test_one_tree_id_imported_on_two_laptops_makes_conflicts_for_both(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    changed = tmp_path / "printer-not-printing.yaml"
    changed.write_text(
        PRINTER.read_text().replace("title: Printer does not print", "title: Printer is silent")
    )
    _import(ana, PRINTER, capsys)
    _import(ben, changed, capsys)
    ana.sync()
    report = ben.sync()  # his insert finds Ana's tree there

    assert report.pushed == 1 and report.new_conflicts >= 1
    (tree_row,) = _central_rows(central_url, "trees")
    assert tree_row["title"] == "Printer does not print"  # the first one stands
    ana.sync()
    for laptop in (ana, ben):
        with laptop.store.read() as db:
            found = {c.field: c for c in sync_state.conflicts(db)}
        assert (found["title"].their_value, found["title"].mine_value) == (
            "Printer does not print",
            "Printer is silent",
        )
        assert found["title"].my_author == "ben.okafor"


def test_a_tree_created_twice_and_edited_again_on_the_second_laptop_does_not_overwrite(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    first, second = tmp_path / "v1", tmp_path / "v2"
    first.mkdir()
    second.mkdir()
    source = PRINTER.read_text()
    (first / PRINTER.name).write_text(
        source.replace("title: Printer does not print", "title: Printer is silent")
    )
    (second / PRINTER.name).write_text(
        source.replace("title: Printer does not print", "title: Printer is silent (v2)").replace(
            "\nversion: 2\n", "\nversion: 3\n"
        )
    )
    _import(ana, PRINTER, capsys)
    ana.sync()
    _import(ben, first / PRINTER.name, capsys)  # his own tree of that id, offline ...
    _import(ben, second / PRINTER.name, capsys)  # ... and his fix of it, still offline

    report = ben.sync()

    (tree_row,) = _central_rows(central_url, "trees")
    assert tree_row["title"] == "Printer does not print"  # Ana's, synced first, stands
    ana.sync()
    with ana.store.read() as db:
        titles = [c.mine_value for c in sync_state.conflicts(db) if c.field == "title"]
    # Both of Ben's titles are put to a person; neither replaced Ana's silently.
    assert report.new_conflicts >= 2 and "Printer is silent (v2)" in titles
