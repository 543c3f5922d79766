"""The ticket lifecycle: every action from every status, and what each change produces."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from workbench.core.errors import BadInput, TransitionRefused
from workbench.core.lifecycle import (
    ALLOWED_FROM,
    EDITABLE_FIELDS,
    Change,
    Event,
    Lifecycle,
    allowed_actions,
)
from workbench.core.models import (
    OPEN_STATUSES,
    Channel,
    Pause,
    Priority,
    Status,
    Ticket,
    WaitReason,
    WorklogKind,
)
from workbench.core.policy import SlaPolicy


def pst(day: int, hour: int, minute: int = 0) -> datetime:
    """A Los Angeles wall-clock moment in November 2026 (PST, UTC-8), as aware UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) + timedelta(hours=8)


CREATED = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)  # Monday 08:00 PST: the office opens
LATER = pst(16, 10)  # when the action under test happens


def new(lifecycle: Lifecycle, **overrides: Any) -> Ticket:
    values: dict[str, Any] = {
        "ticket_id": "0192f3a0-0000-7000-8000-000000000001",
        "provisional_ref": "P-0001-0001",
        "title": "Outlook keeps asking for the password",
        "description": "Since this morning",
        "category": "email",
        "channel": "phone",
        "impact": 2,
        "urgency": 2,
        "now": CREATED,
        "timezone": None,
    }
    values.update(overrides)
    return lifecycle.new_ticket(**values)


def in_status(lifecycle: Lifecycle, status: Status) -> Ticket:
    """A ticket brought into `status` by the lifecycle itself, with alice as its assignee."""
    ticket = new(lifecycle)
    if status is Status.NEW:
        return ticket
    ticket = lifecycle.assign(ticket, "alice", pst(16, 8, 5), None).ticket
    if status is Status.ASSIGNED:
        return ticket
    if status in (Status.RESOLVED, Status.CLOSED, Status.REOPENED):
        ticket = lifecycle.resolve(ticket, "reset the profile", "alice", pst(16, 9), None).ticket
        if status is Status.CLOSED:
            ticket = lifecycle.close(ticket, pst(16, 9, 30), None).ticket
        if status is Status.REOPENED:
            ticket = lifecycle.reopen(ticket, "asks again", pst(16, 9, 30), None).ticket
        return ticket
    ticket = lifecycle.start(ticket, "alice", pst(16, 8, 10), None).ticket
    if status is Status.WAITING:
        ticket = lifecycle.wait(ticket, "customer", "", pst(16, 9), None).ticket
    return ticket


# action -> how to call it with valid arguments at LATER
ACTIONS: dict[str, Callable[[Lifecycle, Ticket], Change]] = {
    "assign": lambda lc, t: lc.assign(t, "bob", LATER, None),
    "start": lambda lc, t: lc.start(t, "bob", LATER, None),
    "wait": lambda lc, t: lc.wait(t, "vendor", "RMA opened", LATER, None),
    "escalate": lambda lc, t: lc.escalate(t, "needs a site visit", LATER, None),
    "resolve": lambda lc, t: lc.resolve(t, "replaced the cable", "bob", LATER, None),
    "close": lambda lc, t: lc.close(t, LATER, None),
    "reopen": lambda lc, t: lc.reopen(t, "still broken", LATER, None),
    "edit": lambda lc, t: lc.edit(t, {"title": "Outlook password prompt"}, LATER, None),
}


def expected_status(action: str, before: Status) -> Status:
    """The documented outcome of an allowed action (DESIGN.md section 3)."""
    if action == "assign":
        return Status.ASSIGNED if before in (Status.NEW, Status.REOPENED) else before
    return {
        "start": Status.IN_PROGRESS,
        "wait": Status.WAITING,
        "escalate": Status.NEW,  # unassigned in the next tier's queue
        "resolve": Status.RESOLVED,
        "close": Status.CLOSED,
        "reopen": Status.REOPENED,
        "edit": before,
    }[action]


