"""Who a ticket may be given to (issue 23, point 8): a known, active technician of the
ticket's tier or above, when it is created and when it is escalated."""

from __future__ import annotations

import pytest

from tests.support.workbench import AGENT, FIELD, LEAD
from workbench.core.errors import BadInput, NotFound
from workbench.services.tickets import TicketService
from workbench.store import Store


def new(service: TicketService, assignee: str | None = None):  # type: ignore[no-untyped-def]
    return service.create(
        title="Dock", category="hardware", impact=3, urgency=3, assignee=assignee
    ).ticket


def test_a_new_ticket_goes_only_to_someone_of_its_tier_or_above(service: TicketService) -> None:
    assert new(service, AGENT.login).assignee == AGENT.login  # tier 1 queue, tier 1 agent
    assert new(service, LEAD.login).assignee == LEAD.login
    with pytest.raises(NotFound, match="no technician with login 'ghost.user'"):
        new(service, "ghost.user")
    tier2 = service.create(title="Reimage", category="reimage", impact=3, urgency=3,
                           queue="field-support", assignee=FIELD.login).ticket  # fmt: skip
    assert tier2.tier == 2
    with pytest.raises(BadInput, match="ana.lopez is tier 1: a ticket in the tier-2 queue"):
        service.create(title="Reimage", category="reimage", impact=3, urgency=3,
                       queue="field-support", assignee=AGENT.login)  # fmt: skip


def test_an_escalation_goes_to_the_next_tier_not_the_one_it_leaves(
    service: TicketService,
) -> None:
    ticket = new(service)
    with pytest.raises(BadInput, match="ana.lopez is tier 1: a ticket in the tier-2 queue"):
        service.escalate(ticket.ref, "needs hands on site", AGENT.login)
    assert service.detail(ticket.ref).ticket.tier == 1  # nothing changed
    moved = service.escalate(ticket.ref, "needs hands on site", FIELD.login).ticket
    assert (moved.tier, moved.assignee) == (2, FIELD.login)


def test_a_retired_technician_takes_no_tickets(service: TicketService, store: Store) -> None:
    with store.write() as tx:
        tx._db.exec_driver_sql("UPDATE technicians SET active = 0 WHERE login = ?", (LEAD.login,))
    with pytest.raises(BadInput, match="cara.nguyen is retired"):
        new(service, LEAD.login)
