"""SlaPolicy: the impact x urgency matrix, overrides, targets, queues and the policy loader."""

from __future__ import annotations

import copy
import random
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.models import Priority
from workbench.core.policy import (
    PolicyProblems,
    SlaPolicy,
    check_level,
    parse_duration_minutes,
    policy_from_mapping,
    policy_from_text,
)
from workbench.resources import RESOURCES, load_policy

SLA_YAML = RESOURCES / "sla.yaml"
RAW = yaml.safe_load(SLA_YAML.read_text(encoding="utf-8"))

# The 9 cells as the YAML file spells them: ((impact, urgency), "P?").
YAML_CELLS = [
    ((impact, urgency), RAW["matrix"][impact][urgency])
    for impact in (1, 2, 3)
    for urgency in (1, 2, 3)
]


def minimal_mapping() -> dict[str, Any]:
    """A complete policy mapping, independent of the shipped file, to bend in tests."""
    return {
        "timezone": "UTC",
        "business_hours": {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "17:00",
        },
        "holidays": ["2026-12-25"],
        "matrix": {
            1: {1: "P1", 2: "P1", 3: "P2"},
            2: {1: "P2", 2: "P2", 3: "P3"},
            3: {1: "P3", 2: "P4", 3: "P4"},
        },
        "targets": {
            "P1": {"response": "10m", "resolve": "2h", "clock": "24x7"},
            "P2": {"response": "1h", "resolve": "1bd"},
            "P3": {"response": "1h 30m", "resolve": "16h"},
            "P4": {"response": "8h", "resolve": "5bd"},
        },
        "queues": {1: "desk", 2: "second-line"},
        "categories": ["account", "other"],
        "reopen_window_days": 7,
        "warn_fraction": 0.5,
    }


# -- matrix -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"), YAML_CELLS, ids=[f"impact{i}-urgency{u}" for (i, u), _ in YAML_CELLS]
)
def test_priority_for_every_cell_matches_the_yaml_table(
    policy: SlaPolicy, cell: tuple[int, int], expected: str
) -> None:
    impact, urgency = cell
    assert policy.priority_for(impact, urgency) is Priority(expected)
    assert policy.decide_priority(impact, urgency, None, None) == (Priority(expected), None)


def test_shipped_matrix_is_the_documented_one(policy: SlaPolicy) -> None:
    # Rows are impact 1..3 (high..low), columns urgency 1..3 (high..low).
    table = [["P1", "P2", "P3"], ["P2", "P3", "P3"], ["P3", "P4", "P4"]]
    for impact in (1, 2, 3):
        for urgency in (1, 2, 3):
            assert policy.priority_for(impact, urgency).value == table[impact - 1][urgency - 1]


def test_matrix_is_read_from_the_mapping_not_hard_coded() -> None:
    policy = policy_from_mapping(minimal_mapping())
    assert policy.priority_for(1, 2) is Priority.P1
    assert policy.priority_for(2, 2) is Priority.P2
    assert policy.priority_for(3, 1) is Priority.P3


@pytest.mark.parametrize(
    ("impact", "urgency", "bad_name", "bad_value"),
    [
        (0, 2, "impact", 0),
        (4, 2, "impact", 4),
        (-1, 1, "impact", -1),
        (2, 0, "urgency", 0),
        (2, 4, "urgency", 4),
        (1, 99, "urgency", 99),
    ],
)
def test_levels_outside_one_to_three_are_refused_with_a_clear_message(
    policy: SlaPolicy, impact: int, urgency: int, bad_name: str, bad_value: int
) -> None:
    with pytest.raises(BadInput) as excinfo:
        policy.priority_for(impact, urgency)
    message = str(excinfo.value)
    assert message == f"{bad_name} must be 1 (high), 2 (medium) or 3 (low), not {bad_value}"
    with pytest.raises(BadInput, match=bad_name):
        policy.decide_priority(impact, urgency, "P1", "reason")