def test_every_action_has_a_caller_and_every_status_is_covered() -> None:
    assert set(ACTIONS) == set(ALLOWED_FROM)
    assert all(callable(getattr(Lifecycle, action)) for action in ALLOWED_FROM)
    for status in Status:
        assert allowed_actions(status), f"{status} is a dead end"


def test_the_table_follows_the_design() -> None:
    assert ALLOWED_FROM["close"] == {Status.RESOLVED}
    assert ALLOWED_FROM["reopen"] == {Status.RESOLVED, Status.CLOSED}
    assert ALLOWED_FROM["resolve"] == OPEN_STATUSES
    assert ALLOWED_FROM["escalate"] == OPEN_STATUSES
    assert Status.WAITING not in ALLOWED_FROM["wait"]
    assert Status.IN_PROGRESS not in ALLOWED_FROM["start"]
    assert Status.CLOSED not in ALLOWED_FROM["edit"]
    assert allowed_actions(Status.CLOSED) == ["reopen"]
    assert allowed_actions(Status.RESOLVED) == ["close", "reopen", "edit"]


@pytest.mark.parametrize("status", list(Status), ids=str)
def test_in_status_builds_the_requested_status(lifecycle: Lifecycle, status: Status) -> None:
    assert in_status(lifecycle, status).status is status


@pytest.mark.parametrize("status", list(Status), ids=str)
@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_every_action_from_every_status(lifecycle: Lifecycle, action: str, status: Status) -> None:
    ticket = in_status(lifecycle, status)
    if status in ALLOWED_FROM[action]:
        change = ACTIONS[action](lifecycle, ticket)
        assert change.ticket.status is expected_status(action, status)
        assert change.ticket.updated_at == LATER
        assert change.fields["updated_at"] == LATER
        assert change.events, "every change leaves a worklog trace"
        # the changed fields, and only them
        for field in dataclasses.fields(Ticket):
            name = field.name
            changed = getattr(change.ticket, name) != getattr(ticket, name)
            assert (name in change.fields) == changed, name
            if changed:
                assert change.fields[name] == getattr(change.ticket, name)
        if change.ticket.status is not status:
            expected_text = f"{status.label} → {change.ticket.status.label}"
            texts = [e.text for e in change.events if e.kind is WorklogKind.STATUS_CHANGE]
            assert len(texts) == 1
            assert texts[0].startswith(expected_text)
        else:
            assert "status" not in change.fields
            if action != "escalate":  # an escalation is logged as a status line even new → new
                assert all(e.kind is not WorklogKind.STATUS_CHANGE for e in change.events)
    else:
        with pytest.raises(TransitionRefused) as excinfo:
            ACTIONS[action](lifecycle, ticket)
        message = str(excinfo.value)
        assert message.startswith(f"cannot {action} {ticket.ref}: it is {status.label};")
        assert f"From {status.label} you can: {', '.join(allowed_actions(status))}" in message
        for source in ALLOWED_FROM[action]:
            assert source.label in message


# -- worklog events and changed fields ----------------------------------------------------


def test_start_from_assigned(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.ASSIGNED)
    change = lifecycle.start(ticket, "bob", LATER, None)
    assert change.events == (Event(WorklogKind.STATUS_CHANGE, "assigned → in progress"),)
    assert set(change.fields) == {"status", "responded_at", "updated_at"}
    assert change.ticket.assignee == "alice"  # the assignee stays; the actor does not take over
    assert change.ticket.responded_at == LATER


def test_start_from_new_takes_the_ticket_and_keeps_the_first_response(lifecycle: Lifecycle) -> None:
    change = lifecycle.start(new(lifecycle), "bob", LATER, None)
    assert change.ticket.assignee == "bob"
    assert change.events == (Event(WorklogKind.STATUS_CHANGE, "new → in progress"),)
    again = lifecycle.wait(change.ticket, "customer", "", pst(16, 11), None)
    later = lifecycle.start(again.ticket, "bob", pst(16, 12), None)
    assert later.ticket.responded_at == LATER
    assert "responded_at" not in later.fields


