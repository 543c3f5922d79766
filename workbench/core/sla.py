"""SLA due times derived from the ticket's creation time, priority and pause intervals.

Computing from the event log (not by shifting stored dates) keeps due times right when the
priority changes later and lets any replica recompute them from the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from workbench.core.calendar import BusinessCalendar
from workbench.core.models import Pause, Priority, Status, Ticket
from workbench.core.policy import SlaPolicy


def due_time(
    calendar: BusinessCalendar, start: datetime, minutes: int, pauses: Iterable[Pause]
) -> datetime:
    """When `minutes` of running clock have passed since `start`, skipping closed pauses.

    An open pause (still waiting) is not counted yet: the due time is the one from before the
    pause, and callers treat a paused ticket as not breaching (Ticket.sla_due is None).
    """
    remaining = float(minutes)
    cursor = start
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.end is None:
            break
        if pause.start <= cursor:
            cursor = max(cursor, pause.end)
            continue
        used = calendar.minutes_between(cursor, pause.start)
        if used >= remaining:
            break
        remaining -= used
        cursor = pause.end
    return calendar.add(cursor, remaining)


def remaining_fraction(start: datetime, due: datetime, now: datetime) -> float:
    """Share of the wall-clock span start..due still left at `now` (negative once breached)."""
    span = (due - start).total_seconds()
    if span <= 0:
        return -1.0
    return (due - now).total_seconds() / span


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def span_text(minutes: float, calendar: BusinessCalendar) -> str:
    """How long, in the words of the clock it runs on: '3 business days', '4 business hours',
    '2 business days 4 h', '5 h 30 min of business time' on business hours; '2 days 4 h',
    '2 h 10 min' or '35 min' on a 24x7 clock. A business day is the calendar's day, not 24 h."""
    whole = int(minutes)
    day = calendar.day_minutes
    days, rest = divmod(whole, day)
    hours, mins = divmod(rest, 60)
    if calendar.always:
        if days:
            return _count(days, "day") + (f" {hours} h" if hours else "")
        return f"{hours} h" + (f" {mins} min" if mins else "") if hours else f"{mins} min"
    if days:
        return _count(days, "business day") + (f" {hours} h" if hours else "")
    if hours:
        return (
            _count(hours, "business hour") if not mins else f"{hours} h {mins} min of business time"
        )
    return _count(mins, "business minute")


def local_time(moment: datetime, timezone: str) -> str:
    """'Tue 8 Dec 14:00 PST': a moment in a time zone, which it names."""
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M %Z}"


@dataclass(frozen=True, slots=True)
class SlaClock:
    """How a ticket's SLA reads to a technician: on its priority's clock, in its site's time
    zone (a ticket without a site, or of a site not known here, in the policy's)."""

    policy: SlaPolicy
    site_zones: Mapping[str, str] = field(default_factory=dict)

    def zone(self, ticket: Ticket) -> str:
        return self.site_zones.get(ticket.site_id or "") or self.policy.timezone

    def calendar(self, ticket: Ticket) -> BusinessCalendar:
        return self.policy.target(ticket.priority, self.zone(ticket)).calendar

    def left(self, ticket: Ticket, now: datetime) -> str:
        """'4 business hours left', '24×7: 2 h 10 min left', '1 business day over', 'paused'
        or '—' (what the SLA column says)."""
        if ticket.status is Status.WAITING:
            return "paused"
        due = ticket.sla_due
        if due is None:
            return "—"
        calendar = self.calendar(ticket)
        span = span_text(abs(calendar.minutes_between(now, due)), calendar)
        words = f"{span} left" if due >= now else f"{span} over"
        return f"24×7: {words}" if calendar.always else words

    def when(self, moment: datetime | None, ticket: Ticket) -> str:
        """'Tue 8 Dec 14:00 PST': a moment in the ticket's site's zone, which it names."""
        return "—" if moment is None else local_time(moment, self.zone(ticket))

    def targets(self, priority: Priority, timezone: str | None = None) -> str:
        """'respond 2 business hours, resolve 3 business days' or '24×7: respond 15 min, …'."""
        target = self.policy.target(priority, timezone)
        text = (
            f"respond {span_text(target.response_minutes, target.calendar)}, "
            f"resolve {span_text(target.resolve_minutes, target.calendar)}"
        )
        return f"24×7: {text}" if target.calendar.always else text

    def deadlines(self, ticket: Ticket) -> list[tuple[str, str]]:
        """('response', '2 business hours · due Tue 8 Dec 10:00 PST (met Tue 8 Dec 09:12 PST)')
        and the same for resolve: each target with its due time, as the detail views show."""
        target = self.policy.target(ticket.priority, self.zone(ticket))
        met = {"response": ticket.responded_at, "resolve": ticket.resolved_at}
        rows = []
        for name, minutes, due in (
            ("response", target.response_minutes, ticket.response_due),
            ("resolve", target.resolve_minutes, ticket.resolve_due),
        ):
            text = f"{span_text(minutes, target.calendar)} · due {self.when(due, ticket)}"
            done = met[name]
            if done is not None:
                kept = due is None or done <= due
                text += f" ({'met' if kept else 'late'}: {self.when(done, ticket)})"
            rows.append((name, text))
        return rows
