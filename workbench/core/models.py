"""The entities of the domain as frozen dataclasses (DESIGN.md section 3).

Everything above the store receives these, never ORM rows. Times are aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from workbench.core.labels import word


class Status(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"

    @property
    def label(self) -> str:
        return word(self)


OPEN_STATUSES = frozenset(
    {Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.REOPENED}
)


class WaitReason(StrEnum):
    CUSTOMER = "customer"
    VENDOR = "vendor"
    PARTS = "parts"


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WALK_IN = "walk_in"
    FIELD = "field"
    PORTAL = "portal"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Role(StrEnum):
    """What a technician may do (DESIGN.md §11); the central database enforces it."""

    AGENT = "agent"
    FIELD = "field"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def leads(self) -> bool:
        """Approves recipes and trees, sets the policy, settles others' conflicts."""
        return self in (Role.LEAD, Role.ADMIN)


class AssetStatus(StrEnum):
    IN_SERVICE = "in_service"
    IN_REPAIR = "in_repair"
    RETIRED = "retired"


class WorklogKind(StrEnum):
    NOTE = "note"
    CALL = "call"
    STATUS_CHANGE = "status_change"
    FIELD_CHANGE = "field_change"
    TREE_TRANSCRIPT = "tree_transcript"
    REMOTE_JOB = "remote_job"
    TIME_SPENT = "time_spent"


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    address: str
    timezone: str


@dataclass(frozen=True, slots=True)
class Technician:
    login: str
    name: str
    tier: int
    role: Role
    sites: tuple[str, ...] = ()
    email: str = ""
    active: bool = True  # False: retired (history kept, may no longer sync)


@dataclass(frozen=True, slots=True)
class Requester:
    id: str
    name: str
    email: str
    phone: str
    department: str
    site_id: str | None
    active: bool = True  # False: gone from the directory (tickets keep them)


@dataclass(frozen=True, slots=True)
class Asset:
    id: str
    tag: str
    serial: str
    hostname: str
    model: str
    os: str
    site_id: str | None
    owner_id: str | None
    purchase_date: date | None
    warranty_end: date | None
    status: AssetStatus
    protocol: str | None = None
    port: int | None = None
    credential_profile: str | None = None

    def warranty_expired(self, today: date) -> bool:
        return self.warranty_end is not None and self.warranty_end < today


@dataclass(frozen=True, slots=True)
class Pause:
    """An interval in which the SLA clock stood still (waiting, or resolved until reopened)."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    number: str | None
    provisional_ref: str | None
    title: str
    description: str
    requester_id: str | None
    asset_id: str | None
    site_id: str | None
    category: str
    channel: Channel
    impact: int
    urgency: int
    priority: Priority
    priority_reason: str | None
    queue: str
    tier: int
    assignee: str | None
    status: Status
    wait_reason: WaitReason | None
    resolution: str | None
    created_at: datetime
    updated_at: datetime
    response_due: datetime | None
    resolve_due: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_pauses: tuple[Pause, ...] = ()
    version: int = 0

    @property
    def sla_paused(self) -> bool:
        return bool(self.sla_pauses) and self.sla_pauses[-1].end is None

    @property
    def ref(self) -> str:
        """What a technician calls this ticket: its central number, else its provisional ref."""
        return self.number or self.provisional_ref or self.id

    @property
    def sla_due(self) -> datetime | None:
        """The next SLA deadline while the clock runs; None when paused or no longer open."""
        if self.status not in OPEN_STATUSES or self.sla_paused:
            return None
        if self.responded_at is None and self.response_due is not None:
            if self.resolve_due is None:
                return self.response_due
            return min(self.response_due, self.resolve_due)
        return self.resolve_due

    def is_breaching(self, now: datetime) -> bool:
        due = self.sla_due
        return due is not None and due < now


@dataclass(frozen=True, slots=True)
class WorklogEntry:
    id: str
    ticket_id: str
    kind: WorklogKind
    author: str
    text: str
    minutes: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxOperation:
    client_id: str
    mutation_id: int
    entity: str
    entity_id: str
    op: str
    fields: dict[str, Any]
    base_version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TicketDetail:
    """A ticket with everything a pane shows beside it."""

    ticket: Ticket
    requester: Requester | None
    asset: Asset | None
    site: Site | None
    worklog: tuple[WorklogEntry, ...]
    pending: tuple[OutboxOperation, ...] = field(default=())
    minutes_spent: int = 0