def test_assign_events(lifecycle: Lifecycle) -> None:
    change = lifecycle.assign(new(lifecycle), "alice", LATER, None)
    assert change.events == (
        Event(WorklogKind.FIELD_CHANGE, "assignee: — → alice"),
        Event(WorklogKind.STATUS_CHANGE, "new → assigned"),
    )
    assert set(change.fields) == {"assignee", "status", "updated_at"}
    reassigned = lifecycle.assign(change.ticket, "bob", pst(16, 11), None)
    assert reassigned.events == (Event(WorklogKind.FIELD_CHANGE, "assignee: alice → bob"),)
    assert set(reassigned.fields) == {"assignee", "updated_at"}


def test_assign_to_the_same_technician_is_refused(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.ASSIGNED)
    with pytest.raises(BadInput, match="already assigned to alice"):
        lifecycle.assign(ticket, "alice", LATER, None)


def test_assign_while_waiting_keeps_waiting_and_the_pause(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.WAITING)
    change = lifecycle.assign(ticket, "bob", LATER, None)
    assert change.ticket.status is Status.WAITING
    assert change.ticket.sla_paused


def test_new_ticket_with_an_assignee_starts_assigned(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, assignee="alice")
    assert (ticket.status, ticket.assignee) == (Status.ASSIGNED, "alice")
    assert (ticket.queue, ticket.tier) == ("service-desk", 1)


def test_new_ticket_fields_and_due_times(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, title="  Printer jam  ", description="  tray 2 ")
    assert ticket.title == "Printer jam" and ticket.description == "tray 2"
    assert (ticket.priority, ticket.priority_reason) == (Priority.P3, None)
    assert ticket.channel is Channel.PHONE
    assert ticket.ref == "P-0001-0001"
    assert (ticket.created_at, ticket.updated_at) == (CREATED, CREATED)
    # P3 in Los Angeles business time: 2h response, 24 business hours resolve.
    assert ticket.response_due == pst(16, 10)
    assert ticket.resolve_due == pst(18, 14)
    assert ticket.sla_pauses == ()


