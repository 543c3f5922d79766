"""An escalation to a chosen queue and technician reaches the central database as made."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.workbench import AGENT, LEAD
from workbench.core.models import Status
from workbench.sync import central

pytestmark = pytest.mark.services


def _central_ticket(url: str, ticket_id: str) -> dict[str, object]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            t = central.tickets
            row = db.execute(select(t).where(t.c.id == ticket_id)).mappings().one()
            return dict(row)
    finally:
        engine.dispose()


def test_escalation_to_a_queue_and_person_syncs(
    laptops: Callable[..., Laptop], central_url: str
) -> None:
    ana, cara = laptops(AGENT.login), laptops(LEAD.login)
    to_cara = ana.service.create(title="Mail rule loop", category="email", impact=2, urgency=2)
    to_queue = ana.service.create(title="Badge reader", category="hardware", impact=3, urgency=2)
    for made in (to_cara, to_queue):
        ana.service.start(made.ticket.id)
    ana.service.escalate(to_cara.ticket.id, "transport rule bug", LEAD.login, "engineering")
    ana.service.escalate(to_queue.ticket.id, "needs the vendor", queue="engineering")
    report = ana.sync()
    assert not report.mismatched and ana.pending == 0
    row = _central_ticket(central_url, to_cara.ticket.id)
    assert (row["queue"], row["tier"], row["assignee"], row["status"]) == (
        "engineering", 3, LEAD.login, "assigned")  # fmt: skip
    row = _central_ticket(central_url, to_queue.ticket.id)
    assert (row["queue"], row["tier"], row["assignee"], row["status"]) == (
        "engineering", 3, None, "new")  # fmt: skip
    cara.sync()
    mine = cara.service.detail(to_cara.ticket.id)
    assert (mine.ticket.assignee, mine.ticket.status) == (LEAD.login, Status.ASSIGNED)
    assert any("unassigned from ana.lopez: transport rule bug" in w.text for w in mine.worklog)
