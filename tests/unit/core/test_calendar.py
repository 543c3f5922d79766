"""BusinessCalendar: business-minute arithmetic across days, weekends, holidays, zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.calendar import BusinessCalendar
from workbench.core.errors import BadInput
from workbench.core.models import Priority
from workbench.core.policy import SlaPolicy

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = frozenset(range(5))
THANKSGIVING = frozenset({date(2026, 11, 26), date(2026, 11, 27)})


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """A local wall-clock moment, returned as aware UTC (what the calendar hands back)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def la(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return local(LA, year, month, day, hour, minute)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def office() -> BusinessCalendar:
    """Mon-Fri 08:00-17:00 in Los Angeles with Thanksgiving off, like the shipped policy."""
    return BusinessCalendar("America/Los_Angeles", WEEKDAYS, time(8), time(17), THANKSGIVING)


# -- add ----------------------------------------------------------------------------------


def test_add_within_a_day(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 16, 9, 0), 90) == la(2026, 11, 16, 10, 30)
    assert office.add(la(2026, 11, 16, 9, 0), 0) == la(2026, 11, 16, 9, 0)


def test_add_returns_aware_utc(office: BusinessCalendar) -> None:
    result = office.add(datetime(2026, 11, 16, 9, 0, tzinfo=LA), 30)
    assert result.tzinfo is UTC
    assert result == la(2026, 11, 16, 9, 30)


def test_add_up_to_closing_ends_at_closing_not_next_morning(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 16, 16, 0), 60) == la(2026, 11, 16, 17, 0)


def test_add_across_the_end_of_day(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 16, 16, 0), 120) == la(2026, 11, 17, 9, 0)


def test_add_over_a_weekend(office: BusinessCalendar) -> None:
    # Friday 16:00 + 2h -> one hour on Friday, one on Monday -> Monday 09:00 local.
    friday_1600 = la(2026, 11, 20, 16, 0)
    assert friday_1600 == utc(2026, 11, 21, 0, 0)
    assert office.add(friday_1600, 120) == la(2026, 11, 23, 9, 0)
    assert office.add(friday_1600, 120) == utc(2026, 11, 23, 17, 0)


def test_add_over_holidays_from_the_calendar(office: BusinessCalendar) -> None:
    # Wednesday before Thanksgiving: Thu and Fri are holidays, then the weekend.
    assert office.add(la(2026, 11, 25, 16, 0), 120) == la(2026, 11, 30, 9, 0)
    without_holidays = BusinessCalendar("America/Los_Angeles", WEEKDAYS, time(8), time(17))
    assert without_holidays.add(la(2026, 11, 25, 16, 0), 120) == la(2026, 11, 26, 9, 0)


def test_add_a_whole_week_of_business_time(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 16, 8, 0), 5 * 540) == la(2026, 11, 20, 17, 0)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (la(2026, 11, 16, 6, 30), la(2026, 11, 16, 9, 0)),  # before opening
        (la(2026, 11, 16, 0, 0), la(2026, 11, 16, 9, 0)),  # local midnight
        (la(2026, 11, 16, 17, 0), la(2026, 11, 17, 9, 0)),  # exactly at closing
        (la(2026, 11, 16, 19, 45), la(2026, 11, 17, 9, 0)),  # after closing
        (la(2026, 11, 21, 11, 0), la(2026, 11, 23, 9, 0)),  # Saturday
        (la(2026, 11, 22, 23, 59), la(2026, 11, 23, 9, 0)),  # Sunday night
        (la(2026, 11, 26, 10, 0), la(2026, 11, 30, 9, 0)),  # on a holiday
    ],
    ids=[
        "before-opening",
        "midnight",
        "at-closing",
        "after-closing",
        "saturday",
        "sunday",
        "holiday",
    ],
)
def test_add_outside_business_hours_starts_counting_at_the_next_opening(
    office: BusinessCalendar, start: datetime, expected: datetime
) -> None:
    assert office.add(start, 60) == expected


def test_add_zero_outside_hours_is_the_next_opening(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 21, 11, 0), 0) == la(2026, 11, 23, 8, 0)


def test_add_fractional_minutes(office: BusinessCalendar) -> None:
    assert office.add(la(2026, 11, 16, 8, 0), 0.5) == la(2026, 11, 16, 8, 0) + timedelta(seconds=30)


def test_calendar_without_working_time_gives_up_with_a_message() -> None:
    only_mondays = BusinessCalendar("UTC", frozenset({0}), time(9), time(17))
    assert only_mondays.add(utc(2026, 11, 17, 12), 60) == utc(2026, 11, 23, 10)
    # Every Monday of the next three years a holiday: no working time left to count.
    mondays = frozenset(date(2026, 11, 16) + timedelta(weeks=n) for n in range(3 * 53 + 2))
    never = BusinessCalendar("UTC", frozenset({0}), time(9), time(17), mondays)
    with pytest.raises(BadInput, match="no working time"):
        never.add(utc(2026, 11, 16, 12), 60)


