"""Settling conflicts against a real PostgreSQL: both sides deciding, refused rows, ghosts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import update

from tests.integration.sync.conftest import Laptop
from tests.integration.sync.test_sync_protocol import (
    _central_ticket,
    _count,
    _local_only_ticket,
    title_conflict,
)
from workbench.core.errors import BadInput, NotFound
from workbench.store import sync_state
from workbench.store.schema import tickets
from workbench.sync import central

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def _resolved(laptop: Laptop) -> list[tuple[str | None, str | None]]:
    with laptop.store.read() as db:
        return [(c.resolution, c.resolved_by) for c in sync_state.conflicts(db, True)]


def test_apply_mine_after_a_keep_theirs_that_came_first_applies_nothing(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket, conflict = title_conflict(ana, ben)
    with ana.store.write() as tx:
        sync_state.resolve_conflict(tx, conflict.id, "theirs", "ana.lopez")
    ana.sync()
    with ben.store.write() as tx:  # offline, Ben had decided the other way
        sync_state.resolve_conflict(tx, conflict.id, "mine", "ben.okafor")
    assert ben.service.detail(ticket.id).ticket.title == "Scanner paper jam"

    report = ben.sync()
    ana.sync()

    assert (report.new_conflicts, report.resynced, ben.pending) == (0, False, 0)
    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner offline"
    for laptop in (ana, ben):  # the first resolution stands, value and all, everywhere
        assert laptop.service.detail(ticket.id).ticket.title == "Scanner offline"
        assert _resolved(laptop) == [("theirs", "ana.lopez")]


def test_apply_mine_that_stands_records_who_set_the_field(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket, conflict = title_conflict(ana, ben)
    with ben.store.write() as tx:
        sync_state.resolve_conflict(tx, conflict.id, "mine", "ben.okafor")
        (op,) = tx.outbox()  # one operation: the decision with its value
    assert (op.entity, op.fields[sync_state.APPLY]["value"]) == ("conflict", "Scanner paper jam")
    ben.sync()
    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner paper jam"

    # Ana, who has not seen Ben's value yet, retitles again: Ben's value was set after what
    # she saw, so hers is a new conflict, not a silent overwrite.
    ana.service.update(ticket.id, {"title": "Scanner replaced"})
    assert ana.sync().new_conflicts == 1
    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner paper jam"
    with ana.store.read() as db:
        (again,) = sync_state.conflicts(db)
    assert (again.their_value, again.their_author) == ("Scanner paper jam", "ben.okafor")


def test_a_resolution_queued_in_the_old_shape_is_still_accepted(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket, conflict = title_conflict(ana, ben)
    # As an older version queued "apply mine": a field update, then the bare resolution.
    with ben.store.write() as tx:
        version = tx.ticket(ticket.id).version
        tx._queue("ticket", ticket.id, "update", {"title": "Scanner paper jam"}, version)
        resolution = {"resolution": "mine", "resolved_by": "ben.okafor"}
        tx._queue("conflict", str(conflict.id), "update", resolution, 0)

    assert ben.sync().pushed == 2
    ana.sync()

    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner paper jam"
    for laptop in (ana, ben):
        assert laptop.service.detail(ticket.id).ticket.title == "Scanner paper jam"
        assert _resolved(laptop) == [("mine", "ben.okafor")]


def test_only_the_author_of_a_refused_row_settles_it_and_no_sync_deletes_it_meanwhile(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    ana.sync()
    ben.sync()
    with ben.store.write() as tx:  # Ben sees the conflicts, but not the row
        refused = sync_state.conflicts(tx)  # the edit and its worklog entry
        for conflict in refused:
            with pytest.raises(BadInput, match="only in the cache of ana.lopez"):
                sync_state.resolve_conflict(tx, conflict.id, "theirs", "ben.okafor")
    assert ben.pending == 0
    for _ in range(2):  # Ana's only copy stays until she decides, and is not pulled again
        report = ana.sync()
        assert (report.resynced, report.pulled, report.open_conflicts) == (False, 0, 2)
        assert ana.service.detail(local.id).ticket.title == "Demo, edited"

    with ana.store.write() as tx:
        for conflict in refused:
            sync_state.resolve_conflict(tx, conflict.id, "mine", "ana.lopez")
    ana.sync()

    assert (_count(central_url, "tickets"), _count(central_url, "worklog")) == (1, 1)
    assert _resolved(ana) == [("mine", "ana.lopez")] * 2
    assert (ana.sync().resynced, ana.pending) == (False, 0)


def test_keep_theirs_removes_only_its_own_row_and_only_one_the_server_never_had(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    ana.service.update(local.id, {"title": "Demo, edited twice"})
    ana.sync()
    with ana.store.write() as tx:  # two refused edits of the ticket, and their entries
        edits = [c for c in sync_state.conflicts(tx) if c.entity == "ticket"]
        assert len(edits) == 2
        for conflict in sync_state.conflicts(tx):
            if conflict != edits[1]:
                sync_state.resolve_conflict(tx, conflict.id, "mine", "ana.lopez")
    ana.sync()  # the server has the ticket now
    assert _count(central_url, "tickets") == 1

    with ana.store.write() as tx:
        sync_state.resolve_conflict(tx, edits[1].id, "theirs", "ana.lopez")
    assert ana.service.detail(local.id).ticket.title == "Demo, edited twice"
    ana.sync()
    ben.sync()
    assert ben.service.detail(local.id).ticket.title == "Demo, edited twice"
    # Ben's "keep theirs" on a refused row of his own removes that row, not Ana's ticket.
    his = _local_only_ticket(ben)
    ben.service.update(his.id, {"title": "His demo, edited"})
    ben.sync()
    with ben.store.write() as tx:
        for conflict in sync_state.conflicts(tx):
            sync_state.resolve_conflict(tx, conflict.id, "theirs", "ben.okafor")
    with pytest.raises(NotFound):
        ben.service.detail(his.id)
    for laptop in (ana, ben):
        assert laptop.service.detail(local.id).ticket.title == "Demo, edited twice"
        assert laptop.sync().resynced is False


def test_keep_theirs_on_a_refused_row_removes_it_and_later_syncs_pull_only_changes(
    laptops: Laptops,
) -> None:
    ana = laptops("ana.lopez")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    report = ana.sync()
    assert (report.new_conflicts, report.resynced) == (2, False)
    assert ana.service.detail(local.id).ticket.title == "Demo, edited"  # still to decide

    with ana.store.write() as tx:
        for conflict in sync_state.conflicts(tx):  # the ticket first, then its entry
            sync_state.resolve_conflict(tx, conflict.id, "theirs", "ana.lopez")

    with pytest.raises(NotFound):
        ana.service.detail(local.id)
    assert ana.service.search("Demo") == []
    cara = laptops("cara.nguyen")
    cara.service.create(title="Monitor", category="hardware", impact=3, urgency=3)
    cara.sync()
    for _ in range(2):
        report = ana.sync()
        assert (report.resynced, report.mismatched, report.open_conflicts) == (False, (), 0)
    assert report.pulled == 0


def test_keep_theirs_keeps_a_refused_row_with_pending_work(laptops: Laptops) -> None:
    ana = laptops("ana.lopez")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    ana.sync()
    ana.service.update(local.id, {"title": "Demo, edited again"})  # pending

    with ana.store.write() as tx:
        for conflict in sync_state.conflicts(tx):
            sync_state.resolve_conflict(tx, conflict.id, "theirs", "ana.lopez")

    assert ana.service.detail(local.id).ticket.title == "Demo, edited again"
    report = ana.sync()  # refused again, visibly: the row stays for a person to decide
    assert report.new_conflicts >= 1 and not report.resynced
    assert ana.service.detail(local.id).ticket.title == "Demo, edited again"


def test_a_resync_deletes_rows_the_server_lacks_and_keeps_those_still_needed(
    laptops: Laptops,
) -> None:
    ana = laptops("ana.lopez")
    ghost = _local_only_ticket(ana)  # a row the server had once (a version), and lost
    with ana.store.write() as tx:
        tx._db.execute(update(tickets).where(tickets.c.id == ghost.id).values(version=4))
    made_here = _local_only_ticket(ana)  # never on the server: only its author removes it
    refused = _local_only_ticket(ana)
    ana.service.update(refused.id, {"title": "Demo, edited"})

    report = ana.sync()

    assert (report.resynced, report.mismatched) == (True, ())
    with pytest.raises(NotFound):
        ana.service.detail(ghost.id)
    assert ana.service.detail(made_here.id).ticket.title == "Demo"
    # Refused and not settled yet: "apply mine" may still send it.
    assert ana.service.detail(refused.id).ticket.title == "Demo, edited"
    report = ana.sync()
    assert (report.resynced, report.pulled) == (False, 0)


def test_an_edit_after_a_pending_apply_mine_is_based_where_that_value_was(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben, cara = laptops("ana.lopez"), laptops("ben.okafor"), laptops("cara.nguyen")
    ticket, conflict = title_conflict(ana, ben)
    with ben.store.write() as tx:  # "apply mine", queued before Cara's retitle arrives
        sync_state.resolve_conflict(tx, conflict.id, "mine", "ben.okafor")
    cara.sync()
    cara.service.update(ticket.id, {"title": "Scanner returned"})
    cara.sync()
    engine = central.connect(central_url, keep_open=True)
    try:  # a round's pull after its push: Cara's value comes in under Ben's pending one
        ben.sync_with.pull(engine)
    finally:
        engine.dispose()
    assert ben.service.detail(ticket.id).ticket.title == "Scanner paper jam"

    ben.service.update(ticket.id, {"title": "Scanner sent back"})

    # Cara's value was never on Ben's screen: his edit is a conflict, as is the value his
    # "apply mine" carried, not a silent overwrite.
    ben.sync()
    assert _central_ticket(central_url, ticket.id)["title"] == "Scanner returned"
    with ben.store.read() as db:
        found = [(c.field, c.their_value, c.mine_value) for c in sync_state.conflicts(db)]
    assert found == [
        ("title", "Scanner returned", "Scanner paper jam"),
        ("title", "Scanner returned", "Scanner sent back"),
    ]
