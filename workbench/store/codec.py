"""Rows of the cache ↔ the domain's frozen dataclasses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import RowMapping

from workbench.core.models import (
    Asset,
    AssetStatus,
    Channel,
    OutboxOperation,
    Pause,
    Priority,
    Requester,
    Role,
    Site,
    Status,
    Technician,
    Ticket,
    WaitReason,
    WorklogEntry,
    WorklogKind,
)

Row = Mapping[str, Any] | RowMapping


def pauses_to_text(pauses: tuple[Pause, ...]) -> str:
    return json.dumps([[p.start.isoformat(), p.end.isoformat() if p.end else None] for p in pauses])


def pauses_from_text(text: str) -> tuple[Pause, ...]:
    return tuple(
        Pause(datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in json.loads(text)
    )


def ticket_from_row(row: Row) -> Ticket:
    return Ticket(
        id=row["id"],
        number=row["number"],
        provisional_ref=row["provisional_ref"],
        title=row["title"],
        description=row["description"],
        requester_id=row["requester_id"],
        asset_id=row["asset_id"],
        site_id=row["site_id"],
        category=row["category"],
        channel=Channel(row["channel"]),
        impact=row["impact"],
        urgency=row["urgency"],
        priority=Priority(row["priority"]),
        priority_reason=row["priority_reason"],
        queue=row["queue"],
        tier=row["tier"],
        assignee=row["assignee"],
        status=Status(row["status"]),
        wait_reason=WaitReason(row["wait_reason"]) if row["wait_reason"] else None,
        resolution=row["resolution"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        response_due=row["response_due"],
        resolve_due=row["resolve_due"],
        responded_at=row["responded_at"],
        resolved_at=row["resolved_at"],
        closed_at=row["closed_at"],
        sla_pauses=pauses_from_text(row["sla_pauses"]),
        version=row["version"],
    )


def column_value(value: Any) -> Any:
    """A dataclass field value as the cache stores it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple) and all(isinstance(p, Pause) for p in value):
        return pauses_to_text(value)
    return value


def ticket_to_row(ticket: Ticket) -> dict[str, Any]:
    row = {name: column_value(getattr(ticket, name)) for name in Ticket.__dataclass_fields__}
    row["sla_due"] = ticket.sla_due
    return row


def json_value(value: Any) -> Any:
    """A field value as it travels in an outbox operation (JSON)."""
    value = column_value(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def site_from_row(row: Row) -> Site:
    return Site(row["id"], row["name"], row["address"], row["timezone"])


def technician_from_row(row: Row) -> Technician:
    return Technician(
        row["login"], row["name"], row["tier"], Role(row["role"]), tuple(json.loads(row["sites"]))
    )


def requester_from_row(row: Row) -> Requester:
    return Requester(
        row["id"], row["name"], row["email"], row["phone"], row["department"], row["site_id"]
    )


def asset_from_row(row: Row) -> Asset:
    return Asset(
        id=row["id"],
        tag=row["tag"],
        serial=row["serial"],
        hostname=row["hostname"],
        model=row["model"],
        os=row["os"],
        site_id=row["site_id"],
        owner_id=row["owner_id"],
        purchase_date=row["purchase_date"],
        warranty_end=row["warranty_end"],
        status=AssetStatus(row["status"]),
        protocol=row["protocol"],
        port=row["port"],
        credential_profile=row["credential_profile"],
    )


def worklog_from_row(row: Row) -> WorklogEntry:
    return WorklogEntry(
        row["id"],
        row["ticket_id"],
        WorklogKind(row["kind"]),
        row["author"],
        row["text"],
        row["minutes"],
        row["created_at"],
    )


def outbox_from_row(row: Row) -> OutboxOperation:
    return OutboxOperation(
        row["client_id"],
        row["mutation_id"],
        row["entity"],
        row["entity_id"],
        row["op"],
        json.loads(row["fields"]),
        row["base_version"],
        row["created_at"],
    )
