"""SlaPolicy: the impact x urgency matrix, overrides, targets, queues and the policy loader."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import yaml

from workbench.core.errors import BadInput
from workbench.core.models import Priority
from workbench.core.policy import (
    SlaPolicy,
    check_level,
    parse_duration_minutes,
    policy_from_mapping,
)
from workbench.resources import RESOURCES

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
            "P2": {"response": "1h", "resolve": "1d"},
            "P3": {"response": 90, "resolve": "16h"},
            "P4": {"response": "8h", "resolve": "40h"},
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


def test_shipped_targets(policy: SlaPolicy) -> None:
    minutes = {p: (t.response_minutes, t.resolve_minutes) for p, t in policy.targets.items()}
    assert minutes == {
        Priority.P1: (15, 240),
        Priority.P2: (30, 480),
        Priority.P3: (120, 1440),
        Priority.P4: (480, 4320),
    }
    assert policy.targets[Priority.P1].calendar.always
    for priority in (Priority.P2, Priority.P3, Priority.P4):
        calendar = policy.targets[priority].calendar
        assert not calendar.always
        assert calendar.timezone == "America/Los_Angeles"
        assert calendar.workdays == frozenset({0, 1, 2, 3, 4})
        assert (calendar.start, calendar.end) == (time(8), time(17))
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
    assert (berlin.response_minutes, berlin.resolve_minutes) == (120, 1440)
    assert berlin.calendar.holidays == shipped.calendar.holidays
    assert policy.target(Priority.P3, None) is shipped
    # 24x7 has no local hours: the time zone does not matter.
    assert policy.target(Priority.P1, "Europe/Berlin") is policy.targets[Priority.P1]


def test_due_times_in_business_and_24x7_clocks(policy: SlaPolicy) -> None:
    monday_0800_pst = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)
    # P3: response 2h -> 10:00 PST; resolve 24 business hours = 2 days of 9h + 6h -> Wed 14:00.
    assert policy.due_times(Priority.P3, monday_0800_pst) == (
        datetime(2026, 11, 16, 18, 0, tzinfo=UTC),
        datetime(2026, 11, 18, 22, 0, tzinfo=UTC),
    )
    saturday = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    assert policy.due_times(Priority.P1, saturday) == (
        saturday + timedelta(minutes=15),
        saturday + timedelta(hours=4),
    )


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("30m", 30), ("4h", 240), ("2d", 2880), (" 15 m ", 15), (45, 45), ("0m", 0)],
)
def test_parse_duration(text: str | int, minutes: int) -> None:
    assert parse_duration_minutes(text) == minutes


@pytest.mark.parametrize("text", ["", "4", "4w", "1.5h", "-3h", "h4", "four hours"])
def test_parse_duration_refuses_anything_else(text: str) -> None:
    with pytest.raises(BadInput, match="must look like 30m, 4h or 2d"):
        parse_duration_minutes(text)


# -- the loader ---------------------------------------------------------------------------


def test_policy_from_a_custom_mapping() -> None:
    policy = policy_from_mapping(minimal_mapping())
    assert policy.targets[Priority.P2].resolve_minutes == 1440
    assert policy.targets[Priority.P3].response_minutes == 90
    assert policy.targets[Priority.P1].calendar.always
    assert policy.targets[Priority.P4].calendar.start == time(9)
    assert policy.top_tier == 2
    assert policy.reopen_window == timedelta(days=7)
    assert policy.warn_fraction == 0.5


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


def _without(path: tuple[Any, ...]) -> dict[str, Any]:
    data = copy.deepcopy(minimal_mapping())
    node = data
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return data


@pytest.mark.parametrize(
    "path",
    [
        ("matrix",),
        ("matrix", 2),
        ("matrix", 3, 3),
        ("targets", "P4"),
        ("targets", "P2", "resolve"),
        ("queues",),
        ("categories",),
    ],
    ids=lambda p: ".".join(map(str, p)),
)
def test_incomplete_policy_is_refused(path: tuple[Any, ...]) -> None:
    with pytest.raises(BadInput, match="SLA policy is incomplete or malformed"):
        policy_from_mapping(_without(path))


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {
                "matrix": {
                    1: {1: "P0", 2: "P1", 3: "P2"},
                    2: {1: "P2", 2: "P2", 3: "P3"},
                    3: {1: "P3", 2: "P4", 3: "P4"},
                }
            },
            "incomplete or malformed",
        ),
        ({"holidays": ["2026-13-01"]}, "incomplete or malformed"),
        ({"business_hours": {"days": ["monday", "funday"]}}, "business days must be names"),
        ({"business_hours": {"start": "8am"}}, "business hours start must be a time"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "must start before they end"),
        ({"business_hours": {"days": []}}, "at least one working day"),
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone"),
        (
            {
                "targets": {
                    "P1": {"response": "soon", "resolve": "4h"},
                    "P2": {"response": "1h", "resolve": "1d"},
                    "P3": {"response": "1h", "resolve": "1d"},
                    "P4": {"response": "1h", "resolve": "1d"},
                }
            },
            "must look like 30m",
        ),
    ],
)
def test_malformed_policy_is_refused(patch: dict[str, Any], message: str) -> None:
    data = minimal_mapping()
    data.update(patch)
    with pytest.raises(BadInput, match=message):
        policy_from_mapping(data)
