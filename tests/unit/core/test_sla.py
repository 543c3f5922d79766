"""SLA due times with pauses, the remaining fraction, and a ticket's next deadline."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.calendar import BusinessCalendar
from workbench.core.lifecycle import Lifecycle
from workbench.core.models import Pause, Priority, Status, Ticket
from workbench.core.policy import SlaPolicy
from workbench.core.sla import SlaClock, due_time, remaining_fraction, span_text

# Mon-Fri 08:00-17:00 in UTC, so that local and UTC times read the same.
OFFICE = BusinessCalendar("UTC", frozenset(range(5)), time(8), time(17))
ALWAYS = BusinessCalendar("UTC", frozenset(range(7)), time(0), time(23, 59), always=True)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in the week of Monday 2026-11-16 (day 16) .. Monday 23, in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


MONDAY_0900 = at(16, 9)
FOUR_HOURS = 240


def test_without_pauses_it_is_plain_business_arithmetic() -> None:
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, []) == at(16, 13)
    assert due_time(OFFICE, MONDAY_0900, 600, ()) == at(17, 10)


def test_a_pause_in_business_hours_pushes_the_due_time_by_its_length() -> None:
    pauses = [Pause(at(16, 10), at(16, 11))]
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, pauses) == at(16, 14)


def test_a_pause_over_closing_pushes_only_by_its_business_length() -> None:
    # Mon 16:00 .. Tue 09:00 holds 1h of Monday and 1h of Tuesday business time.
    pauses = [Pause(at(16, 16), at(17, 9))]
    assert due_time(OFFICE, MONDAY_0900, 600, []) == at(17, 10)
    assert due_time(OFFICE, MONDAY_0900, 600, pauses) == at(17, 12)


@pytest.mark.parametrize(
    "pause",
    [
        Pause(at(16, 17), at(17, 8)),  # overnight, closing to opening
        Pause(at(16, 18), at(16, 23)),  # evening
        Pause(at(21, 10), at(22, 18)),  # weekend
        Pause(at(16, 6), at(16, 7, 59)),  # early morning
    ],
    ids=["overnight", "evening", "weekend", "early-morning"],
)
def test_a_pause_entirely_outside_business_hours_changes_nothing(pause: Pause) -> None:
    friday_1500 = at(20, 15)
    # Mon 09:00 + 20h of business time runs to Wed 11:00 and crosses the first two pauses;
    # Fri 15:00 + 4h crosses the weekend; all must land where they would without a pause.
    for start, minutes in ((MONDAY_0900, 1200), (friday_1500, FOUR_HOURS), (at(16, 5), 60)):
        assert due_time(OFFICE, start, minutes, [pause]) == OFFICE.add(start, minutes)


@pytest.mark.parametrize(
    "pause",
    [Pause(at(16, 14), at(16, 15)), Pause(at(16, 13), at(16, 16)), Pause(at(18, 9), at(19, 9))],
    ids=["after-due", "exactly-at-due", "days-later"],
)
def test_a_pause_that_starts_at_or_after_the_due_time_changes_nothing(pause: Pause) -> None:
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, [pause]) == at(16, 13)


def test_a_pause_that_spans_the_due_time_pushes_it_past_the_pause() -> None:
    # Three hours run before the pause, the fourth after it.
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, [Pause(at(16, 12), at(16, 15))]) == at(16, 16)


def test_an_open_pause_is_ignored() -> None:
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, [Pause(at(16, 10))]) == at(16, 13)
    closed_then_open = [Pause(at(16, 10), at(16, 11)), Pause(at(16, 12))]
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, closed_then_open) == at(16, 14)


def test_several_pauses_add_up_in_any_order() -> None:
    pauses = [
        Pause(at(16, 11), at(16, 11, 15)),
        Pause(at(16, 10), at(16, 10, 30)),
        Pause(at(16, 16, 30), at(17, 8, 30)),
    ]  # 15 + 30 + (30 + 30) business minutes
    expected = OFFICE.add(MONDAY_0900, 600 + 105)
    assert due_time(OFFICE, MONDAY_0900, 600, pauses) == expected
    assert due_time(OFFICE, MONDAY_0900, 600, list(reversed(pauses))) == expected
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, pauses[:2]) == at(16, 13, 45)


def test_overlapping_pauses_count_once() -> None:
    pauses = [Pause(at(16, 10), at(16, 11)), Pause(at(16, 10, 30), at(16, 11, 30))]
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, pauses) == at(16, 14, 30)
    nested = [Pause(at(16, 10), at(16, 12)), Pause(at(16, 10, 30), at(16, 11))]
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, nested) == at(16, 15)


def test_a_pause_from_before_the_start_only_counts_after_the_start() -> None:
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, [Pause(at(16, 8), at(16, 9, 30))]) == at(
        16, 13, 30
    )
    assert due_time(OFFICE, MONDAY_0900, FOUR_HOURS, [Pause(at(16, 7), at(16, 8))]) == at(16, 13)


def test_pauses_on_a_24x7_clock_count_wall_time() -> None:
    saturday = at(21, 22)
    assert due_time(ALWAYS, saturday, FOUR_HOURS, [Pause(at(21, 23), at(22, 1))]) == at(22, 4)


PAUSE_STARTS = st.integers(min_value=0, max_value=14 * 24 * 60)
PAUSE_LENGTHS = st.integers(min_value=0, max_value=3 * 24 * 60)


def _union_minutes(
    calendar: BusinessCalendar, pauses: list[Pause], lo: datetime, hi: datetime
) -> float:
    """Business minutes inside [lo, hi] covered by at least one pause."""
    spans = sorted((max(p.start, lo), min(p.end, hi)) for p in pauses if p.end is not None)
    merged: list[list[datetime]] = []
    for start, end in spans:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return sum(calendar.minutes_between(start, end) for start, end in merged)


@settings(max_examples=120, deadline=None)
@given(
    minutes=st.integers(min_value=1, max_value=5 * 540),
    raw=st.lists(st.tuples(PAUSE_STARTS, PAUSE_LENGTHS), max_size=4),
)
def test_the_running_clock_between_start_and_due_is_the_target(
    minutes: int, raw: list[tuple[int, int]]
) -> None:
    pauses = [
        Pause(MONDAY_0900 + timedelta(minutes=s), MONDAY_0900 + timedelta(minutes=s + n))
        for s, n in raw
    ]
    due = due_time(OFFICE, MONDAY_0900, minutes, pauses)
    running = OFFICE.minutes_between(MONDAY_0900, due) - _union_minutes(
        OFFICE, pauses, MONDAY_0900, due
    )
    assert abs(running - minutes) < 1 / 60
    assert due >= OFFICE.add(MONDAY_0900, minutes)


# -- remaining fraction and the ticket's deadline ----------------------------------------


def test_remaining_fraction() -> None:
    start, due = at(16, 9), at(16, 13)
    assert remaining_fraction(start, due, start) == 1.0
    assert remaining_fraction(start, due, at(16, 12)) == 0.25
    assert remaining_fraction(start, due, due) == 0.0
    assert remaining_fraction(start, due, at(16, 17)) == -1.0
    assert remaining_fraction(start, start, start) == -1.0  # degenerate span counts as breached


def _ticket(lifecycle: Lifecycle) -> Ticket:
    return lifecycle.new_ticket(
        ticket_id="t-1",
        provisional_ref="P-ABCD-0001",
        title="Printer jam",
        description="",
        category="printing",
        channel="phone",
        impact=2,
        urgency=2,
        now=datetime(2026, 11, 16, 16, 0, tzinfo=UTC),
        timezone=None,
    )


def test_sla_due_is_the_earlier_deadline_until_responded(lifecycle: Lifecycle) -> None:
    ticket = _ticket(lifecycle)
    assert ticket.response_due is not None and ticket.resolve_due is not None
    assert ticket.sla_due == ticket.response_due < ticket.resolve_due
    responded = dataclasses.replace(ticket, responded_at=ticket.created_at)
    assert responded.sla_due == ticket.resolve_due
    assert not ticket.is_breaching(ticket.response_due)
    assert ticket.is_breaching(ticket.response_due + timedelta(seconds=1))


def test_no_deadline_while_paused_or_no_longer_open(lifecycle: Lifecycle) -> None:
    ticket = _ticket(lifecycle)
    assert ticket.resolve_due is not None
    late = ticket.resolve_due + timedelta(days=30)
    paused = dataclasses.replace(ticket, sla_pauses=(Pause(ticket.created_at),))
    assert paused.sla_paused and paused.sla_due is None and not paused.is_breaching(late)
    resumed = dataclasses.replace(
        ticket, sla_pauses=(Pause(ticket.created_at, ticket.created_at + timedelta(hours=1)),)
    )
    assert not resumed.sla_paused and resumed.sla_due is not None
    for status in (Status.RESOLVED, Status.CLOSED):
        done = dataclasses.replace(ticket, status=status)
        assert done.sla_due is None and not done.is_breaching(late)


# -- how targets and time left read -------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "calendar", "text"),
    [
        (3 * 540, OFFICE, "3 business days"),
        (540, OFFICE, "1 business day"),
        (2 * 540 + 240, OFFICE, "2 business days 4 h"),
        (240, OFFICE, "4 business hours"),
        (60, OFFICE, "1 business hour"),
        (330, OFFICE, "5 h 30 min of business time"),
        (35, OFFICE, "35 business minutes"),
        (59.9, OFFICE, "59 business minutes"),
        (72 * 60, OFFICE, "8 business days"),  # what "72h" of business time really was
        (130, ALWAYS, "2 h 10 min"),
        (240, ALWAYS, "4 h"),
        (15, ALWAYS, "15 min"),
        (1440, ALWAYS, "1 day"),
        (3 * 1440 + 120, ALWAYS, "3 days 2 h"),
    ],
)
def test_span_text_says_business_days_hours_or_clock_time(
    minutes: float, calendar: BusinessCalendar, text: str
) -> None:
    assert span_text(minutes, calendar) == text


def _at_site(lifecycle: Lifecycle, impact: int, urgency: int, timezone: str) -> Ticket:
    return dataclasses.replace(
        lifecycle.new_ticket(
            ticket_id="t-2",
            provisional_ref="P-ABCD-0002",
            title="VPN drops",
            description="",
            category="vpn-remote",
            channel="phone",
            impact=impact,
            urgency=urgency,
            now=datetime(2026, 11, 16, 16, 0, tzinfo=UTC),  # Mon 08:00 PST, 17:00 in Berlin
            timezone=timezone,
        ),
        site_id="site-ber",
    )


def test_time_left_on_a_business_clock_is_in_business_terms(policy: SlaPolicy) -> None:
    ticket = _at_site(Lifecycle(policy), 3, 1, "America/Los_Angeles")  # P3, 2h, 3bd
    clock = SlaClock(policy, {"site-ber": "America/Los_Angeles"})
    monday_0800 = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
    assert clock.left(ticket, monday_0800) == "2 business hours left"
    responded = dataclasses.replace(ticket, responded_at=monday_0800)
    assert clock.left(responded, monday_0800) == "3 business days left"
    # Monday 16:00 PST: one business hour today; the evening and night count nothing.
    assert clock.left(responded, monday_0800 + timedelta(hours=8)) == "2 business days 1 h left"
    assert clock.left(responded, monday_0800 + timedelta(hours=13)) == "2 business days left"
    assert clock.left(ticket, monday_0800 + timedelta(hours=3)) == "1 business hour over"
    assert clock.when(ticket.resolve_due, ticket) == "Wed 18 Nov 17:00 PST"
    assert clock.deadlines(responded) == [
        ("response", "2 business hours · due Mon 16 Nov 10:00 PST (met: Mon 16 Nov 08:00 PST)"),
        ("resolve", "3 business days · due Wed 18 Nov 17:00 PST"),
    ]


def test_a_24x7_clock_says_so_and_counts_every_minute(policy: SlaPolicy) -> None:
    ticket = _at_site(Lifecycle(policy), 1, 1, "America/Los_Angeles")  # P1: 15 min, 4 h
    clock = SlaClock(policy, {"site-ber": "America/Los_Angeles"})
    later = datetime(2026, 11, 16, 16, 0, tzinfo=UTC) + timedelta(minutes=5)
    assert clock.left(ticket, later) == "24×7: 10 min left"
    responded = dataclasses.replace(ticket, responded_at=later)
    assert clock.left(responded, later + timedelta(minutes=45)) == "24×7: 3 h 10 min left"
    assert clock.left(responded, later + timedelta(hours=5)) == "24×7: 1 h 5 min over"
    assert clock.targets(Priority.P1) == "24×7: respond 15 min, resolve 4 h"
    assert clock.targets(Priority.P4) == "respond 1 business day, resolve 5 business days"


def test_due_times_are_shown_in_the_sites_zone_and_name_it(policy: SlaPolicy) -> None:
    ticket = _at_site(Lifecycle(policy), 3, 1, "Europe/Berlin")
    in_berlin = SlaClock(policy, {"site-ber": "Europe/Berlin"})
    # Mon 17:00 in Berlin is closing time: the 2 business hours run Tue 08:00-10:00 CET.
    assert in_berlin.when(ticket.response_due, ticket) == "Tue 17 Nov 10:00 CET"
    # A site this cache does not know, or no site: the policy's zone, named.
    assert SlaClock(policy).when(ticket.response_due, ticket) == "Tue 17 Nov 01:00 PST"
    summer = datetime(2026, 7, 6, 16, 0, tzinfo=UTC)
    assert SlaClock(policy).when(summer, ticket) == "Mon 6 Jul 09:00 PDT"
    assert in_berlin.when(None, ticket) == "—"


def test_paused_and_finished_tickets(policy: SlaPolicy) -> None:
    ticket = _at_site(Lifecycle(policy), 3, 1, "America/Los_Angeles")
    clock = SlaClock(policy)
    now = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
    assert clock.left(dataclasses.replace(ticket, status=Status.WAITING), now) == "paused"
    assert clock.left(dataclasses.replace(ticket, status=Status.RESOLVED), now) == "—"
