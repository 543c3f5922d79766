"""SLA due times derived from the ticket's creation time, priority and pause intervals.

Computing from the event log (not by shifting stored dates) keeps due times right when the
priority changes later and lets any replica recompute them from the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from workbench.core.calendar import BusinessCalendar
from workbench.core.models import Pause, Status, Ticket


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


def sla_text(ticket: Ticket, now: datetime) -> str:
    """'2h 10m left', '35m over', 'paused' or '—' (what the SLA column says)."""
    if ticket.status is Status.WAITING:
        return "paused"
    due = ticket.sla_due
    if due is None:
        return "—"
    seconds = (due - now).total_seconds()
    span = span_text(int(abs(seconds) // 60))
    return f"{span} left" if seconds >= 0 else f"{span} over"


def span_text(minutes: int) -> str:
    """'3d 2h', '2h 10m' or '35m': how long, as the SLA column and the targets show it."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    return f"{days}d {hours}h" if days else (f"{hours}h {mins:02d}m" if hours else f"{mins}m")
