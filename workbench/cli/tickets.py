"""`workbench ticket ...`: intake, lists, details and every lifecycle action."""

from __future__ import annotations

from typing import Any

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import json_option, with_app
from workbench.core.models import Channel, Priority, Status, TicketDetail, WaitReason
from workbench.core.query import SORT_KEYS, TicketQuery

LEVEL = click.IntRange(1, 3)
LEVEL_HELP = "1 (high) to 3 (low)"


def _done(app: AppContext, detail: TicketDetail, as_json: bool, message: str) -> None:
    if as_json:
        render.emit_json(render.detail_json(detail, app.now()))
    else:
        render.say(f"{detail.ticket.ref}: {message} (status {detail.ticket.status.label})")


@click.group()
def ticket() -> None:
    """Create, list, show and work tickets."""


@ticket.command("new")
@click.option("--title", required=True)
@click.option("--category", required=True, help="One of the categories in sla.yaml.")
@click.option("--impact", type=LEVEL, required=True, help=LEVEL_HELP)
@click.option("--urgency", type=LEVEL, required=True, help=LEVEL_HELP)
@click.option(
    "--channel", type=click.Choice([c.value for c in Channel]), default="phone", show_default=True
)
@click.option("--description", default="")
@click.option("--requester", help="Requester id or e-mail.")
@click.option("--asset", help="Asset tag, serial number or hostname.")
@click.option(
    "--priority",
    type=click.Choice([p.value for p in Priority]),
    help="Override the matrix (needs --priority-reason).",
)
@click.option("--priority-reason")
@click.option("--queue")
@click.option("--assignee", metavar="LOGIN")
@json_option
@with_app
def new(app: AppContext, as_json: bool, **fields: Any) -> None:
    """Record a new ticket (priority from impact × urgency)."""
    detail = app.tickets.create(**fields)
    t = detail.ticket
    if as_json:
        render.emit_json(render.detail_json(detail, app.now()))
    else:
        render.say(
            f"{t.ref}: created, {t.priority.value}, queue {t.queue}, "
            f"{render.sla_text(t, app.now())}"
        )


