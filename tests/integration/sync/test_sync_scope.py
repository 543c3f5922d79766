"""Per-technician pull scope on a real PostgreSQL (DESIGN.md §5): each cache holds its
technician's tickets and tier queue, closed ones for 90 days, its sites' assets and all
reference data; tickets leave a cache when they leave the scope, never with pending work."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert, select, update
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.workbench import Clock
from workbench.core.errors import NotFound
from workbench.core.models import Ticket
from workbench.core.query import TicketQuery
from workbench.store import sync_state
from workbench.sync import central

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def _ids(laptop: Laptop) -> set[str]:
    return {s.ticket.id for s in laptop.service.find(TicketQuery(), limit=1000)}


def _worklog(laptop: Laptop, ticket_id: str) -> set[str]:
    with laptop.store.read() as db:
        return {w.text for w in db.worklog(ticket_id)}


def _assets(laptop: Laptop) -> set[str]:
    with laptop.store.read() as db:
        return {a.id for a in db.find_assets("", limit=100)}


def _add_remote_site(url: str) -> None:
    """A second site with an asset there, as the central database has it."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        clock = db.scalar(select(central.sync_clock.c.clock).with_for_update()) or 0
        db.execute(
            insert(central.sites).values(
                id="site-sea", name="Seattle", address="", timezone="America/Los_Angeles",
                version=clock + 1,
            )
        )  # fmt: skip
        db.execute(
            insert(central.assets).values(
                id="asset-sea", tag="WA-009001", serial="SEA1", hostname="SEA-PC01", model="",
                os="", site_id="site-sea", owner_id=None, purchase_date=date(2024, 1, 1),
                warranty_end=None, status="in_service", version=clock + 2,
            )
        )  # fmt: skip
        db.execute(update(central.sync_clock).values(clock=clock + 2))
    engine.dispose()


@dataclass
class Cast:
    cara: Laptop  # the lead, scope all
    ana: Laptop  # tier 1, no sites, scope mine
    ben: Laptop  # tier 2, site-oly, scope mine
    tickets: dict[str, Ticket]


def _cast(laptops: Laptops, url: str) -> Cast:
    """The lead makes tickets for every corner of the scope rule, and syncs them."""
    _add_remote_site(url)
    now = datetime.now(UTC)  # the 90 days count from the server's time
    cara = laptops("cara.nguyen", own_clock=Clock(now))
    ana = laptops("ana.lopez", scope="mine", own_clock=Clock(now))
    ben = laptops("ben.okafor", scope="mine", own_clock=Clock(now))
    lead = cara.service
    made = {
        "desk": lead.create(title="desk queue", category="email", impact=3, urgency=3).ticket,
        "field": lead.create(title="field", category="hardware", impact=3, urgency=3).ticket,
        "for_ana": lead.create(
            title="Seattle PC", category="hardware", impact=3, urgency=3, asset="asset-sea",
            queue="field-support",
        ).ticket,
    }  # fmt: skip
    # A tier-2 ticket handed to a tier-1 agent by name (a new ticket may not start that way).
    made["for_ana"] = lead.assign(made["for_ana"].id, "ana.lopez").ticket
    lead.note(made["field"].id, "seen at the front desk")
    lead.escalate(made["field"].id, "needs a visit")  # to tier 2 with its worklog
    for name, days in (("old", 100), ("recent", 10)):
        lead.clock.now = now - timedelta(days=days)  # type: ignore[attr-defined]
        made[name] = lead.create(title=name, category="email", impact=3, urgency=3).ticket
        lead.resolve(made[name].id, "done")
        lead.close(made[name].id)
    cara.sync()
    return Cast(cara, ana, ben, made)


