"""Requesters found by id, e-mail or name; listed, searched, and shown with tickets and assets."""

from __future__ import annotations

import pytest

from tests.support.workbench import ASSET, REQUESTER
from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Status
from workbench.services.tickets import TicketService


@pytest.fixture
def people(service: TicketService) -> TicketService:
    service.add_requester("Olga Reyes", "olga.reyes@agency.example", department="Payroll")
    service.add_requester("Olga Reyes", "o.reyes@parks.example", department="Parks")
    service.add_requester("Omar 50%_Off", "omar@agency.example", department="Sales")
    return service


@pytest.mark.parametrize(
    "key",
    [REQUESTER.id, REQUESTER.email, REQUESTER.email.upper(), REQUESTER.name,
     "dana whitfield", "  DANA   Whitfield "],
)  # fmt: skip
def test_a_requester_is_found_by_id_e_mail_or_name(people: TicketService, key: str) -> None:
    assert people.requester(key).requester.id == REQUESTER.id


def test_a_shared_name_is_refused_listing_who_has_it(people: TicketService) -> None:
    with pytest.raises(BadInput) as refused:
        people.requester("olga reyes")
    assert str(refused.value) == (
        "2 requesters are named 'olga reyes' (Olga Reyes <o.reyes@parks.example>; "
        "Olga Reyes <olga.reyes@agency.example>): give the e-mail"
    )
    assert people.requester("o.reyes@parks.example").requester.department == "Parks"


@pytest.mark.parametrize("key", ["Olga", "Reyes", "nobody@agency.example", "req-"])
def test_a_part_of_a_name_or_an_unknown_key_is_not_found(people: TicketService, key: str) -> None:
    with pytest.raises(NotFound, match=f"no requester with id, e-mail or name {key!r}"):
        people.requester(key)


def test_a_ticket_takes_its_requester_by_name(people: TicketService) -> None:
    made = people.create(title="Dock", category="hardware", impact=3, urgency=2,
                         requester="dana WHITFIELD")  # fmt: skip
    assert made.requester == REQUESTER
    with pytest.raises(BadInput, match="2 requesters are named 'Olga Reyes'"):
        people.create(title="Dock", category="hardware", impact=3, urgency=2,
                      requester="Olga Reyes")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("olga", ["Olga Reyes", "Olga Reyes"]),
        ("olga parks", ["Olga Reyes"]),
        ("PAYROLL", ["Olga Reyes"]),
        ("50%_", ["Omar 50%_Off"]),  # wildcards typed are searched for as text
        ("%", ["Omar 50%_Off"]),
        ("555-0142", [REQUESTER.name]),
        ("olga sales", []),
    ],
)
def test_search_needs_every_word(people: TicketService, text: str, names: list[str]) -> None:
    assert [r.name for r in people.search_requesters(text)] == names


def test_list_pages_by_name(people: TicketService) -> None:
    total, first = people.requesters(0, 2)
    assert total == 4 and [r.name for r in first] == ["Dana Whitfield", "Olga Reyes"]
    assert [r.name for r in people.requesters(2, 10)[1]] == ["Olga Reyes", "Omar 50%_Off"]


def test_show_has_the_open_tickets_and_the_assets(people: TicketService) -> None:
    def ticket(title: str) -> str:
        return people.create(title=title, category="hardware", impact=3, urgency=2,
                             requester=REQUESTER.email).ticket.ref  # fmt: skip

    open_ref, done_ref = ticket("Screen flickers"), ticket("Mouse")
    people.resolve(done_ref, "new mouse")
    shown = people.requester(REQUESTER.name)
    assert [s.ticket.ref for s in shown.open_tickets] == [open_ref]
    assert shown.open_tickets[0].ticket.status is Status.NEW
    assert [a.tag for a in shown.assets] == [ASSET.tag]
    assert shown.site is not None and shown.site.id == REQUESTER.site_id
    assert people.requester("olga.reyes@agency.example").assets == ()
