"""The ticket lifecycle: which action is allowed from which status, and what it changes.

Every function is pure: it takes a ticket and returns a `Change` (the ticket after, the changed
fields, the worklog events to append) or raises a `WorkbenchError` that explains the refusal.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workbench.core.errors import BadInput, TransitionRefused
from workbench.core.labels import parse, word
from workbench.core.models import (
    OPEN_STATUSES,
    Channel,
    Pause,
    Status,
    Ticket,
    WaitReason,
    WorklogKind,
)
from workbench.core.policy import SlaPolicy, check_level
from workbench.core.sla import due_time

# action -> statuses it may start from
ALLOWED_FROM: dict[str, frozenset[Status]] = {
    "assign": frozenset(OPEN_STATUSES),
    "start": frozenset({Status.NEW, Status.ASSIGNED, Status.WAITING, Status.REOPENED}),
    "wait": frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.REOPENED}),
    "escalate": frozenset(OPEN_STATUSES),
    "resolve": frozenset(OPEN_STATUSES),
    "close": frozenset({Status.RESOLVED}),
    "reopen": frozenset({Status.RESOLVED, Status.CLOSED}),
    "edit": frozenset(OPEN_STATUSES | {Status.RESOLVED}),
}

EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "category",
        "impact",
        "urgency",
        "priority",
        "priority_reason",
        "requester_id",
        "asset_id",
        "site_id",
        "queue",
        "channel",
    }
)


def allowed_actions(status: Status) -> list[str]:
    return [action for action, sources in ALLOWED_FROM.items() if status in sources]


@dataclass(frozen=True, slots=True)
class Event:
    """A worklog entry a change produces."""

    kind: WorklogKind
    text: str
    minutes: int = 0


@dataclass(frozen=True, slots=True)
class Change:
    ticket: Ticket
    fields: dict[str, Any]
    events: tuple[Event, ...]


def _require(action: str, ticket: Ticket) -> None:
    if ticket.status in ALLOWED_FROM[action]:
        return
    sources = ", ".join(sorted(s.label for s in ALLOWED_FROM[action]))
    possible = ", ".join(allowed_actions(ticket.status)) or "nothing"
    raise TransitionRefused(
        f"cannot {action} {ticket.ref}: it is {ticket.status.label}; {action} is allowed from "
        f"{sources}. From {ticket.status.label} you can: {possible}"
    )


def _text(value: str | None, refusal: str) -> str:
    """The stripped text, or BadInput(refusal) when there is none."""
    if value is None or not value.strip():
        raise BadInput(refusal)
    return value.strip()


def _channel(value: str) -> Channel:
    return parse(Channel, value, "channel")


def _close_pause(ticket: Ticket, now: datetime) -> tuple[Pause, ...]:
    if not ticket.sla_paused:
        return ticket.sla_pauses
    return (*ticket.sla_pauses[:-1], Pause(ticket.sla_pauses[-1].start, now))


def _open_pause(pauses: tuple[Pause, ...], now: datetime) -> tuple[Pause, ...]:
    return (*pauses, Pause(now))


def _due_times(
    ticket: Ticket, policy: SlaPolicy, timezone: str | None
) -> tuple[datetime, datetime]:
    target = policy.target(ticket.priority, timezone)
    return (
        due_time(target.calendar, ticket.created_at, target.response_minutes, ticket.sla_pauses),
        due_time(target.calendar, ticket.created_at, target.resolve_minutes, ticket.sla_pauses),
    )


def with_due_times(ticket: Ticket, policy: SlaPolicy, timezone: str | None) -> Ticket:
    """The ticket with response/resolve due times recomputed from its priority and pauses."""
    response_due, resolve_due = _due_times(ticket, policy, timezone)
    return dataclasses.replace(ticket, response_due=response_due, resolve_due=resolve_due)


# Worked out once: a demo seed makes a few million changes.
_TICKET_FIELDS = tuple(f.name for f in dataclasses.fields(Ticket))


def _change(
    before: Ticket,
    after: Ticket,
    events: list[Event],
    policy: SlaPolicy,
    timezone: str | None,
    now: datetime,
) -> Change:
    response_due, resolve_due = _due_times(after, policy, timezone)
    after = dataclasses.replace(
        after, updated_at=now, response_due=response_due, resolve_due=resolve_due
    )
    fields = {
        name: getattr(after, name)
        for name in _TICKET_FIELDS
        if getattr(after, name) != getattr(before, name)
    }
    return Change(after, fields, tuple(events))


def opening_event(ticket: Ticket) -> Event:
    """The worklog line that records a new ticket: how it came in and why its priority."""
    why = (
        f"impact {ticket.impact} × urgency {ticket.urgency}"
        if ticket.priority_reason is None
        else f"overridden: {ticket.priority_reason}"
    )
    return Event(
        WorklogKind.STATUS_CHANGE,
        f"opened via {word(ticket.channel)}: {ticket.priority.value} ({why})",
    )


def _status_event(before: Ticket, after: Status, detail: str = "") -> Event:
    # Escalating a new ticket keeps it new (in another queue): say so without "new → new".
    text = (
        before.status.label if before.status is after else f"{before.status.label} → {after.label}"
    )
    return Event(WorklogKind.STATUS_CHANGE, f"{text}: {detail}" if detail else text)


class Lifecycle:
    """The lifecycle rules bound to one SLA policy."""

    def __init__(self, policy: SlaPolicy) -> None:
        self.policy = policy

    def new_ticket(
        self,
        *,
        ticket_id: str,
        provisional_ref: str,
        title: str,
        description: str,
        category: str,
        channel: str,
        impact: int,
        urgency: int,
        now: datetime,
        timezone: str | None,
        requester_id: str | None = None,
        asset_id: str | None = None,
        site_id: str | None = None,
        priority: str | None = None,
        priority_reason: str | None = None,
        queue: str | None = None,
        assignee: str | None = None,
    ) -> Ticket:
        decided, reason = self.policy.decide_priority(impact, urgency, priority, priority_reason)
        queue = queue or self.policy.queue_for_tier(1)
        channel_value = _channel(channel)
        ticket = Ticket(
            id=ticket_id,
            number=None,
            provisional_ref=provisional_ref,
            title=_text(title, "the title must not be empty"),
            description=description.strip(),
            requester_id=requester_id,
            asset_id=asset_id,
            site_id=site_id,
            category=self.policy.check_category(category),
            channel=channel_value,
            impact=impact,
            urgency=urgency,
            priority=decided,
            priority_reason=reason,
            queue=queue,
            tier=self.policy.tier_of_queue(queue),
            assignee=assignee,
            status=Status.ASSIGNED if assignee else Status.NEW,
            wait_reason=None,
            resolution=None,
            created_at=now,
            updated_at=now,
            response_due=None,
            resolve_due=None,
            responded_at=None,
            resolved_at=None,
            closed_at=None,
        )
        return with_due_times(ticket, self.policy, timezone)

    def edit(
        self, ticket: Ticket, changes: dict[str, Any], now: datetime, timezone: str | None
    ) -> Change:
        _require("edit", ticket)
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise BadInput(f"cannot edit {', '.join(sorted(unknown))} of a ticket")
        values = dict(changes)
        if "title" in values:
            values["title"] = _text(values["title"], "the title must not be empty")
        if "category" in values:
            self.policy.check_category(values["category"])
        if "channel" in values:
            values["channel"] = _channel(values["channel"])
        if "queue" in values:
            values["tier"] = self.policy.tier_of_queue(values["queue"])
        impact = check_level("impact", values.get("impact", ticket.impact))
        urgency = check_level("urgency", values.get("urgency", ticket.urgency))
        if {"impact", "urgency", "priority", "priority_reason"} & set(values):
            override = values.pop("priority", None)
            reason = values.pop("priority_reason", ticket.priority_reason)
            if override is None and ticket.priority_reason and reason and reason.strip():
                # keep an earlier justified override (also when only its reason is reworded);
                # clearing the reason returns the ticket to the matrix priority
                override = ticket.priority.value
            priority, reason = self.policy.decide_priority(impact, urgency, override, reason)
            values.update(priority=priority, priority_reason=reason)
        after = dataclasses.replace(ticket, **values)
        change = _change(ticket, after, [], self.policy, timezone, now)
        hidden = _DERIVED_FIELDS - set(changes)  # what the caller set explicitly is logged
        shown = {k: v for k, v in change.fields.items() if k not in hidden}
        if not shown:
            raise BadInput(f"nothing to change on {ticket.ref}")
        text = "; ".join(
            f"{word(name)}: {_show(getattr(ticket, name))} → {_show(value)}"
            for name, value in shown.items()
        )
        return dataclasses.replace(change, events=(Event(WorklogKind.FIELD_CHANGE, text),))

    def assign(self, ticket: Ticket, assignee: str, now: datetime, timezone: str | None) -> Change:
        _require("assign", ticket)
        if ticket.assignee == assignee:
            raise BadInput(f"{ticket.ref} is already assigned to {assignee}")
        status = (
            Status.ASSIGNED if ticket.status in (Status.NEW, Status.REOPENED) else ticket.status
        )
        after = dataclasses.replace(ticket, assignee=assignee, status=status)
        events = [
            Event(WorklogKind.FIELD_CHANGE, f"assignee: {_show(ticket.assignee)} → {assignee}")
        ]
        if status != ticket.status:
            events.append(_status_event(ticket, status))
        return _change(ticket, after, events, self.policy, timezone, now)

    def start(self, ticket: Ticket, actor: str, now: datetime, timezone: str | None) -> Change:
        _require("start", ticket)
        after = dataclasses.replace(
            ticket,
            status=Status.IN_PROGRESS,
            assignee=ticket.assignee or actor,
            wait_reason=None,
            responded_at=ticket.responded_at or now,
            sla_pauses=_close_pause(ticket, now),
        )
        return _change(
            ticket, after, [_status_event(ticket, Status.IN_PROGRESS)], self.policy, timezone, now
        )

    def wait(
        self, ticket: Ticket, reason: str, note: str, now: datetime, timezone: str | None
    ) -> Change:
        _require("wait", ticket)
        wait_reason = parse(WaitReason, reason, "waiting reason")
        after = dataclasses.replace(
            ticket,
            status=Status.WAITING,
            wait_reason=wait_reason,
            responded_at=ticket.responded_at or now,
            sla_pauses=_open_pause(ticket.sla_pauses, now),
        )
        detail = f"for {wait_reason.value}" + (f" — {note.strip()}" if note.strip() else "")
        return _change(
            ticket,
            after,
            [_status_event(ticket, Status.WAITING, detail)],
            self.policy,
            timezone,
            now,
        )

    def escalation_queues(self, tier: int) -> list[str]:
        """The queues a ticket of `tier` may be escalated to: those of every tier above it."""
        return [queue for above, queue in sorted(self.policy.queues.items()) if above > tier]

    def escalate(
        self,
        ticket: Ticket,
        reason: str,
        now: datetime,
        timezone: str | None,
        assignee: str | None = None,
        *,
        queue: str | None = None,
    ) -> Change:
        """Move `ticket` to `queue` (default: the next tier's), to `assignee` or to nobody:
        whoever had it is released, as the tier it leaves no longer works it."""
        _require("escalate", ticket)
        higher = self.escalation_queues(ticket.tier)
        if not higher:
            raise TransitionRefused(
                f"cannot escalate {ticket.ref}: it is already at tier {ticket.tier}, the highest"
            )
        reason = _text(
            reason, f"escalating {ticket.ref} needs a reason: why the next tier must take it"
        )
        queue = queue.strip() if queue and queue.strip() else higher[0]
        tier = self.policy.tier_of_queue(queue)
        if queue not in higher:
            raise TransitionRefused(
                f"cannot escalate {ticket.ref} to {queue}: that is a tier-{tier} queue and the "
                f"ticket is at tier {ticket.tier}; escalate to {' or '.join(higher)}"
            )
        status = Status.ASSIGNED if assignee else Status.NEW
        after = dataclasses.replace(
            ticket,
            tier=tier,
            queue=queue,
            assignee=assignee,
            status=status,
            wait_reason=None,
            sla_pauses=_close_pause(ticket, now),
        )
        whom = f", assigned to {assignee}" if assignee else ""
        released = (
            f", unassigned from {ticket.assignee}"
            if ticket.assignee and ticket.assignee != assignee
            else ""
        )
        event = _status_event(
            ticket, status, f"escalated to tier {tier} ({queue}){whom}{released}: {reason}"
        )
        return _change(ticket, after, [event], self.policy, timezone, now)

    def resolve(
        self,
        ticket: Ticket,
        resolution: str | None,
        actor: str,
        now: datetime,
        timezone: str | None,
    ) -> Change:
        _require("resolve", ticket)
        resolution = _text(resolution, f"resolving {ticket.ref} needs a resolution: what fixed it")
        after = dataclasses.replace(
            ticket,
            status=Status.RESOLVED,
            resolution=resolution,
            resolved_at=now,
            responded_at=ticket.responded_at or now,
            assignee=ticket.assignee or actor,
            wait_reason=None,
            sla_pauses=_open_pause(_close_pause(ticket, now), now),
        )
        return _change(
            ticket,
            after,
            [_status_event(ticket, Status.RESOLVED, resolution)],
            self.policy,
            timezone,
            now,
        )

    def close(self, ticket: Ticket, now: datetime, timezone: str | None) -> Change:
        _require("close", ticket)
        after = dataclasses.replace(ticket, status=Status.CLOSED, closed_at=now)
        return _change(
            ticket, after, [_status_event(ticket, Status.CLOSED)], self.policy, timezone, now
        )

    def reopen(self, ticket: Ticket, reason: str, now: datetime, timezone: str | None) -> Change:
        _require("reopen", ticket)
        reason = _text(reason, f"reopening {ticket.ref} needs a reason: what is still wrong")
        resolved_at = ticket.resolved_at or ticket.updated_at
        if now - resolved_at > self.policy.reopen_window:
            days = self.policy.reopen_window.days
            raise TransitionRefused(
                f"cannot reopen {ticket.ref}: it was resolved on {resolved_at:%Y-%m-%d}, more "
                f"than {days} days ago; open a new ticket that refers to it"
            )
        after = dataclasses.replace(
            ticket,
            status=Status.REOPENED,
            resolution=None,
            resolved_at=None,
            closed_at=None,
            sla_pauses=_close_pause(ticket, now),
        )
        return _change(
            ticket,
            after,
            [_status_event(ticket, Status.REOPENED, reason)],
            self.policy,
            timezone,
            now,
        )


# Fields a change recomputes by itself; they are not worth a worklog line of their own.
_DERIVED_FIELDS = frozenset(
    {"updated_at", "response_due", "resolve_due", "tier", "priority_reason", "sla_pauses"}
)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Status | Channel | WaitReason):
        return word(value)
    return str(value)
