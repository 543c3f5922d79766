"""The cache's side of sync and the protocol's pure parts, without a server."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import OperationalError

from workbench.core.errors import BadInput, NotFound
from workbench.core.query import TicketQuery
from workbench.services.tickets import TicketService
from workbench.store import Store, schema, sync_state
from workbench.sync import central, server


def test_content_hash_is_stable_and_covers_every_part(store: Store, service: TicketService) -> None:
    service.create(title="Laptop", category="hardware", impact=3, urgency=3)
    with store.read() as db:
        op = db.outbox()[0]
    assert server.content_hash(op) == server.content_hash(replace(op, fields=dict(op.fields)))
    changed = [
        replace(op, fields={**op.fields, "title": "Desktop"}),
        replace(op, base_version=op.base_version + 1),
        replace(op, entity_id="other"),
        replace(op, op="update"),
    ]
    assert len({server.content_hash(other) for other in [op, *changed]}) == 5
    # Who sent it and under which number is the log's key, not part of the content.
    assert server.content_hash(replace(op, client_id="x", mutation_id=99)) == (
        server.content_hash(op)
    )


def test_new_client_id_renumbers_pending_operations_in_order(
    store: Store, service: TicketService
) -> None:
    ticket = service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket
    service.note(ticket.id, "first")
    service.note(ticket.id, "second")
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 2)  # the ticket and its opening entry
        before = tx.outbox()
        new_id = sync_state.take_new_client_id(tx)
        after = tx.outbox()
    assert [op.mutation_id for op in before] == [3, 4]
    assert [op.mutation_id for op in after] == [1, 2]
    assert {op.client_id for op in after} == {new_id} != {before[0].client_id}
    assert [(op.entity_id, op.fields) for op in after] == [
        (op.entity_id, op.fields) for op in before
    ]
    service.note(ticket.id, "third")
    with store.read() as db:
        assert [op.mutation_id for op in db.outbox()] == [1, 2, 3]


def test_resolving_an_unknown_or_settled_conflict_is_refused(store: Store) -> None:
    with store.write() as tx:
        with pytest.raises(NotFound, match="no conflict 7"):
            sync_state.resolve_conflict(tx, 7, "mine", "ana.lopez")
        with pytest.raises(BadInput, match="theirs"):
            sync_state.resolve_conflict(tx, 7, "both", "ana.lopez")


def test_urls_are_checked_and_never_shown_with_their_password() -> None:
    url = "postgresql://ana:hunter2@db.example:5433/helpdesk?sslmode=verify-full"
    assert "hunter2" not in central.masked(url)
    parsed = central.parse_url(url)
    assert (parsed.drivername, parsed.query["sslmode"]) == ("postgresql+psycopg", "verify-full")
    for bad, message in [
        ("mysql://ana@db/helpdesk", "PostgreSQL"),
        ("postgresql://ana@db", "names no database"),
        ("not a url", "not a database URL"),
    ]:
        with pytest.raises(BadInput, match=message):
            central.parse_url(bad)


def test_a_password_in_the_urls_query_is_treated_as_its_password() -> None:
    url = "postgresql://ana@db.example/helpdesk?connect_timeout=2&password=hunter2"
    assert central.masked(url) == "postgresql://ana:***@db.example/helpdesk?connect_timeout=2"
    parsed = central.parse_url(url)  # what connects, and what the keyring account is made of
    assert parsed.password == "hunter2" and dict(parsed.query) == {"connect_timeout": "2"}
    error = central.unreachable(url, OperationalError("SELECT 1", {}, Exception("refused")))
    assert "hunter2" not in str(error)


def test_a_client_key_passphrase_in_the_url_is_refused_and_never_shown() -> None:
    url = "postgresql://ana@db.example/helpdesk?sslcert=a.crt&sslpassword=hunter2"
    assert "hunter2" not in central.masked(url)
    with pytest.raises(BadInput, match="sslpassword") as refused:
        central.parse_url(url)
    assert "hunter2" not in str(refused.value)


def test_a_pulled_row_gets_the_pending_edit_on_top(store: Store, service: TicketService) -> None:
    ticket = service.create(title="Old", category="hardware", impact=3, urgency=3).ticket
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
    service.update(ticket.id, {"title": "Mine, not sent yet"})
    server_row = {
        **{name: getattr(ticket, name) for name in ticket.__dataclass_fields__},
        "number": "HD-000042",
        "description": "changed by someone else",
        "sla_pauses": "[]",
        "version": 12,
    }
    chunk = sync_state.PulledChunk(12, {"tickets": [server_row]}, [])
    with store.write() as tx:
        sync_state.apply_chunk(tx, chunk)
    shown = service.detail("HD-42").ticket
    assert (shown.title, shown.description, shown.version) == (
        "Mine, not sent yet",
        "changed by someone else",
        12,
    )
    assert service.detail(ticket.provisional_ref or "").ticket.id == ticket.id
    with store.read() as db:
        assert sync_state.cursor(db) == 12
        (pending,) = [op for op in db.outbox() if op.entity == "ticket"]  # still to be sent
    assert pending.fields["title"] == "Mine, not sent yet"


def _mine(login: str = "ana.lopez", tier: int = 1) -> sync_state.Scope:
    return sync_state.Scope("mine", login, tier, (), datetime.now(UTC) - sync_state.CLOSED_KEPT)


def test_eviction_follows_the_scope_and_spares_pending_work(
    store: Store, service: TicketService
) -> None:
    mine = service.create(title="Keyboard", category="hardware", impact=3, urgency=3).ticket
    moved = service.create(
        title="Plotter", category="hardware", impact=3, urgency=3, asset="WA-004217"
    ).ticket
    service.escalate(moved.id, "on site")  # tier 2, unassigned: outside a tier-1 scope
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
    service.note(moved.id, "still working on it")  # pending: it must stay

    with store.write() as tx:
        assert sync_state.evict_out_of_scope(tx, _mine()) == 0
    assert {s.ticket.id for s in service.find(TicketQuery())} == {mine.id, moved.id}
    with store.read() as db:
        assert db.asset("asset-1") is not None  # its ticket is still here

    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)  # the note reached the server
        assert sync_state.evict_out_of_scope(tx, _mine()) == 1
    assert {s.ticket.id for s in service.find(TicketQuery())} == {mine.id}
    assert service.search("Plotter") == []
    with store.read() as db:
        assert db.worklog(moved.id) == ()
        assert db.asset("asset-1") is None  # not of her sites, no ticket of hers needs it
    with store.write() as tx:  # scope all keeps everything
        assert sync_state.evict_out_of_scope(tx, replace(_mine(), mode="all")) == 0
    assert {s.ticket.id for s in service.find(TicketQuery())} == {mine.id}


def test_a_ticket_gone_from_the_scope_in_a_pull_waits_for_its_pending_work(
    store: Store, service: TicketService
) -> None:
    ticket = service.create(title="Scanner", category="hardware", impact=3, urgency=3).ticket
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
    service.note(ticket.id, "pending")
    with store.write() as tx:
        sync_state.apply_chunk(tx, sync_state.PulledChunk(20, {}, [], gone=[ticket.id]))
        kept = json.loads(tx.meta(sync_state.OUT_OF_SCOPE) or "[]")
    assert kept == [ticket.id]
    assert service.detail(ticket.id).ticket.id == ticket.id
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
        # Locally it still looks like hers (the server's change never came): the record of
        # its leaving is what evicts it.
        assert sync_state.evict_out_of_scope(tx, _mine()) == 1
        assert tx.meta(sync_state.OUT_OF_SCOPE) == "[]"
    with pytest.raises(NotFound):
        service.detail(ticket.id)


def test_the_scope_setting_is_checked() -> None:
    with pytest.raises(BadInput, match="mine, all"):
        sync_state.set_login(None, "postgresql://db/x", "ana", "everything")  # type: ignore[arg-type]


def test_rows_the_server_did_not_send_go_unless_work_here_needs_them(
    store: Store, service: TicketService
) -> None:
    noted = service.create(title="Keyboard", category="hardware", impact=3, urgency=3).ticket
    resent = service.create(title="Plotter", category="hardware", impact=3, urgency=3).ticket
    ghost = service.create(title="Monitor", category="hardware", impact=3, urgency=3).ticket
    made_here = service.create(title="Scanner", category="hardware", impact=3, urgency=3).ticket
    with store.write() as tx:
        sync_state.acknowledge(tx, tx.client_id, 99)
        # The monitor came from the server (as demo data does: a version, no opening entry
        # written here); the scanner never did, and goes only by its author's decision.
        tx._db.execute(
            update(schema.tickets).where(schema.tickets.c.id == ghost.id).values(version=4)
        )
        tx._db.execute(delete(schema.worklog).where(schema.worklog.c.ticket_id == ghost.id))
        # The server refused the plotter whole; "apply mine" sends it again, still pending.
        tx._db.execute(
            insert(schema.conflicts).values(
                id=1,
                entity="ticket",
                entity_id=resent.id,
                field=sync_state.WHOLE_ROW,
                their_value="null",
                their_author=server.NO_ROW,
                mine_value="{}",
                my_author="ana.lopez",
                created_at=datetime.now(UTC),
            )
        )
        sync_state.resolve_conflict(tx, 1, "mine", "ana.lopez")
    service.note(noted.id, "pending")

    with store.write() as tx:  # a pull from the start that brought none of them
        dropped = sync_state.drop_unpulled(tx, {"tickets": set(), "worklog": set()})

    assert dropped == 1  # the monitor
    assert {s.ticket.id for s in service.find(TicketQuery())} == {noted.id, resent.id, made_here.id}
    assert len(service.detail(noted.id).worklog) == 2
    assert len(service.detail(resent.id).worklog) == 1
    assert service.search("Monitor") == []
    assert len(service.detail(made_here.id).worklog) == 1
    with store.read() as db:
        assert sync_state.not_compared(db)["tickets"] == {noted.id, resent.id}