def test_check_level_returns_the_value_and_refuses_a_string() -> None:
    assert check_level("impact", 2) == 2
    with pytest.raises(BadInput, match="impact must be 1"):
        check_level("impact", "2")  # type: ignore[arg-type]


# -- override -----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_override_to_a_different_priority_without_reason_is_refused(
    policy: SlaPolicy, reason: str | None
) -> None:
    with pytest.raises(BadInput) as excinfo:
        policy.decide_priority(3, 3, "P1", reason)
    message = str(excinfo.value)
    assert "gives P4" in message
    assert "to P1" in message
    assert "needs a reason" in message


def test_override_with_a_reason_is_accepted_and_the_reason_kept(policy: SlaPolicy) -> None:
    assert policy.decide_priority(3, 3, "P1", "  CEO's laptop before board meeting ") == (
        Priority.P1,
        "CEO's laptop before board meeting",
    )


def test_override_can_lower_the_priority_too(policy: SlaPolicy) -> None:
    assert policy.decide_priority(1, 1, "P3", "duplicate of a known outage") == (
        Priority.P3,
        "duplicate of a known outage",
    )


@pytest.mark.parametrize("override", ["P3", "p3"])
def test_override_equal_to_the_computed_priority_needs_no_reason(
    policy: SlaPolicy, override: str
) -> None:
    assert policy.decide_priority(2, 2, override, None) == (Priority.P3, None)
    # A reason given for a non-override is dropped: nothing was overridden.
    assert policy.decide_priority(2, 2, override, "because") == (Priority.P3, None)


@pytest.mark.parametrize("override", ["P5", "high", "1", ""])
def test_unknown_override_priority_is_refused(policy: SlaPolicy, override: str) -> None:
    with pytest.raises(BadInput, match="priority must be one of P1, P2, P3, P4"):
        policy.decide_priority(2, 2, override, "reason")


# -- targets, queues, categories, windows -------------------------------------------------


def test_shipped_targets_are_business_days_and_hours(policy: SlaPolicy) -> None:
    day = 9 * 60  # 08:00-17:00
    minutes = {p: (t.response_minutes, t.resolve_minutes) for p, t in policy.targets.items()}
    assert minutes == {
        Priority.P1: (15, 240),
        Priority.P2: (30, 1 * day),
        Priority.P3: (120, 3 * day),
        Priority.P4: (1 * day, 5 * day),
    }
    assert policy.targets[Priority.P1].calendar.always
    assert policy.timezone == "America/Los_Angeles"
    for priority in (Priority.P2, Priority.P3, Priority.P4):
        calendar = policy.targets[priority].calendar
        assert not calendar.always
        assert calendar.timezone == "America/Los_Angeles"
        assert calendar.workdays == frozenset({0, 1, 2, 3, 4})
        assert (calendar.start, calendar.end) == (time(8), time(17))
        assert calendar.day_minutes == day
        assert len(calendar.holidays) == len(RAW["holidays"])


def test_shipped_queues_categories_and_windows(policy: SlaPolicy) -> None:
    assert policy.queues == {1: "service-desk", 2: "field-support", 3: "engineering"}
    assert policy.top_tier == 3
    assert policy.queue_for_tier(2) == "field-support"
    assert policy.tier_of_queue("engineering") == 3
    assert policy.categories == tuple(RAW["categories"])
    assert policy.reopen_window == timedelta(days=14)
    assert policy.warn_fraction == 0.25


def test_unknown_tier_queue_and_category_are_refused(policy: SlaPolicy) -> None:
    with pytest.raises(BadInput, match=r"there is no tier 4; tiers are \[1, 2, 3\]"):
        policy.queue_for_tier(4)
    with pytest.raises(BadInput, match="unknown queue 'helpdesk'.*service-desk"):
        policy.tier_of_queue("helpdesk")
    with pytest.raises(BadInput, match="unknown category 'coffee'; choose one of account"):
        policy.check_category("coffee")
    assert policy.check_category("vpn-remote") == "vpn-remote"


