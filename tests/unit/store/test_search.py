"""FTS: ranking, prefixes, serials and hostnames, index kept current, hostile queries."""

from __future__ import annotations

import pytest

from tests.support.workbench import ASSET, REQUESTER
from workbench.services.tickets import TicketService
from workbench.store.search import fts_query


def _refs(service: TicketService, query: str) -> list[str]:
    return [hit.summary.ticket.ref for hit in service.search(query)]


@pytest.fixture
def tickets(service: TicketService) -> dict[str, str]:
    printer = service.create(
        title="Printer shows paper jam",
        category="printing",
        impact=3,
        urgency=2,
        description="Tray 2 on the HP LaserJet M507.",
    )
    vpn = service.create(
        title="VPN drops every hour",
        category="vpn-remote",
        impact=3,
        urgency=2,
        requester=REQUESTER.email,
        asset=ASSET.tag,
    )
    mention = service.create(title="New starter laptop", category="hardware", impact=3, urgency=3)
    service.note(mention.ticket.ref, "also asked about the printer on floor 3")
    return {"printer": printer.ticket.ref, "vpn": vpn.ticket.ref, "mention": mention.ticket.ref}


def test_title_hit_ranks_above_worklog_hit(service: TicketService, tickets: dict[str, str]) -> None:
    assert _refs(service, "printer") == [tickets["printer"], tickets["mention"]]


def test_prefix_search_as_you_type(service: TicketService, tickets: dict[str, str]) -> None:
    assert _refs(service, "prin") == [tickets["printer"], tickets["mention"]]
    assert _refs(service, "laserj") == [tickets["printer"]]
    assert _refs(service, "vpn drop") == [tickets["vpn"]]  # every word must match


@pytest.mark.parametrize(
    "query",
    [
        ASSET.serial,
        ASSET.serial[:6].lower(),
        ASSET.hostname,
        "oly-acc-lt04",
        ASSET.tag,
        "whitfield",
        REQUESTER.email,
        "accounting",
    ],
)
def test_assets_and_people_are_searchable(
    service: TicketService, tickets: dict[str, str], query: str
) -> None:
    assert _refs(service, query) == [tickets["vpn"]]


def test_reference_numbers_are_searchable(service: TicketService, tickets: dict[str, str]) -> None:
    assert _refs(service, tickets["vpn"]) == [tickets["vpn"]]


def test_index_follows_notes_and_edits(service: TicketService, tickets: dict[str, str]) -> None:
    assert _refs(service, "toner") == []
    service.note(tickets["vpn"], "Requester also low on toner")
    assert _refs(service, "toner") == [tickets["vpn"]]
    service.update(tickets["vpn"], {"title": "VPN tunnel resets"})
    assert _refs(service, "tunnel") == [tickets["vpn"]]
    # The old title stays findable through the worklog line that records the edit.
    (hit,) = service.search("drops every")
    assert hit.summary.ticket.title == "VPN tunnel resets" and "→" in hit.snippet


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "(",
        ")",
        "NEAR",
        "NEAR(printer",
        'AND OR NOT "',
        "^col:",
        "-",
        "'",
        "",
        "   ",
        "printer*)(",
        "{title}: x",
    ],
)
def test_fts_syntax_in_queries_never_crashes(
    service: TicketService, tickets: dict[str, str], query: str
) -> None:
    hits = service.search(query)
    assert all(hit.summary.ticket.ref in tickets.values() for hit in hits)


def test_query_building_quotes_every_word() -> None:
    assert fts_query('ws-acct-01 "printer') == '"ws acct 01"* "printer"*'
    assert fts_query("NEAR(a b)") == '"NEAR a" "b"'  # one letter: a whole word
    assert fts_query("NEAR(ab c") == '"NEAR ab"* "c"'
    assert fts_query("*** ()") is None


def test_loaded_rows_join_the_index_beside_local_ones(
    service: TicketService, tickets: dict[str, str]
) -> None:
    from dataclasses import replace  # noqa: PLC0415

    template = service.detail(tickets["printer"]).ticket
    pulled = replace(
        template,
        id="pulled-1",
        number="HD-000777",
        provisional_ref=None,
        title="Scanner feeds two sheets at once",
        version=4,
    )
    with service.store.write() as tx:
        tx.load_snapshot(tickets=[pulled])
    assert _refs(service, "scanner") == ["HD-000777"]
    assert _refs(service, "777") == ["HD-000777"]
    assert _refs(service, "printer") == [tickets["printer"], tickets["mention"]]
