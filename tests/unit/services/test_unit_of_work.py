"""One user action, one transaction: `TicketService.unit_of_work` composes the service's
mutations into one commit, and a failure anywhere in it leaves nothing written."""

from __future__ import annotations

import pytest

from tests.support.commits import commits
from tests.support.workbench import FIELD, LEAD
from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Status
from workbench.services.tickets import TicketService


def _ticket(service: TicketService) -> str:
    return service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket.id


def _outbox(service: TicketService) -> int:
    with service.store.read() as db:
        return len(db.outbox())


def test_mutations_in_a_unit_commit_once_and_see_each_other(service: TicketService) -> None:
    ref = _ticket(service)
    with commits(service.store) as seen, service.unit_of_work():
        service.note(ref, "called the user back")
        service.start(ref)
        inside = service.detail(ref)  # a read inside the unit sees its changes
        assert seen == []  # nothing is committed before the block ends
    assert len(seen) == 1
    assert inside.ticket.status is Status.IN_PROGRESS
    after = service.detail(ref)
    assert after.ticket.status is Status.IN_PROGRESS
    assert "called the user back" in [w.text for w in after.worklog]


def test_a_failure_in_the_second_step_rolls_back_the_first(service: TicketService) -> None:
    ref = _ticket(service)
    before, pending = service.detail(ref), _outbox(service)
    with commits(service.store) as seen, pytest.raises(BadInput, match="must not be empty"):
        with service.unit_of_work():
            service.assign(ref, LEAD.login)
            service.note(ref, "   ")
    assert seen == []
    after = service.detail(ref)
    assert after.ticket.assignee == before.ticket.assignee is None
    assert after.worklog == before.worklog and _outbox(service) == pending


def test_save_fields_edits_and_assigns_in_one_commit(service: TicketService) -> None:
    ref = _ticket(service)
    with commits(service.store) as seen:
        saved = service.save_fields(ref, {"title": "Dock flickers"}, FIELD.login)
    assert len(seen) == 1
    assert (saved.ticket.title, saved.ticket.assignee) == ("Dock flickers", FIELD.login)


def test_save_fields_with_an_unknown_assignee_keeps_the_edit_out(service: TicketService) -> None:
    ref = _ticket(service)
    with pytest.raises(NotFound, match="no technician with login 'ghost.user'"):
        service.save_fields(ref, {"title": "Dock flickers"}, "ghost.user")
    assert service.detail(ref).ticket.title == "Dock"
