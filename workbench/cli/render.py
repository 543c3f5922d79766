"""What the CLI prints: the stable JSON shapes (documented in README) and the human text."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import click

from workbench.core.models import (
    Asset,
    OutboxOperation,
    Requester,
    Site,
    Ticket,
    TicketDetail,
    WorklogEntry,
)
from workbench.core.query import SearchHit, TicketSummary
from workbench.core.sla import sla_text


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_json(ticket: Ticket, now: datetime) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "ref": ticket.ref,
        "number": ticket.number,
        "provisional_ref": ticket.provisional_ref,
        "title": ticket.title,
        "description": ticket.description,
        "category": ticket.category,
        "channel": ticket.channel.value,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "priority": ticket.priority.value,
        "priority_reason": ticket.priority_reason,
        "queue": ticket.queue,
        "tier": ticket.tier,
        "assignee": ticket.assignee,
        "status": ticket.status.value,
        "wait_reason": ticket.wait_reason.value if ticket.wait_reason else None,
        "resolution": ticket.resolution,
        "requester_id": ticket.requester_id,
        "asset_id": ticket.asset_id,
        "site_id": ticket.site_id,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "response_due": _iso(ticket.response_due),
        "resolve_due": _iso(ticket.resolve_due),
        "responded_at": _iso(ticket.responded_at),
        "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
        "sla_due": _iso(ticket.sla_due),
        "sla_paused": ticket.sla_paused,
        "breaching": ticket.is_breaching(now),
        "version": ticket.version,
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


def requester_json(requester: Requester | None) -> dict[str, Any] | None:
    if requester is None:
        return None
    return {
        "id": requester.id,
        "name": requester.name,
        "email": requester.email,
        "phone": requester.phone,
        "department": requester.department,
        "site_id": requester.site_id,
    }


def asset_json(asset: Asset | None, today: date) -> dict[str, Any] | None:
    if asset is None:
        return None
    return {
        "id": asset.id,
        "tag": asset.tag,
        "serial": asset.serial,
        "hostname": asset.hostname,
        "model": asset.model,
        "os": asset.os,
        "site_id": asset.site_id,
        "owner_id": asset.owner_id,
        "purchase_date": _iso(asset.purchase_date),
        "warranty_end": _iso(asset.warranty_end),
        "warranty_expired": asset.warranty_expired(today),
        "status": asset.status.value,
    }


def site_json(site: Site | None) -> dict[str, Any] | None:
    if site is None:
        return None
    return {"id": site.id, "name": site.name, "address": site.address, "timezone": site.timezone}


def worklog_json(entry: WorklogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "author": entry.author,
        "text": entry.text,
        "minutes": entry.minutes,
        "created_at": _iso(entry.created_at),
    }


def operation_json(op: OutboxOperation) -> dict[str, Any]:
    return {
        "client_id": op.client_id,
        "mutation_id": op.mutation_id,
        "entity": op.entity,
        "entity_id": op.entity_id,
        "op": op.op,
        "fields": op.fields,
        "base_version": op.base_version,
        "created_at": _iso(op.created_at),
    }


def detail_json(detail: TicketDetail, now: datetime) -> dict[str, Any]:
    return {
        "ticket": ticket_json(detail.ticket, now),
        "requester": requester_json(detail.requester),
        "asset": asset_json(detail.asset, now.date()),
        "site": site_json(detail.site),
        "worklog": [worklog_json(e) for e in detail.worklog],
        "minutes_spent": detail.minutes_spent,
        "outbox": [operation_json(op) for op in detail.pending],
    }


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cut(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def summary_row(summary: TicketSummary, now: datetime) -> list[str]:
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
        sla_text(t, now),
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


def print_detail(detail: TicketDetail, now: datetime) -> None:
    t = detail.ticket
    click.echo(f"{t.ref}  {t.title}")
    aliases = f" (provisional {t.provisional_ref})" if t.number and t.provisional_ref else ""
    click.echo(
        f"  status    {t.status.label}{aliases}"
        + (f" — waiting for {t.wait_reason.value}" if t.wait_reason else "")
    )
    override = f" — override: {t.priority_reason}" if t.priority_reason else ""
    click.echo(
        f"  priority  {t.priority.value} (impact {t.impact} × urgency {t.urgency}){override}"
    )
    click.echo(f"  category  {t.category} via {t.channel.value}")
    click.echo(f"  queue     {t.queue} (tier {t.tier}), assignee {t.assignee or '—'}")
    click.echo(
        f"  SLA       {sla_text(t, now)}; response due {_local(t.response_due)}, "
        f"resolve due {_local(t.resolve_due)}"
    )
    if detail.requester:
        r = detail.requester
        click.echo(f"  requester {r.name} <{r.email}> {r.phone} — {r.department}")
    if detail.asset:
        a = detail.asset
        warranty = "warranty EXPIRED " if a.warranty_expired(now.date()) else "warranty to "
        click.echo(
            f"  asset     {a.tag} {a.hostname} s/n {a.serial} — {a.model}, {a.os}; "
            f"{warranty}{_iso(a.warranty_end) or '—'}"
        )
    if t.resolution:
        click.echo(f"  resolved  {t.resolution}")
    if t.description:
        click.echo("")
        click.echo("  " + t.description.replace("\n", "\n  "))
    click.echo("")
    click.echo(f"Worklog ({detail.minutes_spent} min spent):")
    for entry in detail.worklog:
        minutes = f" [{entry.minutes} min]" if entry.minutes else ""
        click.echo(
            f"  {_local(entry.created_at)}  {entry.author:<14} {entry.kind.value:<13} "
            f"{entry.text}{minutes}"
        )
    if detail.pending:
        click.echo(f"\n{len(detail.pending)} change(s) not yet synced.")


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"
