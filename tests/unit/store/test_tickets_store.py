"""Repositories: what the service writes is what the store returns, with outbox and worklog."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support.workbench import AGENT, ASSET, FIELD, REQUESTER, Clock
from workbench.core.errors import BadInput, NotFound, TransitionRefused
from workbench.core.models import Priority, Status, WorklogKind
from workbench.core.query import TicketQuery
from workbench.services.tickets import TicketService
from workbench.store import Store


def _new(service: TicketService, title: str = "Printer on 3rd floor jams", **kw: object):
    fields: dict[str, object] = {"category": "printing", "impact": 2, "urgency": 2, **kw}
    return service.create(title=title, **fields)  # type: ignore[arg-type]


def test_new_ticket_is_stored_with_requester_asset_site_and_due_times(
    service: TicketService,
) -> None:
    detail = _new(service, requester=REQUESTER.email, asset="oly-acc-lt0421")
    t = detail.ticket
    assert t.number is None and t.provisional_ref is not None
    assert t.provisional_ref.startswith("P-") and t.ref == t.provisional_ref
    assert (t.priority, t.status, t.queue, t.tier) == (Priority.P3, Status.NEW, "service-desk", 1)
    assert detail.requester == REQUESTER and detail.asset == ASSET
    assert detail.site is not None and detail.site.id == "site-oly"
    # Opened at 08:00 Los Angeles on a Monday: P3 response 2 h, resolve 3 business days (Wed
    # 17:00 there).
    assert t.response_due is not None and t.response_due.isoformat() == "2026-11-16T18:00:00+00:00"
    assert t.resolve_due is not None and t.resolve_due.isoformat() == "2026-11-19T01:00:00+00:00"
    again = service.detail(t.ref)
    assert again.ticket == t


def test_every_mutation_queues_consecutive_outbox_operations(service: TicketService) -> None:
    ref = _new(service).ticket.ref
    service.assign(ref)
    service.start(ref)
    detail = service.note(ref, "Cleared paper path", minutes=10)
    ops = detail.pending
    assert [op.mutation_id for op in ops] == list(range(1, len(ops) + 1))
    assert {op.client_id for op in ops} == {ops[0].client_id}
    ticket_ops = [op for op in ops if op.entity == "ticket"]
    assert [op.op for op in ticket_ops] == ["insert", "update", "update"]
    assign_op = ticket_ops[1]
    assert assign_op.fields["assignee"] == AGENT.login
    assert assign_op.fields["status"] == "assigned"
    assert "title" not in assign_op.fields  # only what changed travels
    assert assign_op.base_version == 0
    worklog_ops = [op for op in ops if op.entity == "worklog"]
    assert len(worklog_ops) == len(detail.worklog)
    assert worklog_ops[-1].fields["text"] == "Cleared paper path"
    assert worklog_ops[-1].fields["minutes"] == 10
    assert detail.minutes_spent == 10


def test_refused_action_changes_nothing(service: TicketService, store: Store) -> None:
    ref = _new(service).ticket.ref
    with store.read() as db:
        before = (db.outbox_count(), db.ticket(ref), db.worklog(db.ticket(ref).id))
    with pytest.raises(TransitionRefused, match="close is allowed from resolved"):
        service.close(ref)
    with pytest.raises(BadInput, match="needs a resolution"):
        service.resolve(ref, "  ")
    with store.read() as db:
        assert (db.outbox_count(), db.ticket(ref), db.worklog(db.ticket(ref).id)) == before


def test_full_cycle_writes_worklog_for_each_step(service: TicketService, clock: Clock) -> None:
    ref = _new(service).ticket.ref
    service.assign(ref)
    clock.advance(minutes=5)
    service.start(ref)
    service.escalate(ref, "Fuser unit fault, needs on-site visit", FIELD.login)
    clock.advance(hours=2)
    service.resolve(ref, "Replaced the fuser unit")
    detail = service.close(ref)
    t = detail.ticket
    assert (t.status, t.tier, t.queue, t.assignee) == (
        Status.CLOSED,
        2,
        "field-support",
        "ben.okafor",
    )
    texts = [w.text for w in detail.worklog if w.kind is WorklogKind.STATUS_CHANGE]
    assert texts[1:] == [
        "new → assigned",
        "assigned → in progress",
        "in progress → assigned: escalated to tier 2 (field-support), assigned to ben.okafor, "
        "unassigned from ana.lopez: Fuser unit fault, needs on-site visit",
        "assigned → resolved: Replaced the fuser unit",
        "resolved → closed",
    ]
    assert t.responded_at == clock.now - timedelta(hours=2)
    assert t.sla_due is None and not t.is_breaching(clock.now + timedelta(days=30))


def test_worklog_is_append_only(service: TicketService, store: Store) -> None:
    detail = service.note(_new(service).ticket.ref, "first")
    with store.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            raw.execute(
                "UPDATE worklog SET text = 'rewritten' WHERE id = ?", (detail.worklog[-1].id,)
            )


@pytest.mark.parametrize("typed", ["{number}", "{lower}", "{id}"])
def test_ticket_found_by_any_reference(service: TicketService, typed: str) -> None:
    t = _new(service).ticket
    ref = typed.format(number=t.provisional_ref, lower=(t.provisional_ref or "").lower(), id=t.id)
    assert service.detail(ref).ticket.id == t.id


def test_unknown_references_are_clear(service: TicketService) -> None:
    with pytest.raises(NotFound, match="no ticket 'HD-999999'"):
        service.detail("HD-999999")
    with pytest.raises(NotFound, match="no asset"):
        _new(service, asset="NOPE-1")
    with pytest.raises(NotFound, match="no technician"):
        service.assign(_new(service).ticket.ref, "ghost")


def test_bad_levels_and_categories_are_refused(service: TicketService, store: Store) -> None:
    with pytest.raises(BadInput, match="impact must be 1"):
        _new(service, impact=4)
    with pytest.raises(BadInput, match="urgency must be 1"):
        _new(service, urgency=0)
    with pytest.raises(BadInput, match="unknown category"):
        _new(service, category="plumbing")
    with pytest.raises(BadInput, match="needs a reason"):
        _new(service, priority="P1")
    with store.read() as db:
        assert db.count(TicketQuery()) == 0 and db.outbox_count() == 0


def test_update_recomputes_priority_and_logs_the_change(service: TicketService) -> None:
    ref = _new(service).ticket.ref
    detail = service.update(ref, {"impact": 1, "urgency": 1})
    assert detail.ticket.priority is Priority.P1
    assert "priority: P3 → P1" in detail.worklog[-1].text
    op = detail.pending[-2]  # the ticket update precedes its worklog entry
    assert op.fields["priority"] == "P1" and op.fields["impact"] == 1


def _cast(service: TicketService, clock: Clock) -> dict[str, str]:
    refs = {
        "p1": _new(service, "Site-wide outage", impact=1, urgency=1).ticket.ref,
        "p4": _new(service, "Request a second monitor", impact=3, urgency=3).ticket.ref,
        "mine": _new(service, "Outlook keeps asking for password", category="email").ticket.ref,
        "waiting": _new(service, "Docking station replacement", category="hardware").ticket.ref,
    }
    service.assign(refs["mine"])
    service.assign(refs["waiting"], FIELD.login)
    service.wait(refs["waiting"], "parts", "Dock on order")
    clock.advance(hours=6)
    return refs


def test_list_filters(service: TicketService, clock: Clock) -> None:
    refs = _cast(service, clock)

    def listed(**kw: object) -> set[str]:
        return {s.ticket.ref for s in service.find(TicketQuery(**kw))}  # type: ignore[arg-type]

    assert listed() == set(refs.values())
    assert listed(statuses=frozenset({Status.WAITING})) == {refs["waiting"]}
    assert listed(assignee=AGENT.login) == {refs["mine"]}
    assert listed(unassigned=True) == {refs["p1"], refs["p4"]}
    assert listed(priorities=frozenset({Priority.P1, Priority.P4})) == {refs["p1"], refs["p4"]}
    assert listed(queue="service-desk", tier=1) == set(refs.values())
    # Six hours in: the P1 (4 h, 24x7) and the P3s' 2 h response have passed; the waiting
    # ticket's clock is paused and the P4 has 8 business hours to respond.
    assert listed(breaching_at=clock.now) == {refs["p1"], refs["mine"]}
    assert service.count(TicketQuery(breaching_at=clock.now)) == 2


def test_sort_by_sla_puts_paused_after_running_and_pages(
    service: TicketService, clock: Clock
) -> None:
    refs = _cast(service, clock)
    order = [s.ticket.ref for s in service.find(TicketQuery(sort="sla_due"))]
    assert order[0] == refs["p1"] and order[-1] == refs["waiting"]
    desc = [s.ticket.ref for s in service.find(TicketQuery(sort="sla_due", descending=True))]
    assert desc == order[::-1]  # most time left first; no running deadline counts as most
    page = service.find(TicketQuery(sort="sla_due"), offset=1, limit=2)
    assert [s.ticket.ref for s in page] == order[1:3]
    by_title = [s.ticket.title for s in service.find(TicketQuery(sort="title"))]
    assert by_title == sorted(by_title)


def test_summaries_carry_requester_and_asset(service: TicketService) -> None:
    _new(service, requester=REQUESTER.id, asset=ASSET.serial)
    (summary,) = service.find(TicketQuery())
    assert (summary.requester_name, summary.asset_tag, summary.hostname) == (
        REQUESTER.name,
        ASSET.tag,
        ASSET.hostname,
    )


def test_technician_must_be_known_and_set(store: Store, policy) -> None:  # noqa: ANN001
    nobody = TicketService(store, policy, None)
    with pytest.raises(BadInput, match="no technician is set"):
        nobody.create(title="x", category="other", impact=3, urgency=3)
    with pytest.raises(NotFound):
        nobody.set_technician("ghost")
    nobody.set_technician(AGENT.login)
    assert TicketService(store, policy).technician == AGENT.login


def test_loaded_rows_read_back_equal(store: Store, service: TicketService, clock: Clock) -> None:
    """Bulk-loaded rows are stored exactly as the ones written one by one."""
    ref = _new(service, requester=REQUESTER.id, asset=ASSET.tag).ticket.ref
    service.assign(ref)
    service.wait(ref, "vendor", "RMA opened")
    clock.advance(hours=3, microseconds=123)
    written = service.start(ref)
    pulled = replace(
        written.ticket, id="pulled-1", number="HD-000901", provisional_ref=None, version=7
    )
    entry = replace(written.worklog[-1], id="pulled-w1", ticket_id="pulled-1")
    with store.write() as tx:
        tx.load_snapshot(tickets=[pulled], worklog=[entry])
    again = service.detail("HD-000901")
    assert again.ticket == pulled and again.worklog == (entry,)
    assert again.asset == ASSET  # dates of the fixture's asset went through the same path
    # Same deadline: the sort key stored by both paths is equal, so insertion order decides.
    refs = [s.ticket.ref for s in service.find(TicketQuery(sort="sla_due"))]
    assert refs == [ref, "HD-000901"]