def test_new_ticket_in_a_site_time_zone(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, timezone="Europe/Berlin")  # 17:00 in Berlin: closing time
    assert ticket.response_due == datetime(2026, 11, 17, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"impact": 4}, "impact must be 1"),
        ({"urgency": 0}, "urgency must be 1"),
        ({"channel": "fax"}, "channel must be one of phone, e-mail, walk-in"),
        ({"category": "coffee"}, "unknown category 'coffee'"),
        ({"title": "   "}, "title must not be empty"),
        ({"queue": "helpdesk"}, "unknown queue 'helpdesk'"),
        ({"priority": "P1"}, "needs a reason"),
    ],
)
def test_new_ticket_refuses_bad_input(
    lifecycle: Lifecycle, overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        new(lifecycle, **overrides)


def test_new_ticket_with_a_justified_override(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3, priority="p2", priority_reason=" VIP ")
    assert (ticket.priority, ticket.priority_reason) == (Priority.P2, "VIP")
    assert ticket.response_due == pst(16, 8, 30)


def test_new_ticket_in_a_higher_tier_queue(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, queue="engineering")
    assert ticket.tier == 3


# -- resolve / close / reopen -------------------------------------------------------------


@pytest.mark.parametrize("resolution", [None, "", "   "])
def test_resolve_without_a_resolution_is_refused(
    lifecycle: Lifecycle, resolution: str | None
) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    with pytest.raises(BadInput, match="needs a resolution"):
        lifecycle.resolve(ticket, resolution, "alice", LATER, None)


def test_resolve_keeps_the_resolution_and_pauses_the_clock(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    change = lifecycle.resolve(ticket, "  reset the profile ", "bob", LATER, None)
    after = change.ticket
    assert after.resolution == "reset the profile"
    assert after.resolved_at == LATER
    assert after.assignee == "alice"
    assert after.sla_pauses == (Pause(LATER),)
    assert change.events == (
        Event(WorklogKind.STATUS_CHANGE, "in progress → resolved: reset the profile"),
    )
    assert set(change.fields) == {"status", "resolution", "resolved_at", "sla_pauses", "updated_at"}


def test_resolve_from_new_counts_as_the_response(lifecycle: Lifecycle) -> None:
    change = lifecycle.resolve(new(lifecycle), "known issue, fixed", "bob", LATER, None)
    assert change.ticket.responded_at == LATER
    assert change.ticket.assignee == "bob"


def test_resolve_while_waiting_closes_the_wait_and_opens_a_new_pause(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.WAITING)  # waiting since Mon 09:00
    change = lifecycle.resolve(ticket, "vendor shipped a fix", "alice", LATER, None)
    assert change.ticket.sla_pauses == (Pause(pst(16, 9), LATER), Pause(LATER))
    assert change.ticket.wait_reason is None


def test_close_only_from_resolved(lifecycle: Lifecycle) -> None:
    change = lifecycle.close(in_status(lifecycle, Status.RESOLVED), LATER, None)
    assert change.ticket.closed_at == LATER
    assert change.events == (Event(WorklogKind.STATUS_CHANGE, "resolved → closed"),)
    for status in set(Status) - {Status.RESOLVED}:
        with pytest.raises(TransitionRefused, match="close is allowed from resolved"):
            lifecycle.close(in_status(lifecycle, status), LATER, None)


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED], ids=str)
def test_reopen_clears_the_resolution(lifecycle: Lifecycle, status: Status) -> None:
    ticket = in_status(lifecycle, status)
    change = lifecycle.reopen(ticket, "  user says it is back ", LATER, None)
    after = change.ticket
    assert after.status is Status.REOPENED
    assert (after.resolution, after.resolved_at, after.closed_at) == (None, None, None)
    assert not after.sla_paused
    assert change.events == (
        Event(WorklogKind.STATUS_CHANGE, f"{status.label} → reopened: user says it is back"),
    )


@pytest.mark.parametrize("reason", ["", "  "])
def test_reopen_needs_a_reason(lifecycle: Lifecycle, reason: str) -> None:
    with pytest.raises(BadInput, match="reopening .* needs a reason: what is still wrong"):
        lifecycle.reopen(in_status(lifecycle, Status.RESOLVED), reason, LATER, None)


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED], ids=str)
def test_reopen_only_within_the_window(
    lifecycle: Lifecycle, policy: SlaPolicy, status: Status
) -> None:
    assert policy.reopen_window == timedelta(days=14)
    ticket = in_status(lifecycle, status)
    resolved_at = ticket.resolved_at
    assert resolved_at == pst(16, 9)
    assert (
        lifecycle.reopen(ticket, "again", resolved_at + timedelta(days=14), None).ticket.status
        is Status.REOPENED
    )
    for late in (timedelta(days=14, minutes=1), timedelta(days=15)):
        with pytest.raises(TransitionRefused) as excinfo:
            lifecycle.reopen(ticket, "again", resolved_at + late, None)
        message = str(excinfo.value)
        assert "resolved on 2026-11-16" in message
        assert "more than 14 days ago" in message
        assert "open a new ticket" in message


# -- escalation ---------------------------------------------------------------------------