def test_target_in_another_time_zone_keeps_minutes_and_holidays(policy: SlaPolicy) -> None:
    shipped = policy.target(Priority.P3)
    berlin = policy.target(Priority.P3, "Europe/Berlin")
    assert berlin.calendar.timezone == "Europe/Berlin"
    assert (berlin.response_minutes, berlin.resolve_minutes) == (120, 3 * 540)
    assert berlin.calendar.holidays == shipped.calendar.holidays
    assert policy.target(Priority.P3, None) is shipped
    # 24x7 has no local hours: the time zone does not matter.
    assert policy.target(Priority.P1, "Europe/Berlin") is policy.targets[Priority.P1]


def test_three_business_days_end_at_the_same_time_three_working_days_later(
    policy: SlaPolicy,
) -> None:
    thursday_1000_pst = datetime(2026, 11, 19, 18, 0, tzinfo=UTC)
    # P3: response 2h -> 12:00 PST; resolve 3bd: Fri, then Mon, Tue -> Tue 10:00 PST (a
    # technician's "three days", not 72 business hours, which ran to the next Tuesday but one).
    assert policy.due_times(Priority.P3, thursday_1000_pst) == (
        datetime(2026, 11, 19, 20, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 18, 0, tzinfo=UTC),
    )
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert policy.due_times(Priority.P1, saturday) == (
        saturday + timedelta(minutes=15),
        saturday + timedelta(hours=4),
    )


# -- durations ----------------------------------------------------------------------------

BUSINESS_DAY = 9 * 60


@pytest.mark.parametrize(
    ("text", "day", "minutes"),
    [
        ("30m", None, 30),
        ("4h", None, 240),
        ("2d", None, 2880),
        (" 15 m ", None, 15),
        ("0m", None, 0),
        ("1d 6h", None, 1800),
        ("4h", BUSINESS_DAY, 240),
        ("3bd", BUSINESS_DAY, 3 * BUSINESS_DAY),
        ("1bd 4h", BUSINESS_DAY, BUSINESS_DAY + 240),
        ("2h 30m", BUSINESS_DAY, 150),
        ("1bd", 8 * 60, 480),
    ],
)
def test_parse_duration(text: str, day: int | None, minutes: int) -> None:
    assert parse_duration_minutes(text, day) == minutes


@pytest.mark.parametrize(
    "text", ["", "4", "90", "4w", "1.5h", "-3h", "h4", "four hours", "٣h", "３h", "4h,2m", "4hh"]
)
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInput, match="must look like 30m, 4h or 2d"):
        parse_duration_minutes(text)
    with pytest.raises(BadInput, match="must look like 30m, 4h or 3bd"):
        parse_duration_minutes(text, BUSINESS_DAY)


def test_days_are_business_days_or_calendar_days_never_both() -> None:
    with pytest.raises(BadInput) as on_business:
        parse_duration_minutes("3d", BUSINESS_DAY)
    assert str(on_business.value) == (
        "'3d' on a business clock: write 3bd for business days or 72h for business hours"
    )
    with pytest.raises(BadInput, match="a 24x7 clock has no business days: write 2d, not 2bd"):
        parse_duration_minutes("2bd")


# -- the loader ---------------------------------------------------------------------------


def test_policy_from_a_custom_mapping() -> None:
    policy = policy_from_mapping(minimal_mapping())
    assert policy.targets[Priority.P2].resolve_minutes == 8 * 60  # one business day of 09-17
    assert policy.targets[Priority.P3].response_minutes == 90
    assert policy.targets[Priority.P4].resolve_minutes == 5 * 8 * 60
    assert policy.targets[Priority.P1].calendar.always
    assert policy.targets[Priority.P4].calendar.start == time(9)
    assert policy.top_tier == 2
    assert policy.reopen_window == timedelta(days=7)
    assert policy.warn_fraction == 0.5
    assert policy.timezone == "UTC"


