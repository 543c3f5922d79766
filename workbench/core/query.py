"""What a ticket list asks the store for: filters and sort order (no SQL here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.core.errors import BadInput
from workbench.core.models import Priority, Status, Ticket

SORT_KEYS = (
    "sla_due",
    "number",
    "priority",
    "title",
    "requester",
    "asset",
    "status",
    "assignee",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class TicketQuery:
    statuses: frozenset[Status] = frozenset()
    queue: str | None = None
    tier: int | None = None
    assignee: str | None = None
    unassigned: bool = False
    priorities: frozenset[Priority] = frozenset()
    breaching_at: datetime | None = None  # only tickets whose SLA deadline passed before this
    sort: str = "sla_due"
    descending: bool = False

    def __post_init__(self) -> None:
        if self.sort not in SORT_KEYS:
            raise BadInput(f"cannot sort by {self.sort!r}; choose one of {', '.join(SORT_KEYS)}")


@dataclass(frozen=True, slots=True)
class TicketSummary:
    """A ticket with the names a list row shows beside it."""

    ticket: Ticket
    requester_name: str | None
    asset_tag: str | None
    hostname: str | None


@dataclass(frozen=True, slots=True)
class SearchHit:
    summary: TicketSummary
    snippet: str
    rank: float