@ticket.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in Status]))
@click.option("--open", "only_open", is_flag=True, help="Only tickets not resolved or closed.")
@click.option("--queue")
@click.option("--tier", type=LEVEL)
@click.option("--assignee", metavar="LOGIN")
@click.option("--mine", is_flag=True, help="Assigned to me.")
@click.option("--unassigned", is_flag=True)
@click.option(
    "--priority", "priorities", multiple=True, type=click.Choice([p.value for p in Priority])
)
@click.option("--breaching", is_flag=True, help="SLA deadline already passed.")
@click.option("--sort", type=click.Choice(SORT_KEYS), default="sla_due", show_default=True)
@click.option("--desc", is_flag=True, help="Sort descending.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@json_option
@with_app
def list_tickets(
    app: AppContext,
    statuses: tuple[str, ...],
    only_open: bool,
    queue: str | None,
    tier: int | None,
    assignee: str | None,
    mine: bool,
    unassigned: bool,
    priorities: tuple[str, ...],
    breaching: bool,
    sort: str,
    desc: bool,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """List tickets, most urgent SLA first."""
    if sum([bool(assignee), mine, unassigned]) > 1:
        raise click.UsageError("--assignee, --mine and --unassigned exclude each other")
    if mine:
        assignee = app.tickets.technician
        if not assignee:
            raise click.UsageError("--mine needs a technician: pass --as LOGIN")
    wanted = {Status(s) for s in statuses}
    if only_open:
        wanted |= {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.REOPENED}
    now = app.now()
    query = TicketQuery(
        statuses=frozenset(wanted),
        queue=queue,
        tier=tier,
        assignee=assignee,
        unassigned=unassigned,
        priorities=frozenset(Priority(p) for p in priorities),
        breaching_at=now if breaching else None,
        sort=sort,
        descending=desc,
    )
    rows = app.tickets.find(query, offset, limit)
    total = app.tickets.count(query)
    if as_json:
        render.emit_json(
            {
                "total": total,
                "offset": offset,
                "tickets": [render.summary_json(r, now) for r in rows],
            }
        )
        return
    render.print_table([render.summary_row(r, now) for r in rows], render.SUMMARY_HEADERS)
    render.say(f"{len(rows)} of {total} ticket(s)")


@ticket.command()
@click.argument("ref")
@json_option
@with_app
def show(app: AppContext, ref: str, as_json: bool) -> None:
    """Show a ticket with its requester, asset, worklog and unsynced changes."""
    detail = app.tickets.detail(ref)
    if as_json:
        render.emit_json(render.detail_json(detail, app.now()))
    else:
        render.print_detail(detail, app.now())


@ticket.command()
@click.argument("ref")
@click.option("--title")
@click.option("--description")
@click.option("--category")
@click.option("--impact", type=LEVEL, help=LEVEL_HELP)
@click.option("--urgency", type=LEVEL, help=LEVEL_HELP)
@click.option("--priority", type=click.Choice([p.value for p in Priority]))
@click.option("--priority-reason")
@click.option("--queue")
@click.option("--channel", type=click.Choice([c.value for c in Channel]))
@click.option("--requester", help="Requester id or e-mail ('' to clear).")
@click.option("--asset", help="Asset tag, serial or hostname ('' to clear).")
@json_option
@with_app
def update(app: AppContext, ref: str, as_json: bool, **fields: Any) -> None:
    """Change fields of a ticket (priority and SLA follow impact and urgency)."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("name at least one field to change")
    _done(app, app.tickets.update(ref, changes), as_json, "updated")


@ticket.command()
@click.argument("ref")
@click.argument("text")
@click.option("--call", is_flag=True, help="Record a phone call rather than a note.")
@click.option("--minutes", type=click.IntRange(0, 24 * 60), default=0, help="Time it took.")
@json_option
@with_app
def note(app: AppContext, ref: str, text: str, call: bool, minutes: int, as_json: bool) -> None:
    """Add a note (or a call) to the worklog."""
    detail = app.tickets.note(ref, text, "call" if call else "note", minutes)
    _done(app, detail, as_json, "call recorded" if call else "note added")


@ticket.command("log-time")
@click.argument("ref")
@click.argument("minutes", type=click.IntRange(1, 24 * 60))
@click.option("--note", "text", default="", help="What the time was spent on.")
@json_option
@with_app
def log_time(app: AppContext, ref: str, minutes: int, text: str, as_json: bool) -> None:
    """Log time spent on a ticket, in minutes."""
    _done(app, app.tickets.log_time(ref, minutes, text), as_json, f"{minutes} min logged")


@ticket.command()
@click.argument("ref")
@click.option("--to", "assignee", metavar="LOGIN", help="Assign to this technician (default: me).")
@json_option
@with_app
def assign(app: AppContext, ref: str, assignee: str | None, as_json: bool) -> None:
    """Assign a ticket (to yourself unless --to)."""
    detail = app.tickets.assign(ref, assignee)
    _done(app, detail, as_json, f"assigned to {detail.ticket.assignee}")


@ticket.command()
@click.argument("ref")
@json_option
@with_app
def start(app: AppContext, ref: str, as_json: bool) -> None:
    """Start working a ticket (also resumes a waiting one)."""
    _done(app, app.tickets.start(ref), as_json, "started")


@ticket.command()
@click.argument("ref")
@click.option("--reason", type=click.Choice([r.value for r in WaitReason]), required=True)
@click.option("--note", default="", help="What you are waiting for.")
@json_option
@with_app
def wait(app: AppContext, ref: str, reason: str, note: str, as_json: bool) -> None:
    """Put a ticket on hold; its SLA clock pauses."""
    _done(app, app.tickets.wait(ref, reason, note), as_json, f"waiting for {reason}")


@ticket.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why the next tier must take it.")
@click.option("--to", "assignee", metavar="LOGIN", help="Assign it in the next tier.")
@json_option
@with_app
def escalate(app: AppContext, ref: str, reason: str, assignee: str | None, as_json: bool) -> None:
    """Escalate to the next tier's queue."""
    detail = app.tickets.escalate(ref, reason, assignee)
    _done(app, detail, as_json, f"escalated to {detail.ticket.queue}")


@ticket.command()
@click.argument("ref")
@click.option("--resolution", help="What fixed it (required).")
@json_option
@with_app
def resolve(app: AppContext, ref: str, resolution: str | None, as_json: bool) -> None:
    """Resolve a ticket with a resolution note."""
    _done(app, app.tickets.resolve(ref, resolution), as_json, "resolved")


@ticket.command()
@click.argument("ref")
@json_option
@with_app
def close(app: AppContext, ref: str, as_json: bool) -> None:
    """Close a resolved ticket."""
    _done(app, app.tickets.close(ref), as_json, "closed")


@ticket.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why it is not fixed after all.")
@json_option
@with_app
def reopen(app: AppContext, ref: str, reason: str, as_json: bool) -> None:
    """Reopen a resolved or closed ticket within the reopen window."""
    _done(app, app.tickets.reopen(ref, reason), as_json, "reopened")