def test_policy_defaults() -> None:
    data = minimal_mapping()
    for key in ("timezone", "business_hours", "holidays", "reopen_window_days", "warn_fraction"):
        del data[key]
    policy = policy_from_mapping(data)
    calendar = policy.targets[Priority.P3].calendar
    assert calendar.timezone == "UTC"
    assert calendar.workdays == frozenset(range(5))
    assert (calendar.start, calendar.end) == (time(8), time(17))
    assert calendar.holidays == frozenset()
    assert policy.reopen_window == timedelta(days=14)
    assert policy.warn_fraction == 0.25


def test_an_unquoted_time_is_read_as_written_not_as_a_base_60_number() -> None:
    shipped = SLA_YAML.read_text(encoding="utf-8")
    policy = policy_from_text(shipped.replace('"17:00"', "17:00"), "sla.yaml")
    assert policy.targets[Priority.P3].calendar.end == time(17)


def _without(path: tuple[Any, ...]) -> dict[str, Any]:
    data = copy.deepcopy(minimal_mapping())
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("matrix",), "missing section 'matrix'"),
        (("matrix", 2), "matrix (impact 1..3) has no entry 2"),
        (("matrix", 3, 3), "matrix row 3 (urgency 1..3) has no entry 3"),
        (("targets", "P4"), "targets has no P4"),
        (("targets", "P2", "resolve"), "target P2 has no resolve time"),
        (("queues",), "missing section 'queues'"),
        (("categories",), "missing section 'categories'"),
    ],
    ids=lambda p: ".".join(map(str, p)) if isinstance(p, tuple) else "",
)
def test_incomplete_policy_is_refused(path: tuple[Any, ...], message: str) -> None:
    with pytest.raises(PolicyProblems) as excinfo:
        policy_from_mapping(_without(path))
    assert [p.split(": ", 1)[1] for p in excinfo.value.problems] == [message]


def _located(text: str, needle: str, occurrence: int = 1, after: int = 0) -> str:
    """LINE:COL of the `occurrence`-th `needle` in `text` from offset `after` (1-based, as
    the messages say)."""
    offset = after - 1
    for _ in range(occurrence):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


SHIPPED = SLA_YAML.read_text(encoding="utf-8")
P1 = "P1: {response: 15m, resolve: 4h, clock: 24x7}"
P2 = "P2: {response: 30m, resolve: 1bd}"
P2_LINE = SHIPPED[: SHIPPED.index(P2)].count("\n") + 1
CATEGORIES = SHIPPED[SHIPPED.index("categories:") : SHIPPED.index("\n\nreopen")]

