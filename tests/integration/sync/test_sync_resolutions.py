"""Settling conflicts against a real PostgreSQL: both sides deciding, refused rows, ghosts."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.sync.conftest import Laptop
from tests.integration.sync.test_sync_protocol import _central_ticket, _count, _local_only_ticket
from workbench.core.errors import NotFound
from workbench.core.models import Ticket
from workbench.store import sync_state

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def _title_conflict(ana: Laptop, ben: Laptop) -> tuple[Ticket, sync_state.Conflict]:
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


def _resolved(laptop: Laptop) -> list[tuple[str | None, str | None]]:
    with laptop.store.read() as db:
        return [(c.resolution, c.resolved_by) for c in sync_state.conflicts(db, True)]


def test_apply_mine_after_a_keep_theirs_that_came_first_applies_nothing(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    ticket, conflict = _title_conflict(ana, ben)
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
    ticket, conflict = _title_conflict(ana, ben)
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
    ticket, conflict = _title_conflict(ana, ben)
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


def test_sending_a_refused_row_again_after_keep_theirs_came_first_sends_nothing(
    laptops: Laptops, central_url: str
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    local = _local_only_ticket(ana)
    ana.service.update(local.id, {"title": "Demo, edited"})
    ana.sync()
    ben.sync()
    with ben.store.write() as tx:
        refused = sync_state.conflicts(tx)  # the edit and its worklog entry
        for conflict in refused:
            sync_state.resolve_conflict(tx, conflict.id, "theirs", "ben.okafor")
    ben.sync()
    with ana.store.write() as tx:  # not knowing, Ana sends them again
        for conflict in refused:
            sync_state.resolve_conflict(tx, conflict.id, "mine", "ana.lopez")

    ana.sync()

    assert (_count(central_url, "tickets"), _count(central_url, "worklog")) == (0, 0)
    assert _resolved(ana) == [("theirs", "ben.okafor")] * 2
    with pytest.raises(NotFound):  # the server has no such ticket, so neither has Ana
        ana.service.detail(local.id)
    assert (ana.sync().resynced, ana.pending) == (False, 0)


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
    ghost = _local_only_ticket(ana)  # demo data nobody works on
    refused = _local_only_ticket(ana)
    ana.service.update(refused.id, {"title": "Demo, edited"})

    report = ana.sync()

    assert (report.resynced, report.mismatched) == (True, ())
    with pytest.raises(NotFound):
        ana.service.detail(ghost.id)
    # Refused and not settled yet: "apply mine" may still send it.
    assert ana.service.detail(refused.id).ticket.title == "Demo, edited"
    report = ana.sync()
    assert (report.resynced, report.pulled) == (False, 0)
