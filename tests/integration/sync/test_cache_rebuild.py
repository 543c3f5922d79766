"""`workbench doctor --rebuild` against a real PostgreSQL: a damaged cache is replaced by one
pulled from the central, its unsent work is sent, the damaged file is kept aside."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.workbench import REQUESTER
from workbench.cli import run
from workbench.store import Store, sync_state
from workbench.store.database import DB_FILENAME
from workbench.sync import central

pytestmark = pytest.mark.services

PAGE = 4096


def wb(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, Any, str]:
    code = run(["--data-dir", str(data_dir), *args, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def _spoil(path: Path, table: str) -> None:
    """Junk over the first page of a table (a bad sector); the other tables stay readable."""
    with sqlite3.connect(path) as db:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * PAGE)
        handle.write(bytes(range(256)) * (PAGE // 256))


def _offline_work(laptop: Laptop, url: str) -> tuple[str, str, int]:
    """A synced ticket, then unsent work: a new ticket and a note on the synced one."""
    synced = laptop.service.create(
        title="Printer jams", category="printing", impact=3, urgency=3, requester=REQUESTER.email
    )
    laptop.sync()
    fresh = laptop.service.create(
        title="Dock dead after update", category="hardware", impact=3, urgency=2
    )
    laptop.service.note(synced.ticket.id, "Replaced the pickup roller")
    with laptop.store.write() as tx:  # as `workbench login` leaves it
        sync_state.set_login(tx, url, "ana.lopez")
        pending = tx.outbox_count()
    laptop.store.close()
    return synced.ticket.id, fresh.ticket.id, pending


def test_rebuild_keeps_the_unsent_work_and_the_damaged_file(
    capsys: pytest.CaptureFixture[str], laptops: Callable[..., Laptop], central_url: str
) -> None:
    laptop = laptops("ana.lopez")
    synced_id, fresh_id, pending = _offline_work(laptop, central_url)
    cache = laptop.data_dir / DB_FILENAME
    with sqlite3.connect(cache) as db:
        client_id = db.execute("SELECT value FROM meta WHERE key = 'client_id'").fetchone()[0]
    _spoil(cache, "tickets")
    damaged_bytes = cache.read_bytes()

    code, found, err = wb(capsys, laptop.data_dir, "ticket", "list")
    assert code == 1 and "doctor --rebuild" in err and len(err.strip().splitlines()) == 1
    code, found, err = wb(capsys, laptop.data_dir, "doctor")
    assert code == 1 and found["unsent"] == pending and "doctor --rebuild" in found["advice"]

    code, done, err = wb(capsys, laptop.data_dir, "doctor", "--rebuild")
    assert code == 0, err
    assert done["kept"] == pending and done["pushed"] == pending and not done["renumbered"]
    assert Path(done["moved_to"]).read_bytes() == damaged_bytes  # kept aside, as it was

    code, found, err = wb(capsys, laptop.data_dir, "doctor")
    assert code == 0 and found["integrity"] == "ok" and found["unsent"] == 0, found
    rebuilt = Store.open(laptop.data_dir)
    try:
        with rebuilt.read() as db:
            assert db.client_id == client_id  # the central knows its operations by this id
            assert db.ticket(fresh_id).title == "Dock dead after update"
            notes = [w.text for w in db.worklog(synced_id)]
            assert notes.count("Replaced the pickup roller") == 1
    finally:
        rebuilt.close()
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        w = central.worklog
        on_central = db.scalar(
            select(func.count()).where(
                w.c.ticket_id == synced_id, w.c.text == "Replaced the pickup roller"
            )
        )
    engine.dispose()
    assert on_central == 1  # sent once, not twice


def test_unreadable_unsent_work_is_left_in_the_damaged_file_and_sync_goes_on(
    capsys: pytest.CaptureFixture[str], laptops: Callable[..., Laptop], central_url: str
) -> None:
    laptop = laptops("ana.lopez")
    _offline_work(laptop, central_url)
    cache = laptop.data_dir / DB_FILENAME
    with sqlite3.connect(cache) as db:
        client_id = db.execute("SELECT value FROM meta WHERE key = 'client_id'").fetchone()[0]
    _spoil(cache, "outbox")
    code, found, err = wb(capsys, laptop.data_dir, "doctor")
    assert code == 1 and any("unsent changes cannot be read" in p for p in found["problems"])
    code, done, err = wb(capsys, laptop.data_dir, "doctor", "--rebuild")
    assert code == 0, err
    assert done["renumbered"] and done["kept"] == 0  # the ops were on the page spoilt
    assert Path(done["moved_to"]).is_file()
    code, synced, err = wb(capsys, laptop.data_dir, "sync")  # no gap: a new client id
    assert code == 0, err
    assert synced["client_id"] != client_id


def test_rebuild_is_refused_without_a_central_or_while_open(
    capsys: pytest.CaptureFixture[str], store: Store, data_dir: Path
) -> None:
    cache = data_dir / DB_FILENAME
    code, _, err = wb(capsys, data_dir, "doctor", "--rebuild")
    assert code == 1 and "open in another Workbench" in err  # the fixture's store is open
    store.close()
    code, _, err = wb(capsys, data_dir, "doctor", "--rebuild")
    assert code == 2 and "names no central database" in err and len(err.strip().splitlines()) == 1
    assert cache.is_file() and not list(data_dir.glob(f"{DB_FILENAME}.damaged-*"))