# -- minutes_between ----------------------------------------------------------------------


def test_minutes_between_within_and_across_days(office: BusinessCalendar) -> None:
    assert office.minutes_between(la(2026, 11, 16, 9, 0), la(2026, 11, 16, 10, 30)) == 90
    assert office.minutes_between(la(2026, 11, 16, 16, 0), la(2026, 11, 17, 9, 0)) == 120
    assert office.minutes_between(la(2026, 11, 20, 16, 0), la(2026, 11, 23, 9, 0)) == 120
    assert office.minutes_between(la(2026, 11, 25, 16, 0), la(2026, 11, 30, 9, 0)) == 120


def test_minutes_between_outside_hours_is_zero(office: BusinessCalendar) -> None:
    assert office.minutes_between(la(2026, 11, 16, 17, 0), la(2026, 11, 17, 8, 0)) == 0
    assert office.minutes_between(la(2026, 11, 21, 0, 0), la(2026, 11, 22, 23, 59)) == 0
    assert office.minutes_between(la(2026, 11, 26, 8, 0), la(2026, 11, 27, 17, 0)) == 0
    same = la(2026, 11, 16, 10, 0)
    assert office.minutes_between(same, same) == 0


def test_minutes_between_is_negative_when_end_is_earlier(office: BusinessCalendar) -> None:
    start, end = la(2026, 11, 20, 15, 0), la(2026, 11, 24, 10, 0)
    forward = office.minutes_between(start, end)
    assert forward == 120 + 540 + 120
    assert office.minutes_between(end, start) == -forward


def test_minutes_between_accepts_other_zones_than_utc(office: BusinessCalendar) -> None:
    start = datetime(2026, 11, 16, 9, 0, tzinfo=LA)
    end = datetime(2026, 11, 16, 19, 0, tzinfo=BERLIN)  # 10:00 in Los Angeles
    assert office.minutes_between(start, end) == 60


MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
MINUTES = st.integers(min_value=0, max_value=20 * 540)


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, minutes=MINUTES)
def test_minutes_between_measures_what_add_consumed(start: datetime, minutes: int) -> None:
    office = BusinessCalendar(
        "America/Los_Angeles", WEEKDAYS, time(8), time(17), THANKSGIVING | {date(2027, 1, 1)}
    )
    due = office.add(start, minutes)
    assert due >= start
    assert abs(office.minutes_between(start, due) - minutes) < 1 / 60
    assert abs(office.minutes_between(due, start) + minutes) < 1 / 60


@settings(max_examples=100, deadline=None)
@given(start=MOMENTS, first=MINUTES, second=MINUTES)
def test_add_is_additive_and_monotonic(start: datetime, first: int, second: int) -> None:
    berlin = BusinessCalendar("Europe/Berlin", frozenset({0, 1, 2, 3, 5}), time(7, 30), time(16))
    in_two_steps = berlin.add(berlin.add(start, first), second)
    in_one_step = berlin.add(start, first + second)
    if second > 0:
        assert in_two_steps == in_one_step
    else:
        # add(closing time, 0) is the next opening: a later moment, the same business time.
        assert berlin.minutes_between(in_one_step, in_two_steps) == 0
    if first <= second:
        assert berlin.add(start, first) <= berlin.add(start, second)


# -- time zones and daylight saving -------------------------------------------------------


def test_the_same_hours_in_two_zones_give_different_utc_due_times(policy: SlaPolicy) -> None:
    monday_1600_utc = utc(2026, 11, 16, 16, 0)  # 08:00 in Los Angeles, 17:00 in Berlin
    la_due, _ = policy.due_times(Priority.P3, monday_1600_utc, "America/Los_Angeles")
    berlin_due, _ = policy.due_times(Priority.P3, monday_1600_utc, "Europe/Berlin")
    assert la_due == la(2026, 11, 16, 10, 0) == utc(2026, 11, 16, 18, 0)
    assert berlin_due == local(BERLIN, 2026, 11, 17, 10, 0) == utc(2026, 11, 17, 9, 0)
    assert la_due != berlin_due


def test_with_timezone_keeps_everything_else(office: BusinessCalendar) -> None:
    moved = office.with_timezone("Europe/Berlin")
    assert moved.timezone == "Europe/Berlin"
    assert (moved.workdays, moved.start, moved.end, moved.holidays, moved.always) == (
        office.workdays,
        office.start,
        office.end,
        office.holidays,
        office.always,
    )
    with pytest.raises(BadInput, match="unknown time zone"):
        office.with_timezone("Europe/Atlantis")


