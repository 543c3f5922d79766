"""`workbench ticket ...`: intake, lists, details and every lifecycle action."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.core.errors import BadInput
from workbench.core.labels import parse, plural, word
from workbench.core.models import Channel, Priority, Status, TicketDetail, WaitReason
from workbench.core.query import SORT_KEYS, TicketQuery

LEVEL = WholeNumber(1, 3)
LEVEL_HELP = "1 (high) to 3 (low)"
REQUESTER_HELP = "Requester id, e-mail or full name."


class Words(click.ParamType[str, Any]):
    """A choice of an enum's members, given by code or by words: `walk_in`, `walk-in`,
    "Walk in"; the command gets the code."""

    def __init__(self, kind: type[StrEnum], what: str) -> None:
        self.kind = kind
        self.name = what

    def get_metavar(
        self,
        param: click.Parameter,  # noqa: ARG002  (click passes both by name)
        ctx: click.Context | None = None,  # noqa: ARG002
    ) -> str:
        return "[" + "|".join(word(member) for member in self.kind) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, self.kind):
            return value.value
        try:
            return parse(self.kind, str(value), self.name).value
        except BadInput as refusal:
            self.fail(str(refusal), param, ctx)


CHANNEL = Words(Channel, "channel")


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
@click.option("--channel", type=CHANNEL, default="phone", show_default=True)
@click.option("--description", default="")
@click.option("--requester", help=REQUESTER_HELP)
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
    _reason_needs_priority(fields)
    detail = app.tickets.create(**fields)
    t = detail.ticket
    if as_json:
        render.emit_json(render.detail_json(detail, app.now()))
    else:
        render.say(
            f"{t.ref}: created, {t.priority.value}, queue {t.queue}, "
            f"{app.sla_clock.left(t, app.now())}"
        )


def _reason_needs_priority(fields: dict[str, Any]) -> None:
    """A reason alone would be dropped without a word: it explains an override (an empty
    one, on update, returns the ticket to the matrix priority)."""
    reason = fields.get("priority_reason")
    if reason and reason.strip() and fields.get("priority") is None:
        raise click.UsageError("--priority-reason explains an override: give --priority too")


@ticket.command("list")
@click.option("--status", "statuses", multiple=True, type=Words(Status, "status"))
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
@click.option("--limit", type=WholeNumber(1, 10_000), default=50, show_default=True)
@click.option("--offset", type=WholeNumber(0, 1_000_000_000), default=0)
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
    render.print_table(
        [render.summary_row(r, now, app.sla_clock) for r in rows], render.SUMMARY_HEADERS
    )
    render.say(f"{len(rows):,} of {plural(total, 'ticket')}")


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
        render.print_detail(detail, app.now(), app.sla_clock)


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
@click.option("--channel", type=CHANNEL)
@click.option("--requester", help=REQUESTER_HELP + " ('' to clear)")
@click.option("--asset", help="Asset tag, serial or hostname ('' to clear).")
@json_option
@with_app
def update(app: AppContext, ref: str, as_json: bool, **fields: Any) -> None:
    """Change fields of a ticket (priority and SLA follow impact and urgency)."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("name at least one field to change")
    _reason_needs_priority(changes)
    _done(app, app.tickets.update(ref, changes), as_json, "updated")


@ticket.command()
@click.argument("ref")
@click.argument("text")
@click.option("--call", is_flag=True, help="Record a phone call rather than a note.")
@click.option("--minutes", type=WholeNumber(0, 24 * 60), default=0, help="Time it took.")
@json_option
@with_app
def note(app: AppContext, ref: str, text: str, call: bool, minutes: int, as_json: bool) -> None:
    """Add a note (or a call) to the worklog."""
    detail = app.tickets.note(ref, text, "call" if call else "note", minutes)
    _done(app, detail, as_json, "call recorded" if call else "note added")


@ticket.command("log-time")
@click.argument("ref")
@click.argument("minutes", type=WholeNumber(1, 24 * 60))
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
@click.option("--reason", type=Words(WaitReason, "waiting reason"), required=True)
@click.option("--note", default="", help="What you are waiting for.")
@json_option
@with_app
def wait(app: AppContext, ref: str, reason: str, note: str, as_json: bool) -> None:
    """Put a ticket on hold; its SLA clock pauses."""
    _done(app, app.tickets.wait(ref, reason, note), as_json, f"waiting for {reason}")


@ticket.command()
@click.argument("ref")
@click.option("--reason", required=True, help="Why the next tier must take it.")
@click.option("--queue", help="A higher tier's queue (default: the next tier's).")
@click.option(
    "--to", "assignee", metavar="LOGIN", help="Assign it to a technician of that queue's tier."
)
@json_option
@with_app
def escalate(
    app: AppContext,
    ref: str,
    reason: str,
    queue: str | None,
    assignee: str | None,
    as_json: bool,
) -> None:
    """Escalate to a higher tier's queue; whoever had the ticket is released."""
    detail = app.tickets.escalate(ref, reason, assignee, queue)
    t = detail.ticket
    whom = f", assigned to {t.assignee}" if t.assignee else ", unassigned"
    _done(app, detail, as_json, f"escalated to {t.queue} (tier {t.tier}){whom}")


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