# (what is replaced, by what, the text the problem is located at (its n-th occurrence from
# the replacement on), the first problem)
BAD_POLICIES: list[tuple[str, str, tuple[str, int], str]] = [
    (P1, P1.replace("24x7", "25x8"), ("25x8", 1),
     "target P1 clock must be 24x7 or business, not '25x8'"),
    (P1, P1.replace("24x7", "24X7 "), ("24X7", 1),
     "target P1 clock must be 24x7 or business, not '24X7'"),
    (P2, "P2: {response: 2h, resolve: 1h}", ("1h}", 1),
     "target P2 resolve (1h) is shorter than its response (2h)"),
    (P2, "P2: {response: 0m, resolve: 1bd}", ("0m", 1),
     "target P2 response of 0m leaves no time at all"),
    (P2, "P2: {response: 30m, resolve: 900bd}", ("900bd", 1),
     "target P2 resolve of 900bd is longer than 90 days of its clock"),
    (P2, "P2: {response: 30m, resolve: 99999999999999999999h}", ("9999", 1),
     "target P2 resolve of 99999999999999999999h is longer than 90 days of its clock"),
    (P1, P1.replace("4h", "91d"), ("91d", 1),
     "target P1 resolve of 91d is longer than 90 days of its clock"),
    (P2, "P2: {response: 30m, resolve: 3d}", ("3d}", 1),
     "target P2 resolve: '3d' on a business clock: write 3bd for business days "
     "or 72h for business hours"),
    (P1, P1.replace("4h", "1bd"), ("1bd", 1),
     "target P1 resolve: a 24x7 clock has no business days: write 1d, not 1bd"),
    (P2, "P2: {response: 90, resolve: 1bd}", ("90", 1),
     "target P2 response: duration '90' must look like 30m, 4h or 3bd"),
    (P2, "P2: {response: soon, resolve: 1bd}", ("soon", 1),
     "target P2 response: duration 'soon' must look like 30m, 4h or 3bd"),
    (P2, "P2: {response: 30m}", ("{response: 30m}", 1), "target P2 has no resolve time"),
    (P2, "P2: {response: 30m, resolve: 1bd, escalate: 1h}", ("escalate", 1),
     "unknown key 'escalate' in target P2; known: response, resolve, clock"),
    (P2, "P2: 1bd", ("1bd", 1), "target P2 must be a mapping"),
    (P2, "P2: {response: 30m, resolve: }", ("}", 1),
     "target P2 resolve: duration '' must look like 30m, 4h or 3bd"),
    ("P4: {response: 1bd, resolve: 5bd}\n", "P4: {response: 1bd, resolve: 5bd}\n  P2: {}\n",
     ("P2: {}", 1), f"targets: 'P2' is given twice (first on line {P2_LINE})"),
    ("P4: {response: 1bd, resolve: 5bd}\n", "P4: {response: 1bd, resolve: 5bd}\n  P5: {}\n",
     ("P5", 1),
     "unknown key 'P5' in targets; known: P1, P2, P3, P4"),
    ("reopen_window_days: 14", "reopen_window_days: -1", ("-1", 1),
     "reopen_window_days must be from 0 to 366, not -1"),
    ("reopen_window_days: 14", "reopen_window_days: 100000", ("100000", 1),
     "reopen_window_days must be from 0 to 366, not 100000"),
    ("reopen_window_days: 14", "reopen_window_days: two weeks", ("two", 1),
     "reopen_window_days must be a whole number"),
    ("reopen_window_days: 14", "reopen_window_days: 1:30", ("1:30", 1),
     "reopen_window_days must be a whole number"),
    ("reopen_window_days: 14", "reopen_window_days: 14.5", ("14.5", 1),
     "reopen_window_days must be a whole number"),
    ("warn_fraction: 0.25", "warn_fraction: 7", ("7", 1),
     "warn_fraction must be a share between 0 and 1 like 0.25, not '7'"),
    ("warn_fraction: 0.25", "warn_fraction: 0", ("0", 1),
     "warn_fraction must be a share between 0 and 1 like 0.25, not '0'"),
    ("warn_fraction: 0.25", "warn_fraction: 1.0", ("1.0", 1),
     "warn_fraction must be a share between 0 and 1 like 0.25, not '1.0'"),
    ("warn_fraction: 0.25", "warn_fraction: .nan", (".nan", 1),
     "warn_fraction must be a share between 0 and 1 like 0.25, not '.nan'"),
    ("  3: engineering", "  3: field-support", ("field-support", 1),
     "tiers 2 and 3 share the queue 'field-support'"),
    ("  2: field-support\n", "", ("1: service-desk", 1),
     "tiers must run 1, 2, 3 … without gaps; missing [2]"),
    ("  3: engineering", "  three: engineering", ("three", 1), "a tier must be a whole number"),
    ("  3: engineering", "  0x3: engineering", ("0x3", 1), "a tier must be a whole number"),
    ("  3: engineering", "  12: engineering", ("12", 1), "a tier must be from 1 to 9, not 12"),
    ('  end: "17:00"', '  end: "17:00"\n  lunch: "12:00"', ("lunch", 1),
     "unknown key 'lunch' in business_hours; known: days, start, end"),
    ('  start: "08:00"', '  start: "18:00"', ('"18:00"', 1),
     "business hours must start before they end (18:00 - 17:00)"),
    ('  start: "08:00"', '  start: "17:00"', ('"17:00"', 1),
     "business hours must start before they end (17:00 - 17:00)"),
    ('  start: "08:00"', '  start: "8am"', ('"8am"', 1),
     "business hours start must be a time like 08:00, not '8am'"),
    ('  end: "17:00"', '  end: "25:00"', ('"25:00"', 1),
     "business hours end must be a time like 08:00, not '25:00'"),
    ("[mon, tue, wed, thu, fri]", "[mon, tue, funday]", ("funday", 1),
     "business day 'funday' must be a name like mon, tue … sun"),
    ("[mon, tue, wed, thu, fri]", "[mon, tue, tue]", ("tue", 2),
     "business day 'tue' is listed twice"),
    ("[mon, tue, wed, thu, fri]", "[]", ("[]", 1), "business_hours days must be a non-empty list"),
    ("timezone: America/Los_Angeles", "timezone: America/Springfield", ("America/", 1),
     "timezone: unknown time zone 'America/Springfield'; use a name like Europe/Berlin"),
    ("timezone: America/Los_Angeles", "timezone: ../../etc/passwd", ("../", 1),
     "timezone: unknown time zone '../../etc/passwd'; use a name like Europe/Berlin"),
    ("  1: {1: P1, 2: P2, 3: P3}", "  1: {1: P0, 2: P2, 3: P3}", ("P0", 1),
     "matrix cell 1x1 must be one of P1, P2, P3, P4, not 'P0'"),
    ("  1: {1: P1, 2: P2, 3: P3}", "  1: {1: P1, 2: P2, 3: high}", ("high", 1),
     "matrix cell 1x3 must be one of P1, P2, P3, P4, not 'high'"),
    ("  3: {1: P3, 2: P4, 3: P4}", "  3: {1: P3, 2: P4, 3: P4}\n  4: {}", ("4: {", 1),
     "unknown key '4' in matrix (impact 1..3); known: 1, 2, 3"),
    ("2026-01-01,", "2026-13-01,", ("2026-13-01", 1),
     "holiday '2026-13-01' must be a date like 2026-12-25"),
    ("2026-01-01,", "new year,", ("new year", 1),
     "holiday 'new year' must be a date like 2026-12-25"),
    ("2026-05-25,", "2026-01-01,", ("2026-01-01", 2), "holiday 2026-01-01 is listed twice"),
    (CATEGORIES, "categories: []", ("[]", 1), "categories must be a non-empty list"),
    ("categories: [account,", "categories: [account, account,", ("account", 2),
     "category 'account' is listed twice"),
    ("categories: [account,", "categories: ['  ', account,", ("'  '", 1),
     "a category must be text"),
    ("warn_fraction: 0.25", "warn_fraction: 0.25\nescalate: yes", ("escalate", 1),
     "unknown section 'escalate'; known: timezone, business_hours, holidays, matrix, targets, "
     "queues, categories, reopen_window_days, warn_fraction"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "at", "message"), BAD_POLICIES, ids=[m[:40] for *_, m in BAD_POLICIES]
)
def test_each_bad_policy_is_refused_where_it_is_wrong(
    old: str, new: str, at: tuple[str, int], message: str
) -> None:
    assert SHIPPED.count(old) == 1, old
    text = SHIPPED.replace(old, new)
    with pytest.raises(PolicyProblems) as excinfo:
        policy_from_text(text, "sla.yaml")
    where = _located(text, *at, after=max(0, text.find(new)) if new else 0)
    assert excinfo.value.problems[0] == f"sla.yaml:{where}: {message}"
    assert len(excinfo.value.problems) == 1, excinfo.value.problems


