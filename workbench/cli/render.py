"""What the CLI prints: the stable JSON shapes (documented in README) and the human text.

Human text goes out through `say`, which shows control characters visibly
(workbench.core.display): tickets, recipes, trees and remote output are written by others and
must not drive the technician's terminal. JSON stays exact: `emit_json` writes those characters
as \\u escapes, which decode to the very same text.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

import click

from workbench.core.display import UNSAFE, visible
from workbench.core.labels import plural, word
from workbench.core.models import Asset, Requester, Site, Ticket, TicketDetail
from workbench.core.query import SearchHit, TicketSummary
from workbench.core.sla import SlaClock


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return record_json(value)
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


def record_json(item: Any) -> dict[str, Any]:
    """A domain record as JSON: its fields by name, enums as values, times in ISO 8601."""
    return {f.name: _plain(getattr(item, f.name)) for f in fields(item)}


def ticket_json(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return {
        **record_json(ticket),
        "ref": ticket.ref,
        "sla_due": _plain(ticket.sla_due),
        "sla_paused": ticket.sla_paused,
        "breaching": ticket.is_breaching(now),
    }


def summary_json(summary: TicketSummary, now: datetime) -> dict[str, Any]:
    return {
        **ticket_json(summary.ticket, now),
        "requester_name": summary.requester_name,
        "asset_tag": summary.asset_tag,
        "hostname": summary.hostname,
    }


def hit_json(hit: SearchHit, now: datetime) -> dict[str, Any]:
    return {**summary_json(hit.summary, now), "snippet": hit.snippet, "rank": hit.rank}


def _optional(item: Any) -> dict[str, Any] | None:
    return None if item is None else record_json(item)


def detail_json(detail: TicketDetail, now: datetime) -> dict[str, Any]:
    return {
        "ticket": ticket_json(detail.ticket, now),
        "requester": _optional(detail.requester),
        "asset": detail.asset
        and {
            **record_json(detail.asset),
            "warranty_expired": detail.asset.warranty_expired(now.date()),
        },
        "site": _optional(detail.site),
        "worklog": [record_json(e) for e in detail.worklog],
        "minutes_spent": detail.minutes_spent,
        "outbox": [record_json(op) for op in detail.pending],
    }


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def emit_json(payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    # json.dumps escapes C0 controls itself but writes DEL, C1 and bidi controls raw. Outside
    # its strings JSON text is ASCII punctuation, spaces and newlines, so every such character
    # stands inside a string, where its \\u escape decodes to the same text: programs get it
    # exactly, and a terminal showing the JSON is not driven by it.
    click.echo(UNSAFE.sub(_json_escape, text))


def say(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Print human text (to stderr with ``err``), control characters shown visibly."""
    click.echo(visible(text), err=err, nl=nl)


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    # Columns are as wide as the text shown, so the cells are made visible before measuring
    # (say does it again; visible text has no control character left to change).
    shown = [[visible(cell) for cell in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in shown)) if shown else len(h) for i, h in enumerate(headers)
    ]
    say("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in shown:
        say("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cut(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_row(summary: TicketSummary, now: datetime, clock: SlaClock) -> list[str]:
    t = summary.ticket
    return [
        t.ref,
        t.priority.value,
        t.status.label,
        _cut(t.title, 48),
        _cut(summary.requester_name, 20),
        summary.asset_tag or "",
        t.assignee or "",
        t.queue,
        clock.left(t, now),
    ]


SUMMARY_HEADERS = [
    "REF",
    "PRI",
    "STATUS",
    "TITLE",
    "REQUESTER",
    "ASSET",
    "ASSIGNEE",
    "QUEUE",
    "SLA",
]


def print_detail(detail: TicketDetail, now: datetime, clock: SlaClock) -> None:
    t = detail.ticket
    say(f"{t.ref}  {t.title}")
    aliases = f" (provisional {t.provisional_ref})" if t.number and t.provisional_ref else ""
    say(
        f"  status    {t.status.label}{aliases}"
        + (f" — waiting for {word(t.wait_reason)}" if t.wait_reason else "")
    )
    override = f" — override: {t.priority_reason}" if t.priority_reason else ""
    say(f"  priority  {t.priority.value} (impact {t.impact} × urgency {t.urgency}){override}")
    say(f"  category  {t.category} via {word(t.channel)}")
    say(f"  queue     {t.queue} (tier {t.tier}), assignee {t.assignee or '—'}")
    say(f"  SLA       {clock.left(t, now)}")
    for name, deadline in clock.deadlines(t):
        say(f"  {name:<9} {deadline}")
    if detail.requester:
        r = detail.requester
        say(f"  requester {r.name} <{r.email}> {r.phone} — {r.department}")
    if detail.asset:
        a = detail.asset
        warranty = "warranty EXPIRED " if a.warranty_expired(now.date()) else "warranty to "
        say(
            f"  asset     {a.tag} {a.hostname} s/n {a.serial} — {a.model}, {a.os}; "
            f"{warranty}{a.warranty_end or '—'}"
        )
    if t.resolution:
        say(f"  resolved  {t.resolution}")
    if t.description:
        say("")
        say("  " + t.description.replace("\n", "\n  "))
    say("")
    say(f"Worklog ({detail.minutes_spent} min spent):")
    for entry in detail.worklog:
        minutes = f" [{entry.minutes} min]" if entry.minutes else ""
        say(
            f"  {_local(entry.created_at, clock, t)}  {entry.author:<14} {word(entry.kind):<15} "
            f"{entry.text}{minutes}"
        )
    if detail.pending:
        say(f"\n{plural(len(detail.pending), 'change')} not yet synced.")


def _local(moment: datetime, clock: SlaClock, ticket: Ticket) -> str:
    """A worklog time in the ticket's site's zone, named (as its due times are)."""
    local = moment.astimezone(ZoneInfo(clock.zone(ticket)))
    return local.strftime("%Y-%m-%d %H:%M %Z")


REQUESTER_HEADERS = ["NAME", "E-MAIL", "PHONE", "DEPARTMENT", "SITE"]


def requester_row(requester: Requester, site_names: dict[str, str]) -> list[str]:
    gone = "" if requester.active else " (gone)"
    site = site_names.get(requester.site_id, requester.site_id) if requester.site_id else ""
    return [
        _cut(requester.name, 28) + gone,
        requester.email,
        requester.phone,
        _cut(requester.department, 24),
        _cut(site, 24),
    ]


def print_requester(
    requester: Requester,
    site: Site | None,
    open_tickets: list[TicketSummary],
    assets: list[Asset],
    now: datetime,
    clock: SlaClock,
) -> None:
    gone = "" if requester.active else "  (gone from the directory)"
    say(f"{requester.name} <{requester.email or 'no e-mail'}>{gone}")
    say(f"  phone       {requester.phone or '—'}")
    say(f"  department  {requester.department or '—'}")
    say(f"  site        {site.name if site else requester.site_id or '—'}")
    say("")
    say(f"Open tickets: {plural(len(open_tickets), 'ticket')}")
    if open_tickets:
        print_table([summary_row(s, now, clock) for s in open_tickets], SUMMARY_HEADERS)
    say("")
    say(f"Assets: {plural(len(assets), 'asset')}")
    if assets:
        print_table(
            [[a.tag, a.hostname, a.serial, a.model, word(a.status)] for a in assets],
            ["TAG", "HOSTNAME", "SERIAL", "MODEL", "STATUS"],
        )
