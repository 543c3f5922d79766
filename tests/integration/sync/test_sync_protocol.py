"""Push and pull against a real PostgreSQL: fields, conflicts, idempotency, restores, faults."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine, delete, func, select, text
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from workbench.cli import run
from workbench.core.errors import WorkbenchError
from workbench.core.models import Ticket
from workbench.core.query import TicketQuery
from workbench.store import Store, sync_state
from workbench.store.database import DB_FILENAME
from workbench.store.schema import worklog
from workbench.store.sync_state import PulledChunk, Scope
from workbench.sync import central, client, server
from workbench.sync.client import SyncStopped

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]
# Holds the lock of the file named by argv[1] until its stdin closes.
HOLD_LOCK = """
import sys
from filelock import FileLock
with FileLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _count(url: str, table: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        found = db.scalar(select(func.count()).select_from(central.metadata.tables[table]))
    engine.dispose()
    return int(found or 0)


def _central_ticket(url: str, ticket_id: str) -> dict[str, object]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        row = db.execute(select(central.tickets).where(central.tickets.c.id == ticket_id))
        found = dict(row.mappings().one())
    engine.dispose()
    return found


def test_new_ticket_gets_a_central_number_and_keeps_its_provisional_ref(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    created = ana.service.create(title="Printer jams", category="hardware", impact=3, urgency=3)
    provisional = created.ticket.provisional_ref
    assert provisional is not None and created.ticket.number is None

    report = ana.sync()

    assert report.pushed == 2  # the ticket and its opening worklog entry
    assert ana.pending == 0
    number = _central_ticket(central_url, created.ticket.id)["number"]
    assert isinstance(number, str) and number.startswith("HD-")
    local = ana.service.detail(provisional)  # the provisional ref still finds it
    assert local.ticket.number == number
    assert [hit.summary.ticket.id for hit in ana.service.search(provisional)] == [created.ticket.id]


def test_two_laptops_editing_different_fields_both_apply(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket = ana.service.create(title="VPN drops", category="network", impact=2, urgency=2).ticket
    ana.sync()
    ben.sync()

    ana.service.update(ticket.id, {"title": "VPN drops every hour"})
    ben.service.update(ticket.id, {"description": "since the router swap"})
    assert ana.sync().new_conflicts == 0
    assert ben.sync().new_conflicts == 0
    ana.sync()

    for laptop in (ana, ben):
        seen = laptop.service.detail(ticket.id).ticket
        assert (seen.title, seen.description) == ("VPN drops every hour", "since the router swap")
    row = _central_ticket(central_url, ticket.id)
    assert (row["title"], row["description"]) == ("VPN drops every hour", "since the router swap")
    assert _count(central_url, "conflicts") == 0


def test_an_edit_made_during_a_pull_is_not_taken_as_having_seen_the_pulled_value(
    laptops: Laptops, central_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket = ana.service.create(title="Scanner", category="hardware", impact=3, urgency=3).ticket
    ana.sync()
    ben.sync()
    ana.service.update(ticket.id, {"title": "Scanner offline (ana)"})
    ana.sync()
    read_window = server.read_window

    def typing_meanwhile(*args: Any, **kwargs: Any) -> PulledChunk:
        monkeypatch.setattr(server, "read_window", read_window)
        ben.service.update(ticket.id, {"title": "Scanner jammed (ben 1)"})  # while it pulls
        return read_window(*args, **kwargs)

    monkeypatch.setattr(server, "read_window", typing_meanwhile)
    ben.sync()
    # Ben's screen still shows his pending title; Ana's was never on it.
    assert ben.service.detail(ticket.id).ticket.title == "Scanner jammed (ben 1)"
    ben.service.update(ticket.id, {"title": "Scanner jammed (ben 2)"})

    assert ben.sync().new_conflicts == 2  # both of his edits meet Ana's, neither wins silently
    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner offline (ana)"
    ana.sync()
    with ana.store.read() as db:
        mine = sorted(c.mine_value for c in sync_state.conflicts(db) if c.field == "title")
    assert mine == ["Scanner jammed (ben 1)", "Scanner jammed (ben 2)"]


def title_conflict(ana: Laptop, ben: Laptop) -> tuple[Ticket, sync_state.Conflict]:
    """Ana and Ben retitle one ticket; Ana's came first: Ben's push makes a conflict."""
    ticket = ana.service.create(title="Scanner", category="hardware", impact=3, urgency=3).ticket
    ana.sync()
    ben.sync()
    ana.service.update(ticket.id, {"title": "Scanner offline"})
    ben.service.update(ticket.id, {"title": "Scanner paper jam"})
    ana.sync()
    assert ben.sync().new_conflicts == 1
    ana.sync()
    with ana.store.read() as db:
        (conflict,) = sync_state.conflicts(db)
    return ticket, conflict


def test_same_field_makes_one_conflict_seen_by_both_and_resolvable(laptops: Laptops) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket, _ = title_conflict(ana, ben)

    for laptop in (ana, ben):
        with laptop.store.read() as db:
            (conflict,) = sync_state.conflicts(db)
        assert (conflict.field, conflict.their_value, conflict.their_author) == (
            "title",
            "Scanner offline",
            "ana.lopez",
        )
        assert (conflict.mine_value, conflict.my_author) == ("Scanner paper jam", "ben.okafor")
        # The server's value stands until someone decides.
        assert laptop.service.detail(ticket.id).ticket.title == "Scanner offline"

    with ben.store.write() as tx:
        sync_state.resolve_conflict(tx, conflict.id, "mine", "ben.okafor")
    assert ben.service.detail(ticket.id).ticket.title == "Scanner paper jam"
    ben.sync()
    ana.sync()
    for laptop in (ana, ben):
        assert laptop.service.detail(ticket.id).ticket.title == "Scanner paper jam"
        with laptop.store.read() as db:
            assert sync_state.conflicts(db) == []
            (done,) = sync_state.conflicts(db, include_resolved=True)
        assert (done.resolution, done.resolved_by) == ("mine", "ben.okafor")


def test_a_pushed_batch_sent_again_is_recognised_not_reapplied(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    ticket = ana.service.create(title="Mouse", category="hardware", impact=3, urgency=3).ticket
    ana.service.note(ticket.id, "swapped the mouse", minutes=5)
    with ana.store.read() as db:
        ops = db.outbox()
    engine = central.connect(central_url)
    with engine.begin() as db:
        first = server.push_batch(db, "ana.lopez", ops)
    with engine.begin() as db:
        again = server.push_batch(db, "ana.lopez", ops)
    engine.dispose()

    assert (first.applied, first.duplicates) == (3, 0)
    assert (again.applied, again.duplicates, again.restored) == (0, 3, False)
    # The acknowledgement was "lost": the laptop still sends everything, nothing doubles.
    assert ana.sync().duplicates == 3
    assert ana.pending == 0
    assert _count(central_url, "worklog") == 2
    assert _count(central_url, "tickets") == 1


def test_a_second_process_syncing_the_same_cache_is_refused_and_changes_nothing(
    laptops: Laptops, central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = laptops("ana.lopez")
    ana.service.create(title="Projector", category="hardware", impact=3, urgency=3)
    with ana.store.write() as tx:
        sync_state.set_login(tx, central_url, "ana.lopez")
    # Another process (say the window's timer) is in the middle of a round.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(ana.store.path.with_name(client.SYNC_LOCK_NAME))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        capsys.readouterr()
        assert run(["--data-dir", str(ana.data_dir), "sync"]) == 1
        assert "another sync of this cache is running" in capsys.readouterr().err
        assert ana.pending == 2 and _count(central_url, "tickets") == 0
    finally:
        holder.communicate("")  # it lets go and ends
    assert ana.sync().pushed == 2  # the lock went with the process


def test_a_gap_in_mutation_ids_is_rejected_and_changes_nothing(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    ana.service.create(title="Badge reader", category="hardware", impact=3, urgency=3)
    with ana.store.read() as db:
        ops = db.outbox()
    engine = central.connect(central_url)
    with pytest.raises(server.PushRejected, match="gap"), engine.begin() as db:
        server.push_batch(db, "ana.lopez", ops[1:])
    engine.dispose()
    assert _count(central_url, "mutation_log") == 0
    assert _count(central_url, "worklog") == 0
    ana.sync()
    assert _count(central_url, "worklog") == 1


def test_a_laptop_restored_from_backup_renumbers_and_loses_nothing(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    ticket = ana.service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket
    ana.sync()
    ana.service.note(ticket.id, "before the backup, pending")
    backup = ana.data_dir.parent / "backup.sqlite3"
    live, copy = sqlite3.connect(ana.store.path), sqlite3.connect(backup)
    live.backup(copy)
    live.close()
    copy.close()
    ana.service.note(ticket.id, "after the backup, synced, then the disk died")
    ana.sync()
    old_client = ana.reports[-1].client_id

    # The disk dies; yesterday's file comes back, and work goes on before the next sync.
    ana.store.close()
    for leftover in ("-wal", "-shm"):
        ana.data_dir.joinpath(DB_FILENAME + leftover).unlink(missing_ok=True)
    shutil.copyfile(backup, ana.data_dir / DB_FILENAME)
    ana.store.engine = Store.open(ana.data_dir).engine  # the service and sync keep this Store
    ana.service.note(ticket.id, "after the restore")
    report = ana.sync()

    assert report.renumbered and report.client_id != old_client
    assert ana.pending == 0
    texts = sorted(w.text for w in ana.service.detail(ticket.id).worklog if w.kind.value == "note")
    assert texts == sorted(
        [
            "before the backup, pending",
            "after the backup, synced, then the disk died",
            "after the restore",
        ]
    )
    assert _count(central_url, "worklog") == 4  # the opening entry and three notes, once each


def _terminate_after(monkeypatch: pytest.MonkeyPatch, url: str, operations: int) -> None:
    """Make the server drop the pushing connection after `operations` applied operations."""
    real_apply = server._Batch.apply
    seen = {"n": 0}

    def apply(batch: server._Batch, op: object) -> None:
        real_apply(batch, op)  # type: ignore[arg-type]
        seen["n"] += 1
        if seen["n"] == operations:
            pid = batch.db.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            admin = create_engine(url, poolclass=NullPool)
            with admin.connect() as db:
                db.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()

    monkeypatch.setattr(server._Batch, "apply", apply)


def test_connection_dropped_mid_push_loses_nothing(
    laptops: Laptops, central_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = laptops("ana.lopez", batch=4)
    ticket = ana.service.create(title="Wi-Fi", category="network", impact=3, urgency=3).ticket
    for n in range(6):
        ana.service.note(ticket.id, f"note {n}")
    _terminate_after(monkeypatch, central_url, 6)  # in the second batch

    with pytest.raises(WorkbenchError, match="central database"):
        ana.sync()
    assert ana.pending == 4  # the first batch of four was committed and acknowledged
    monkeypatch.undo()

    ana.sync()
    assert ana.pending == 0
    assert _count(central_url, "worklog") == 7
    assert _count(central_url, "mutation_log") == 8


def test_lost_acknowledgement_after_commit_sends_again_without_duplicates(
    laptops: Laptops, central_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = laptops("ana.lopez")
    ana.service.create(title="Monitor", category="hardware", impact=3, urgency=3)

    def crash(*_args: object) -> int:
        raise OSError("the laptop lost power")

    monkeypatch.setattr(sync_state, "acknowledge", crash)
    with pytest.raises(OSError, match="power"):
        ana.sync()
    monkeypatch.undo()
    assert ana.pending == 2

    assert ana.sync().duplicates == 2
    assert (_count(central_url, "tickets"), _count(central_url, "worklog")) == (1, 1)


def test_connection_dropped_mid_pull_resumes_from_the_last_window(
    laptops: Laptops, central_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ben = laptops("ben.okafor", window=3)  # has the reference data (versions 1-6) only
    ana = laptops("ana.lopez")
    ticket = ana.service.create(title="Phone", category="phone", impact=3, urgency=3).ticket
    for n in range(10):
        ana.service.note(ticket.id, f"call {n}")
    ana.sync()  # versions 7-18: the ticket, its opening entry and ten notes

    real_read = server.read_window
    calls = {"n": 0}

    def read(db: Connection, after: int, upper: int, scope: Scope | None = None) -> PulledChunk:
        calls["n"] += 1
        if calls["n"] == 2:
            pid = db.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            admin = create_engine(central_url, poolclass=NullPool)
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.dispose()
        return real_read(db, after, upper, scope)

    monkeypatch.setattr(server, "read_window", read)
    with pytest.raises(WorkbenchError, match="central database"):
        ben.sync()
    with ben.store.read() as db:
        assert sync_state.cursor(db) == 9  # the window (6, 9] was applied, with its cursor
    assert len(ben.service.detail(ticket.id).worklog) == 2
    monkeypatch.undo()

    ben.sync()
    assert len(ben.service.detail(ticket.id).worklog) == 11
    with ben.store.read() as db:
        assert sync_state.cursor(db) == 18


def test_sanity_check_resyncs_a_cache_that_lost_rows_and_keeps_its_outbox(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    ticket = ana.service.create(title="Toner", category="printing", impact=3, urgency=3).ticket
    ana.service.note(ticket.id, "ordered toner")
    ana.sync()
    assert not ana.reports[-1].resynced
    with ana.store.write() as tx:  # a row vanishes from the cache behind the sync's back
        tx._db.exec_driver_sql("DELETE FROM worklog WHERE text = 'ordered toner'")
    ana.service.note(ticket.id, "toner arrived")  # pending while the check runs

    report = ana.sync()

    assert report.resynced and report.mismatched == ()
    notes = {w.text for w in ana.service.detail(ticket.id).worklog}
    assert {"ordered toner", "toner arrived"} <= notes
    assert ana.pending == 0
    assert _count(central_url, "worklog") == 3


def test_concurrent_pushes_are_serialised_by_the_clock_row(
    laptops: Laptops, central_url: str
) -> None:
    crew = [laptops(login, batch=3) for login in ("ana.lopez", "ben.okafor", "cara.nguyen")]
    for n, laptop in enumerate(crew):
        ticket = laptop.service.create(title=f"desk {n}", category="other", impact=3, urgency=3)
        for k in range(12):
            laptop.service.note(ticket.ticket.id, f"note {n}.{k}")
    threads = [threading.Thread(target=laptop.sync) for laptop in crew]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for laptop in crew:
        laptop.sync()

    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        versions = [
            v for table in central.SYNCED for v in db.execute(select(table.c.version)).scalars()
        ]
        clock = db.scalar(select(central.sync_clock.c.clock))
    engine.dispose()
    assert len(versions) == len(set(versions)) and max(versions) == clock  # one per change
    assert _count(central_url, "worklog") == 3 * 13
    for laptop in crew:
        assert laptop.pending == 0
        assert len(laptop.service.find(TicketQuery())) == 3


def test_central_migrations_match_the_tables_the_code_uses(central_url: str) -> None:
    assert central.init_central(central_url) == "c0004"  # again: nothing to do, no error
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        diff = compare_metadata(MigrationContext.configure(db), central.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize(("offset", "flagged"), [(timedelta(days=1), True), (timedelta(0), False)])
def test_a_client_clock_far_off_the_servers_is_flagged(
    laptops: Laptops, monkeypatch: pytest.MonkeyPatch, offset: timedelta, flagged: bool
) -> None:
    ana = laptops("ana.lopez")

    class SkewedClock(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> SkewedClock:
            return super().now(tz) + offset  # type: ignore[return-value]

    monkeypatch.setattr(client, "datetime", SkewedClock)
    report = ana.sync()
    assert report.clock_flagged is flagged
    assert abs(report.clock_skew_s - offset.total_seconds()) < 60


def _local_only_ticket(laptop: Laptop, after_sync: bool = False) -> Ticket:
    """A ticket only this cache has (as demo data): created, then its operations forgotten."""
    with laptop.store.read() as db:
        next_id = db.next_mutation_id
    made = laptop.service.create(title="Demo", category="hardware", impact=3, urgency=3).ticket
    with laptop.store.write() as tx:
        tx._db.exec_driver_sql("DELETE FROM outbox")
        if after_sync:  # only its own opening entry: the others came from the server
            tx._db.execute(delete(worklog).where(worklog.c.ticket_id == made.id))
        else:
            tx._db.exec_driver_sql("DELETE FROM worklog")  # its opening entry was never sent
        tx.set_meta("next_mutation_id", str(next_id))
    return made


def test_an_update_of_a_row_the_server_lacks_is_a_visible_conflict_not_a_blocked_outbox(
    laptops: Laptops, central_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    # A ticket that only this cache has (as demo data does): created without its operations.
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    real = ana.service.create(title="Real", category="hardware", impact=3, urgency=3).ticket
    ana.service.note(real.id, "after the refused one")

    report = ana.sync()

    assert ana.pending == 0  # nothing blocked, nothing dropped silently
    # The edit and its worklog entry (whose ticket the server lacks) are refused, visibly.
    assert report.new_conflicts == 2 and report.open_conflicts == 2
    assert _central_ticket(central_url, real.id)["title"] == "Real"
    assert _count(central_url, "worklog") == 2  # Real's opening entry and the note
    ben.sync()
    for laptop in (ana, ben):  # visible to everyone, like any conflict
        with laptop.store.read() as db:
            edit, entry = sync_state.conflicts(db)
        assert (edit.entity, edit.entity_id, edit.field) == ("ticket", local.id, "*")
        assert edit.their_value is None and edit.their_author == server.NO_ROW
        assert edit.mine_value["title"] == "Demo, edited"
        assert (entry.entity, entry.field, entry.mine_value["ticket_id"]) == (
            "worklog",
            "*",
            local.id,
        )
        assert local.id in entry.their_author
        assert edit.my_author == entry.my_author == "ana.lopez"
    capsys.readouterr()
    assert run(["--data-dir", str(ben.data_dir), "conflicts", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.count("(whole row)") == 2 and server.NO_ROW in listed

    # "Apply mine" sends the rows as this cache has them; the ticket gets a central number.
    with ana.store.write() as tx:
        for conflict in (edit, entry):
            sync_state.resolve_conflict(tx, conflict.id, "mine", "ana.lopez")
    report = ana.sync()
    assert (report.new_conflicts, report.mismatched, ana.pending) == (0, (), 0)
    row = _central_ticket(central_url, local.id)
    assert row["title"] == "Demo, edited" and str(row["number"]).startswith("HD-")
    ben.sync()
    assert ben.service.detail(local.id).ticket.title == "Demo, edited"
    assert len(ben.service.detail(local.id).worklog) == 1
    with ben.store.read() as db:
        assert sync_state.conflicts(db) == []


def test_a_row_pointing_to_a_parent_the_server_lacks_is_refused_among_existing_parents(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ana.service.create(title="Real", category="hardware", impact=3, urgency=3)
    ana.sync()  # the server's tickets table is not empty: the check must still look at ids
    local = _local_only_ticket(ana, after_sync=True)
    ana.service.note(local.id, "a note on a ticket only this cache has")

    report = ana.sync()
    assert (report.new_conflicts, report.renumbered) == (1, False)  # refused, visibly
    assert _count(central_url, "worklog") == 1  # Real's opening entry; no orphan
    assert ben.sync().mismatched == ()  # other caches keep pulling


def test_keep_theirs_settles_a_refused_update_without_sending_the_row(
    laptops: Laptops, central_url: str
) -> None:
    ana = laptops("ana.lopez")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    ana.sync()
    with ana.store.write() as tx:
        refused = sync_state.conflicts(tx)  # the edit and its worklog entry
        for conflict in refused:
            sync_state.resolve_conflict(tx, conflict.id, "theirs", "ana.lopez")
    assert len(refused) == 2
    assert ana.sync().pushed == 2  # the two decisions, no rows
    assert (_count(central_url, "tickets"), _count(central_url, "worklog")) == (0, 0)
    with ana.store.read() as db:
        assert sync_state.conflicts(db) == []


def test_a_sync_asked_to_stop_ends_at_its_next_commit_and_the_next_goes_on(
    laptops: Laptops, monkeypatch: pytest.MonkeyPatch
) -> None:
    ben = laptops("ben.okafor", window=3)
    ana = laptops("ana.lopez", batch=2)
    ticket = ana.service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket
    for n in range(6):
        ana.service.note(ticket.id, f"call {n}")
    # Ana closes her window while her push is on its way: one batch of two is committed.
    real_push = server.push_batch

    def push_then_close(*args: Any) -> Any:
        result = real_push(*args)
        ana.sync_with.stop.set()
        return result

    monkeypatch.setattr(server, "push_batch", push_then_close)
    with pytest.raises(SyncStopped):
        ana.sync()
    assert ana.pending == 8 - 2  # ticket, opening entry, six notes: the first batch is sent
    monkeypatch.undo()
    ana.sync_with.stop.clear()
    ana.sync()
    assert ana.pending == 0

    # Ben closes his window after the first window of his pull: that window and its cursor stay.
    real_apply = sync_state.apply_chunk

    def apply_then_close(tx: Any, chunk: PulledChunk) -> None:
        real_apply(tx, chunk)
        ben.sync_with.stop.set()

    monkeypatch.setattr(sync_state, "apply_chunk", apply_then_close)
    with ben.store.read() as db:
        before = sync_state.cursor(db)
    with pytest.raises(SyncStopped):
        ben.sync()
    with ben.store.read() as db:
        assert sync_state.cursor(db) == before + 3
    monkeypatch.undo()
    ben.sync_with.stop.clear()
    ben.sync()
    assert len(ben.service.detail(ticket.id).worklog) == 7  # opening entry and six calls