def test_every_problem_is_listed_at_once() -> None:
    text = SHIPPED
    for old, new, _at, _message in BAD_POLICIES[:3]:
        text = text.replace(old, new)
    text = text.replace("reopen_window_days: 14", "reopen_window_days: -1")
    text = text.replace("warn_fraction: 0.25", "warn_fraction: 7")
    with pytest.raises(PolicyProblems) as excinfo:
        policy_from_text(text, "sla.yaml")
    messages = [p.split(": ", 1)[1] for p in excinfo.value.problems]
    assert messages == [
        "target P1 clock must be 24x7 or business, not '25x8'",
        "target P2 resolve (1h) is shorter than its response (2h)",
        "reopen_window_days must be from 0 to 366, not -1",
        "warn_fraction must be a share between 0 and 1 like 0.25, not '7'",
    ]
    assert str(excinfo.value) == "\n".join(excinfo.value.problems)


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("", ["x.yaml:1:1: a policy is a mapping of sections (see resources/sla.yaml)"]),
        ("- a\n- b\n", ["x.yaml:1:1: a policy is a mapping of sections (see resources/sla.yaml)"]),
        ("matrix: [\n", ["x.yaml:2:1: not valid YAML: did not find expected node content"]),
        (
            "matrix: 1\n",
            [
                "x.yaml:1:1: missing section 'targets'",
                "x.yaml:1:1: missing section 'queues'",
                "x.yaml:1:1: missing section 'categories'",
                "x.yaml:1:9: matrix (impact 1..3) must be a mapping",
            ],
        ),
    ],
)
def test_a_policy_that_is_no_policy_at_all(text: str, problems: list[str]) -> None:
    with pytest.raises(PolicyProblems) as excinfo:
        policy_from_text(text, "x.yaml")
    assert list(excinfo.value.problems) == problems


