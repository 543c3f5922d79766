"""`workbench requester ...`: the people tickets are for, found by name, e-mail or id."""

from __future__ import annotations

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.core.labels import plural
from workbench.core.models import Requester


@click.group()
def requester() -> None:
    """List, search and show requesters (the people tickets are for)."""


def _print_requesters(app: AppContext, found: list[Requester]) -> None:
    with app.store.read() as db:
        site_names = {site.id: site.name for site in db.sites()}
    render.print_table(
        [render.requester_row(r, site_names) for r in found], render.REQUESTER_HEADERS
    )


@requester.command("list")
@click.option("--limit", type=WholeNumber(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=WholeNumber(0, 2**62), default=0)
@json_option
@with_app
def list_requesters(app: AppContext, limit: int, offset: int, as_json: bool) -> None:
    """List requesters by name."""
    total, found = app.tickets.requesters(offset, limit)
    if as_json:
        render.emit_json(
            {
                "total": total,
                "offset": offset,
                "requesters": [render.record_json(r) for r in found],
            }
        )
        return
    _print_requesters(app, found)
    render.say(f"{len(found):,} of {plural(total, 'requester')}")


@requester.command()
@click.argument("text")
@click.option("--limit", type=WholeNumber(1, 500), default=50, show_default=True)
@json_option
@with_app
def search(app: AppContext, text: str, limit: int, as_json: bool) -> None:
    """Requesters with every word of TEXT in their name, e-mail, phone or department."""
    found = app.tickets.search_requesters(text, limit)
    if as_json:
        render.emit_json({"query": text, "requesters": [render.record_json(r) for r in found]})
        return
    if not found:
        render.say(f"No requester matches {text!r}.")
        return
    _print_requesters(app, found)
    render.say(plural(len(found), "requester"))


@requester.command()
@click.argument("key", metavar="NAME|E-MAIL|ID")
@json_option
@with_app
def show(app: AppContext, key: str, as_json: bool) -> None:
    """Show a requester with their open tickets and their assets."""
    found = app.tickets.requester(key)
    now = app.now()
    if as_json:
        render.emit_json(
            {
                "requester": render.record_json(found.requester),
                "site": None if found.site is None else render.record_json(found.site),
                "open_tickets": [render.summary_json(s, now) for s in found.open_tickets],
                "assets": [render.record_json(a) for a in found.assets],
            }
        )
        return
    render.print_requester(
        found.requester,
        found.site,
        list(found.open_tickets),
        list(found.assets),
        now,
        app.sla_clock,
    )