def test_each_technician_pulls_its_scope_and_tickets_follow_reassignment(
    laptops: Laptops, central_url: str
) -> None:
    cast = _cast(laptops, central_url)
    cara, ana, ben, lead = cast.cara, cast.ana, cast.ben, cast.cara.service
    desk, field, for_ana = cast.tickets["desk"], cast.tickets["field"], cast.tickets["for_ana"]
    recent = cast.tickets["recent"]

    for laptop in (ana, ben):
        assert not laptop.sync().mismatched
    assert _ids(ana) == {desk.id, for_ana.id, recent.id}
    assert _ids(ben) == {field.id, for_ana.id}  # tier 2's queue holds both
    assert _worklog(ben, field.id) >= {"seen at the front desk"}
    assert _assets(ben) == {"asset-1", "asset-sea"}  # his site's, and his ticket's
    assert _assets(ana) == {"asset-sea"}  # no sites: only her ticket's asset
    for laptop in (ana, ben):  # reference data is everywhere
        with laptop.store.read() as db:
            assert {s.id for s in db.sites()} == {"site-oly", "site-sea"}
            assert len(db.technicians()) == 3
            assert db.requester("req-1") is not None
    assert len(_ids(cara)) == 5

    # The lead moves the desk ticket to tier 2 while Ana, offline, notes it: she keeps it
    # (and her note) until the note is on the server, then it leaves her cache.
    ana.service.note(desk.id, "called the user back")
    lead.escalate(desk.id, "mailbox on the field laptop")
    cara.sync()
    engine = central.connect(central_url)
    try:
        pulled = ana.sync_with.pull(engine)  # a pull with the note still pending
    finally:
        engine.dispose()
    assert not pulled.mismatched
    assert desk.id in _ids(ana) and "called the user back" in _worklog(ana, desk.id)
    assert ana.pending == 1
    report = ana.sync()
    assert (report.pushed, report.mismatched, ana.pending) == (1, (), 0)
    assert desk.id not in _ids(ana)
    with ana.store.read() as db:
        assert db.worklog(desk.id) == ()
        assert json.loads(db.meta(sync_state.OUT_OF_SCOPE) or "[]") == []
    assert ana.service.search("desk queue") == []  # gone from the search index too

    # Ben gets it with all its history, Ana's note included.
    assert not ben.sync().mismatched
    assert desk.id in _ids(ben)
    assert _worklog(ben, desk.id) >= {"called the user back"}

    # Handed to Ana by name while in tier 2: it comes back to her.
    lead.assign(desk.id, "ana.lopez")
    cara.sync()
    assert not ana.sync().mismatched
    assert desk.id in _ids(ana) and "called the user back" in _worklog(ana, desk.id)


def test_resync_from_scratch_keeps_rows_with_pending_work(
    laptops: Laptops, central_url: str
) -> None:
    cara = laptops("cara.nguyen")
    ana = laptops("ana.lopez", scope="mine")
    ticket = cara.service.create(title="Badge", category="hardware", impact=3, urgency=3).ticket
    cara.service.note(ticket.id, "first note")
    other = cara.service.create(title="Mouse", category="hardware", impact=3, urgency=3).ticket
    cara.service.note(other.id, "other note")
    cara.sync()
    ana.sync()
    assert {ticket.id, other.id} <= _ids(ana)

    ana.service.note(ticket.id, "pending note")
    cara.service.escalate(ticket.id, "for the field team")  # out of Ana's scope
    cara.sync()
    with ana.store.write() as tx:  # a row vanishes: the counts will differ
        tx._db.exec_driver_sql("DELETE FROM worklog WHERE text = 'other note'")
        sync_state.restart_pull(tx)
    engine = central.connect(central_url)
    try:
        pulled = ana.sync_with.pull(engine)  # from scratch, the outbox still full
    finally:
        engine.dispose()
    assert not pulled.mismatched
    assert "other note" in _worklog(ana, other.id)  # the lost row is back
    assert ticket.id in _ids(ana)  # out of scope, but it has pending work: kept whole
    assert {"pending note", "first note"} <= _worklog(ana, ticket.id)
    assert ana.pending == 1

    ana.sync()
    assert ana.pending == 0 and ticket.id not in _ids(ana)
    cara.sync()
    assert "pending note" in _worklog(cara, ticket.id)


def test_a_technician_unknown_to_the_server_is_told_so(laptops: Laptops) -> None:
    ana = laptops("ana.lopez", scope="mine")
    ana.sync_with.technician = "nobody"
    with pytest.raises(NotFound, match="not known to the central database"):
        ana.sync()
