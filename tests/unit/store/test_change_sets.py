"""Every commit of the cache yields its change set to the store's subscribers."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.core.changes import ChangeSet
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state


def subscribed(store: Store) -> list[ChangeSet]:
    seen: list[ChangeSet] = []
    store.subscribe(seen.append)
    return seen


def test_a_commit_names_the_tickets_and_tables_it_wrote(
    store: Store, service: TicketService
) -> None:
    seen = subscribed(store)
    ticket = service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket
    assert len(seen) == 1 and seen[0].tickets == {ticket.id}
    assert {"tickets", "worklog", "outbox"} <= seen[0].tables
    service.note(ticket.id, "Called back")
    assert seen[1].tickets == {ticket.id} and "worklog" in seen[1].tables
    with store.write() as tx:
        tx.set_meta("theme", "dark")
    assert seen[2] == ChangeSet(tables=frozenset({"meta"}))
    assert not seen[2].touches({"tickets"}) and seen[2].touches({"meta"})


def test_a_pull_names_the_tickets_it_changed(store: Store, service: TicketService) -> None:
    ticket = service.create(title="Old", category="hardware", impact=3, urgency=3).ticket
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
    server_row = {
        **{name: getattr(ticket, name) for name in ticket.__dataclass_fields__},
        "number": "HD-000042",
        "title": "Changed at the central",
        "sla_pauses": "[]",
        "version": 12,
    }
    seen = subscribed(store)
    with store.write() as tx:
        sync_state.apply_chunk(tx, sync_state.PulledChunk(12, {"tickets": [server_row]}, []))
    assert seen[0].tickets == {ticket.id} and "tickets" in seen[0].tables


def test_a_rolled_back_transaction_yields_nothing_and_a_subscriber_bug_undoes_nothing(
    store: Store,
) -> None:
    seen = subscribed(store)
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.set_meta("theme", "dark")
        raise RuntimeError("refused halfway")
    assert seen == []

    def broken(_changes: ChangeSet) -> None:
        raise ValueError("a view's bug")

    store.subscribe(broken)
    with store.write() as tx:
        tx.set_meta("theme", "light")
    with store.read() as db:
        assert db.meta("theme") == "light"
    assert len(seen) == 1
    store.unsubscribe(broken)


def test_commits_by_another_process_are_noticed_and_own_ones_are_not(
    store: Store, data_dir: Path
) -> None:
    assert not store.committed_elsewhere()  # the first look only starts watching
    with store.write() as tx:
        tx.set_meta("theme", "dark")
    assert not store.committed_elsewhere()
    other = Store.open(data_dir)  # its own engine and connections, like another process
    try:
        with other.write() as tx:
            tx.set_meta("theme", "light")
    finally:
        other.close()
    assert store.committed_elsewhere()
    assert not store.committed_elsewhere()