def test_the_shipped_loader_checks_and_says_the_first_problem_in_one_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(
        SHIPPED.replace(P1, P1.replace("24x7", "25x8")).replace(
            "warn_fraction: 0.25", "warn_fraction: 7"
        ),
        encoding="utf-8",
    )
    with pytest.raises(WorkbenchError) as excinfo:
        load_policy(path)
    line = _located(path.read_text(encoding="utf-8"), "25x8")
    assert str(excinfo.value) == (
        f"the SLA policy is not used: {path}:{line}: target P1 clock must be 24x7 or business, "
        "not '25x8' (and 1 more problem)"
    )
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(WorkbenchError, match=r"binary\.yaml is not UTF-8 text$"):
        load_policy(tmp_path / "binary.yaml")


def test_an_empty_target_lacks_both_times() -> None:
    with pytest.raises(PolicyProblems) as excinfo:
        policy_from_text(SHIPPED.replace(P2, "P2: {}"), "sla.yaml")
    assert [p.split(": ", 1)[1] for p in excinfo.value.problems] == [
        "target P2 has no response time",
        "target P2 has no resolve time",
    ]


def test_any_damaged_policy_ends_as_located_problems_never_a_crash() -> None:
    """Random edits of the shipped file (seeded): each either checks or is refused with
    located one-line problems; nothing else escapes."""
    rnd = random.Random(22)
    alphabet = [*"{}[]:,-&*!|>'\"#%@` \n\t0123456789bdPhmx.", "\x00", "\x1b", "é", "١"]
    refused = 0
    for _ in range(400):
        chars = list(SHIPPED)
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(chars))
            if rnd.random() < 0.5:
                chars[pos] = rnd.choice(alphabet)
            else:
                chars.insert(pos, rnd.choice(alphabet))
        try:
            policy_from_text("".join(chars), "f.yaml")
        except PolicyProblems as exc:
            refused += 1
            assert exc.problems
            assert all(re.match(r"f\.yaml:\d+:\d+: \S", p) and "\n" not in p for p in exc.problems)
    assert refused > 100  # the edits do break policies
