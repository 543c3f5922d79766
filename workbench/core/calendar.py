"""Business-hours arithmetic for SLA clocks.

All arithmetic happens in UTC; the calendar's time zone only places each day's working window,
so daylight-saving changes shift the window, not the length of a working hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workbench.core.errors import BadInput

# A calendar with no working time at all would make due times unreachable; the loop stops
# long before that could spin forever.
_MAX_DAYS_SEARCHED = 3 * 366


def check_timezone(name: str) -> str:
    """`name` when it is an IANA time zone (Europe/Berlin), else BadInput."""
    try:
        ZoneInfo(name)
    except Exception as exc:  # ZoneInfo raises several kinds for a name that is no zone
        raise BadInput(f"unknown time zone {name!r}; use a name like Europe/Berlin") from exc
    return name


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Working days (0 = Monday), daily hours and holidays in one time zone."""

    timezone: str
    workdays: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date] = frozenset()
    always: bool = False  # 24x7: every minute counts (e.g. P1 outages)

    def __post_init__(self) -> None:
        check_timezone(self.timezone)
        if not self.always:
            if not self.workdays:
                raise BadInput("a business calendar needs at least one working day")
            if self.start >= self.end:
                raise BadInput("business hours must start before they end")

    @property
    def day_minutes(self) -> int:
        """The length of a business day (of a 24x7 clock: 24 hours)."""
        if self.always:
            return 24 * 60
        opens = self.start.hour * 60 + self.start.minute
        return self.end.hour * 60 + self.end.minute - opens

    def with_timezone(self, timezone: str) -> BusinessCalendar:
        return BusinessCalendar(
            timezone, self.workdays, self.start, self.end, self.holidays, self.always
        )

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        """The working window of a local day, in UTC, or None when nobody works that day."""
        if day.weekday() not in self.workdays or day in self.holidays:
            return None
        zone = ZoneInfo(self.timezone)
        opens = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return opens, closes

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def add(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of business time after `start`."""
        if minutes < 0:
            raise BadInput(f"an SLA target cannot be negative ({minutes} minutes)")
        start = start.astimezone(UTC)
        if self.always:
            return start + timedelta(minutes=minutes)
        remaining = timedelta(minutes=minutes)
        day = self._local_day(start)
        cursor = start
        for _ in range(_MAX_DAYS_SEARCHED):
            window = self._window(day)
            if window is not None:
                opens, closes = window
                cursor = max(cursor, opens)
                if cursor < closes:
                    available = closes - cursor
                    if remaining <= available:
                        return cursor + remaining
                    remaining -= available
            day += timedelta(days=1)
        raise BadInput("the business calendar has no working time in the next three years")

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Business minutes from `start` to `end` (negative when `end` is earlier)."""
        if end < start:
            return -self.minutes_between(end, start)
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if self.always:
            return (end - start).total_seconds() / 60
        total = timedelta()
        day = self._local_day(start)
        last_day = self._local_day(end)
        while day <= last_day:
            window = self._window(day)
            if window is not None:
                opens, closes = max(window[0], start), min(window[1], end)
                if opens < closes:
                    total += closes - opens
            day += timedelta(days=1)
        return total.total_seconds() / 60