def test_escalate_moves_up_one_tier_at_a_time(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    first = lifecycle.escalate(ticket, "needs a site visit", LATER, None)
    assert (first.ticket.tier, first.ticket.queue) == (2, "field-support")
    assert (first.ticket.status, first.ticket.assignee) == (Status.NEW, None)
    assert first.events == (
        Event(
            WorklogKind.STATUS_CHANGE,
            "in progress → new: escalated to tier 2 (field-support), unassigned from alice: "
            "needs a site visit",
        ),
    )
    assert set(first.fields) == {"tier", "queue", "assignee", "status", "updated_at"}
    second = lifecycle.escalate(first.ticket, "firmware bug", pst(16, 11), None, assignee="eve")
    assert (second.ticket.tier, second.ticket.queue) == (3, "engineering")
    assert (second.ticket.status, second.ticket.assignee) == (Status.ASSIGNED, "eve")
    with pytest.raises(TransitionRefused, match="already at tier 3, the highest"):
        lifecycle.escalate(second.ticket, "more", pst(16, 12), None)


@pytest.mark.parametrize("queue", ["engineering", " engineering "])
def test_escalate_to_a_chosen_queue_skips_tiers(lifecycle: Lifecycle, queue: str) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    change = lifecycle.escalate(ticket, "firmware bug", LATER, None, "eve", queue=queue)
    assert (change.ticket.tier, change.ticket.queue) == (3, "engineering")
    assert (change.ticket.status, change.ticket.assignee) == (Status.ASSIGNED, "eve")
    assert change.events[0].text == (
        "in progress → assigned: escalated to tier 3 (engineering), assigned to eve, "
        "unassigned from alice: firmware bug"
    )


@pytest.mark.parametrize(
    ("tier_before", "queue", "refusal"),
    [
        (1, "service-desk", "to service-desk: that is a tier-1 queue and the ticket is at tier 1"),
        (2, "service-desk", "that is a tier-1 queue and the ticket is at tier 2; escalate to "
         "engineering$"),
        (2, "field-support", "that is a tier-2 queue and the ticket is at tier 2"),
    ],
)  # fmt: skip
def test_escalate_refuses_a_queue_of_the_same_or_a_lower_tier(
    lifecycle: Lifecycle, tier_before: int, queue: str, refusal: str
) -> None:
    ticket = in_status(lifecycle, Status.ASSIGNED)
    if tier_before == 2:
        ticket = lifecycle.escalate(ticket, "site visit", LATER, None).ticket
    with pytest.raises(TransitionRefused, match=refusal):
        lifecycle.escalate(ticket, "why not", LATER, None, queue=queue)


def test_escalate_refuses_an_unknown_queue(lifecycle: Lifecycle) -> None:
    with pytest.raises(BadInput, match="unknown queue 'helpdesk'; queues are service-desk"):
        lifecycle.escalate(new(lifecycle), "why", LATER, None, queue="helpdesk")


def test_escalate_keeps_an_assignee_named_again(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.ASSIGNED)
    change = lifecycle.escalate(ticket, "site visit", LATER, None, "alice")
    assert change.ticket.assignee == "alice" and "unassigned" not in change.events[0].text


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_escalate_needs_a_reason(lifecycle: Lifecycle, reason: str | None) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    with pytest.raises(BadInput, match="escalating .* needs a reason: why the next tier"):
        lifecycle.escalate(ticket, reason, LATER, None)  # type: ignore[arg-type]


def test_escalate_while_waiting_resumes_the_clock(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.WAITING)  # waiting since 09:00
    change = lifecycle.escalate(ticket, "vendor unresponsive", LATER, None)
    assert change.ticket.sla_pauses == (Pause(pst(16, 9), LATER),)
    assert change.ticket.wait_reason is None
    assert change.ticket.resolve_due == ticket.resolve_due + timedelta(hours=1)  # type: ignore[operator]


# -- waiting and the SLA clock ------------------------------------------------------------


def test_wait_pauses_the_clock_and_start_resumes_it_pushing_the_due_time(
    lifecycle: Lifecycle,
) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    assert ticket.resolve_due == pst(18, 14)  # Wednesday 14:00
    waiting = lifecycle.wait(ticket, "parts", "  SSD ordered ", LATER, None)
    assert waiting.ticket.status is Status.WAITING
    assert waiting.ticket.wait_reason is WaitReason.PARTS
    assert waiting.ticket.sla_paused and waiting.ticket.sla_due is None
    assert waiting.events == (
        Event(WorklogKind.STATUS_CHANGE, "in progress → waiting: for parts — SSD ordered"),
    )
    # An open pause does not move the due times yet.
    assert set(waiting.fields) == {"status", "wait_reason", "sla_pauses", "updated_at"}
    assert waiting.ticket.resolve_due == ticket.resolve_due

    # Waited Mon 10:00 .. Tue 09:00: 7h + 1h = 8 business hours.
    resumed = lifecycle.start(waiting.ticket, "alice", pst(17, 9), None)
    assert resumed.ticket.status is Status.IN_PROGRESS
    assert resumed.ticket.wait_reason is None
    assert resumed.ticket.sla_pauses == (Pause(LATER, pst(17, 9)),)
    assert resumed.ticket.resolve_due == pst(19, 13)  # Wed 14:00 + 8 business hours
    assert resumed.ticket.response_due == ticket.response_due  # due before the pause began
    assert resumed.events == (Event(WorklogKind.STATUS_CHANGE, "waiting → in progress"),)
    assert set(resumed.fields) == {
        "status",
        "wait_reason",
        "sla_pauses",
        "resolve_due",
        "updated_at",
    }


def test_waiting_before_the_response_delays_the_response_due_too(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.ASSIGNED)  # response due Mon 10:00
    waiting = lifecycle.wait(ticket, "customer", "", pst(16, 8, 30), None)
    assert waiting.ticket.responded_at == pst(16, 8, 30)  # asking the customer is a response
    assert waiting.events[0].text == "assigned → waiting: for customer"
    resumed = lifecycle.start(waiting.ticket, "alice", pst(16, 9, 30), None)
    assert resumed.ticket.response_due == pst(16, 11)


def test_waiting_over_a_weekend_only_pushes_by_business_time(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, now=pst(20, 15))  # Friday 15:00; resolve due Wed 12:00
    assert ticket.resolve_due == pst(25, 12)
    started = lifecycle.start(ticket, "alice", pst(20, 15, 30), None).ticket
    waiting = lifecycle.wait(started, "vendor", "", pst(20, 16), None).ticket
    resumed = lifecycle.start(waiting, "alice", pst(23, 9), None).ticket  # Fri 1h + Mon 1h
    assert resumed.resolve_due == pst(25, 14)


@pytest.mark.parametrize("reason", ["lunch", "", "parts please"])
def test_wait_needs_a_known_reason(lifecycle: Lifecycle, reason: str) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    with pytest.raises(BadInput, match="waiting reason must be one of customer, vendor, parts"):
        lifecycle.wait(ticket, reason, "", LATER, None)


def test_resolve_then_reopen_pauses_and_resumes_the_clock(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    resolved = lifecycle.resolve(ticket, "cleared the cache", "alice", pst(16, 12), None).ticket
    assert resolved.sla_paused
    assert resolved.resolve_due == ticket.resolve_due
    # Resolved Mon 12:00 .. reopened Tue 12:00: 5h + 4h = one business day of 9h.
    reopened = lifecycle.reopen(resolved, "came back", pst(17, 12), None)
    assert reopened.ticket.sla_pauses == (Pause(pst(16, 12), pst(17, 12)),)
    assert reopened.ticket.resolve_due == pst(19, 14)  # Wed 14:00 + 9h -> Thu 14:00
    assert {"resolve_due", "sla_pauses"} <= set(reopened.fields)
    assert reopened.ticket.sla_due == reopened.ticket.resolve_due


def test_the_24x7_clock_pauses_in_wall_time(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=1, urgency=1)  # P1: 15m / 4h around the clock
    assert ticket.resolve_due == CREATED + timedelta(hours=4)
    started = lifecycle.start(ticket, "alice", CREATED + timedelta(minutes=5), None).ticket
    waiting = lifecycle.wait(started, "vendor", "", CREATED + timedelta(hours=1), None).ticket
    resumed = lifecycle.start(waiting, "alice", CREATED + timedelta(hours=3), None).ticket
    assert resumed.resolve_due == CREATED + timedelta(hours=6)


# -- edit ---------------------------------------------------------------------------------


def test_edit_recomputes_priority_and_due_times(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3)
    assert ticket.priority is Priority.P4
    change = lifecycle.edit(ticket, {"impact": 1, "urgency": 1}, LATER, None)
    after = change.ticket
    assert (after.impact, after.urgency, after.priority) == (1, 1, Priority.P1)
    assert after.response_due == CREATED + timedelta(minutes=15)
    assert after.resolve_due == CREATED + timedelta(hours=4)
    assert set(change.fields) == {
        "impact",
        "urgency",
        "priority",
        "response_due",
        "resolve_due",
        "updated_at",
    }
    assert change.events == (
        Event(WorklogKind.FIELD_CHANGE, "impact: 3 → 1; urgency: 3 → 1; priority: P4 → P1"),
    )


def test_edit_of_one_level_keeps_the_other(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=2, urgency=2)
    change = lifecycle.edit(ticket, {"urgency": 1}, LATER, None)
    assert (change.ticket.impact, change.ticket.priority) == (2, Priority.P2)
    assert change.ticket.resolve_due == pst(16, 16)  # P2: 8 business hours from 08:00


def test_edit_that_keeps_the_priority_keeps_the_due_times(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=2, urgency=3)  # P3
    change = lifecycle.edit(ticket, {"urgency": 2}, LATER, None)  # still P3
    assert set(change.fields) == {"urgency", "updated_at"}
    assert change.events == (Event(WorklogKind.FIELD_CHANGE, "urgency: 3 → 2"),)


@pytest.mark.parametrize(
    "changes",
    [
        {"status": "closed"},
        {"assignee": "bob"},
        {"resolution": "x"},
        {"created_at": CREATED},
        {"title": "ok", "tier": 2},
        {"number": "HD-000001"},
    ],
    ids=",".join,
)
def test_edit_refuses_unknown_fields(lifecycle: Lifecycle, changes: dict[str, Any]) -> None:
    assert not set(changes) - {"title"} <= EDITABLE_FIELDS
    with pytest.raises(BadInput, match="cannot edit"):
        lifecycle.edit(new(lifecycle), changes, LATER, None)


@pytest.mark.parametrize("title", [None, "", "   "])
def test_edit_refuses_an_empty_title(lifecycle: Lifecycle, title: str | None) -> None:
    with pytest.raises(BadInput, match="title must not be empty"):
        lifecycle.edit(new(lifecycle), {"title": title}, LATER, None)


def test_edit_trims_the_title_and_logs_it(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle)
    change = lifecycle.edit(ticket, {"title": "  Outlook prompt  "}, LATER, None)
    assert change.ticket.title == "Outlook prompt"
    assert change.events == (
        Event(
            WorklogKind.FIELD_CHANGE,
            "title: Outlook keeps asking for the password → Outlook prompt",
        ),
    )


def test_edit_with_nothing_new_is_refused(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle)
    with pytest.raises(BadInput, match="nothing to change on P-0001-0001"):
        lifecycle.edit(ticket, {"title": ticket.title, "impact": 2}, LATER, None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"impact": 0}, "impact must be 1"),
        ({"urgency": 5}, "urgency must be 1"),
        ({"category": "coffee"}, "unknown category"),
        ({"queue": "helpdesk"}, "unknown queue"),
        ({"priority": "P1"}, "needs a reason"),
        ({"priority": "P9", "priority_reason": "x"}, "priority must be one of"),
        ({"channel": "fax"}, "channel must be one of"),
    ],
)
def test_edit_refuses_bad_values(
    lifecycle: Lifecycle, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        lifecycle.edit(new(lifecycle), changes, LATER, None)


def test_edit_channel_and_queue(lifecycle: Lifecycle) -> None:
    change = lifecycle.edit(
        new(lifecycle), {"channel": "walk_in", "queue": "engineering"}, LATER, None
    )
    assert change.ticket.channel is Channel.WALK_IN
    assert (change.ticket.queue, change.ticket.tier) == ("engineering", 3)
    assert change.events == (
        Event(
            WorklogKind.FIELD_CHANGE,
            "channel: phone → walk-in; queue: service-desk → engineering",
        ),
    )


def test_edit_override_needs_a_reason_and_keeps_it(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3)  # P4
    change = lifecycle.edit(ticket, {"priority": "P2", "priority_reason": "VIP"}, LATER, None)
    assert (change.ticket.priority, change.ticket.priority_reason) == (Priority.P2, "VIP")
    assert change.ticket.response_due == pst(16, 8, 30)
    assert change.events == (
        Event(WorklogKind.FIELD_CHANGE, "priority: P4 → P2; priority reason: — → VIP"),
    )


def test_edit_keeps_a_justified_override_when_levels_change(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3, priority="P2", priority_reason="VIP")
    change = lifecycle.edit(ticket, {"urgency": 2}, LATER, None)  # matrix: P4
    assert (change.ticket.priority, change.ticket.priority_reason) == (Priority.P2, "VIP")
    assert set(change.fields) == {"urgency", "updated_at"}
    # When the matrix catches up with the override, the override (and its reason) dissolve.
    caught_up = lifecycle.edit(change.ticket, {"impact": 2, "urgency": 1}, LATER, None)
    assert (caught_up.ticket.priority, caught_up.ticket.priority_reason) == (Priority.P2, None)


def test_edit_can_replace_an_override_by_the_matrix_priority(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3, priority="P2", priority_reason="VIP")
    change = lifecycle.edit(ticket, {"priority": "P4"}, LATER, None)
    assert (change.ticket.priority, change.ticket.priority_reason) == (Priority.P4, None)
    assert change.events == (Event(WorklogKind.FIELD_CHANGE, "priority: P2 → P4"),)


def test_edit_of_the_reason_alone_keeps_the_override(lifecycle: Lifecycle) -> None:
    ticket = new(lifecycle, impact=3, urgency=3, priority="P2", priority_reason="VIP")
    change = lifecycle.edit(ticket, {"priority_reason": "VIP, board meeting at 2"}, LATER, None)
    assert change.ticket.priority is Priority.P2
    assert change.ticket.priority_reason == "VIP, board meeting at 2"
    assert change.events == (
        Event(WorklogKind.FIELD_CHANGE, "priority reason: VIP → VIP, board meeting at 2"),
    )


@pytest.mark.parametrize("cleared", [None, "", "  "])
def test_edit_clearing_the_reason_returns_to_the_matrix(
    lifecycle: Lifecycle, cleared: str | None
) -> None:
    ticket = new(lifecycle, impact=3, urgency=3, priority="P2", priority_reason="VIP")
    change = lifecycle.edit(ticket, {"priority_reason": cleared}, LATER, None)
    assert (change.ticket.priority, change.ticket.priority_reason) == (Priority.P4, None)
    assert change.ticket.response_due == pst(16, 16)  # P4: 8 business hours


def test_edit_of_a_reason_without_an_override_changes_nothing(lifecycle: Lifecycle) -> None:
    with pytest.raises(BadInput, match="nothing to change"):
        lifecycle.edit(new(lifecycle), {"priority_reason": "feels urgent"}, LATER, None)


def test_edit_of_a_resolved_ticket_is_allowed_and_of_a_closed_one_refused(
    lifecycle: Lifecycle,
) -> None:
    resolved = in_status(lifecycle, Status.RESOLVED)
    change = lifecycle.edit(resolved, {"category": "account"}, LATER, None)
    assert change.ticket.category == "account"
    assert change.ticket.status is Status.RESOLVED
    closed = in_status(lifecycle, Status.CLOSED)
    with pytest.raises(TransitionRefused, match="From closed you can: reopen"):
        lifecycle.edit(closed, {"category": "account"}, LATER, None)


def test_changes_never_mutate_the_ticket_they_start_from(lifecycle: Lifecycle) -> None:
    ticket = in_status(lifecycle, Status.IN_PROGRESS)
    snapshot = dataclasses.replace(ticket)
    lifecycle.wait(ticket, "customer", "", LATER, None)
    lifecycle.escalate(ticket, "why not", LATER, None)
    assert ticket == snapshot