def test_dst_week_in_the_us_keeps_nine_hour_days(office: BusinessCalendar) -> None:
    # US daylight saving begins Sunday 2026-03-08: PST (UTC-8) before, PDT (UTC-7) after.
    friday_open, friday_close = la(2026, 3, 6, 8, 0), la(2026, 3, 6, 17, 0)
    monday_open, monday_close = la(2026, 3, 9, 8, 0), la(2026, 3, 9, 17, 0)
    assert friday_open == utc(2026, 3, 6, 16, 0)
    assert monday_open == utc(2026, 3, 9, 15, 0)
    assert office.minutes_between(friday_open, friday_close) == 540
    assert office.minutes_between(monday_open, monday_close) == 540
    assert office.minutes_between(friday_open, monday_close) == 1080
    # The weekend spans one wall-clock hour less, and no business time at all.
    assert monday_open - friday_close == timedelta(hours=62)
    assert office.minutes_between(friday_close, monday_open) == 0
    # Friday 16:00 PST + 2h -> Monday 09:00 PDT, i.e. 16:00 UTC (not 17:00).
    assert office.add(la(2026, 3, 6, 16, 0), 120) == utc(2026, 3, 9, 16, 0)
    assert office.add(friday_open, 1080) == monday_close == utc(2026, 3, 10, 0, 0)


def test_dst_sunday_itself_is_not_worked_on_a_weekday_calendar(office: BusinessCalendar) -> None:
    every_day = BusinessCalendar("America/Los_Angeles", frozenset(range(7)), time(0), time(23))
    # The night of the change loses an hour: 00:00-23:00 local is only 22 real hours.
    assert every_day.minutes_between(la(2026, 3, 8, 0, 0), la(2026, 3, 8, 23, 0)) == 22 * 60
    assert office.minutes_between(la(2026, 3, 7, 0, 0), la(2026, 3, 8, 23, 0)) == 0


def test_dst_in_europe(office: BusinessCalendar) -> None:
    berlin = office.with_timezone("Europe/Berlin")
    # Europe switches on 2026-03-29: Friday 27th is CET (UTC+1), Monday 30th CEST (UTC+2).
    assert berlin.add(local(BERLIN, 2026, 3, 27, 16, 0), 120) == utc(2026, 3, 30, 7, 0)
    assert (
        berlin.minutes_between(local(BERLIN, 2026, 3, 30, 8), local(BERLIN, 2026, 3, 30, 17)) == 540
    )


# -- 24x7 ---------------------------------------------------------------------------------


def test_24x7_counts_every_minute(policy: SlaPolicy) -> None:
    always = policy.targets[Priority.P1].calendar
    saturday_night = utc(2026, 11, 21, 23, 30)
    assert always.add(saturday_night, 240) == utc(2026, 11, 22, 3, 30)
    assert always.minutes_between(utc(2026, 11, 20, 17), utc(2026, 11, 23, 9)) == 64 * 60
    assert always.minutes_between(utc(2026, 11, 23, 9), utc(2026, 11, 20, 17)) == -64 * 60
    # Holidays and DST nights are worked like any other: real elapsed minutes.
    assert always.add(utc(2026, 11, 26, 12), 60) == utc(2026, 11, 26, 13)
    assert always.minutes_between(la(2026, 3, 8, 0, 0), la(2026, 3, 8, 23, 0)) == 22 * 60


def test_24x7_needs_no_workdays() -> None:
    always = BusinessCalendar("UTC", frozenset(), time(0), time(0), always=True)
    assert always.add(utc(2026, 11, 21, 0), 90) == utc(2026, 11, 21, 1, 30)


# -- invalid calendars --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workdays": frozenset()}, "at least one working day"),
        ({"start": time(18), "end": time(9)}, "must start before they end"),
        ({"start": time(9), "end": time(9)}, "must start before they end"),
        ({"timezone": "Europe/Atlantis"}, "unknown time zone 'Europe/Atlantis'"),
        ({"timezone": ""}, "unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "unknown time zone"),
    ],
    ids=[
        "no-workdays",
        "start-after-end",
        "start-equals-end",
        "unknown-zone",
        "empty-zone",
        "path-zone",
    ],
)
def test_invalid_calendars_are_refused(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "timezone": "UTC",
        "workdays": WEEKDAYS,
        "start": time(8),
        "end": time(17),
    }
    values.update(kwargs)
    with pytest.raises(BadInput, match=message):
        BusinessCalendar(**values)  # type: ignore[arg-type]
