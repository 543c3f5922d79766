"""Service-level policy: the priority matrix, SLA targets, queues per tier, reopen window.

Built from the mapping in `resources/sla.yaml` (the loader reads the file; this module only
checks and interprets what it is given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from workbench.core.calendar import BusinessCalendar
from workbench.core.errors import BadInput
from workbench.core.models import Priority

LEVELS = (1, 2, 3)
# The one row the central keeps the help desk's policy under (its versions in its history).
POLICY_ID = "sla"
LEVEL_NAMES = {1: "high", 2: "medium", 3: "low"}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")


def parse_duration_minutes(text: str | int) -> int:
    """'30m', '4h' or '2d' in minutes; a 'd' is 24 hours of the target's clock."""
    if isinstance(text, int):
        return text
    match = _DURATION.match(str(text))
    if not match:
        raise BadInput(f"duration {text!r} must look like 30m, 4h or 2d")
    value, unit = int(match.group(1)), match.group(2)
    return value * {"m": 1, "h": 60, "d": 1440}[unit]


def check_level(name: str, value: int) -> int:
    if value not in LEVELS:
        raise BadInput(f"{name} must be 1 (high), 2 (medium) or 3 (low), not {value}")
    return value


@dataclass(frozen=True, slots=True)
class SlaTarget:
    response_minutes: int
    resolve_minutes: int
    calendar: BusinessCalendar


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    matrix: dict[tuple[int, int], Priority]
    targets: dict[Priority, SlaTarget]
    queues: dict[int, str]
    categories: tuple[str, ...]
    reopen_window: timedelta
    warn_fraction: float  # share of the resolve target left when the SLA column turns amber

    def priority_for(self, impact: int, urgency: int) -> Priority:
        check_level("impact", impact)
        check_level("urgency", urgency)
        return self.matrix[(impact, urgency)]

    def decide_priority(
        self, impact: int, urgency: int, override: str | None, reason: str | None
    ) -> tuple[Priority, str | None]:
        """The matrix priority, or an override that must come with a reason."""
        computed = self.priority_for(impact, urgency)
        if override is None:
            return computed, None
        try:
            chosen = Priority(override.upper())
        except ValueError:
            raise BadInput(f"priority must be one of P1, P2, P3, P4, not {override!r}") from None
        if chosen is computed:
            return computed, None
        if not reason or not reason.strip():
            raise BadInput(
                f"impact {impact} x urgency {urgency} gives {computed}; "
                f"overriding it to {chosen} needs a reason"
            )
        return chosen, reason.strip()

    def queue_for_tier(self, tier: int) -> str:
        try:
            return self.queues[tier]
        except KeyError:
            raise BadInput(f"there is no tier {tier}; tiers are {sorted(self.queues)}") from None

    @property
    def top_tier(self) -> int:
        return max(self.queues)

    def tier_of_queue(self, queue: str) -> int:
        for tier, name in self.queues.items():
            if name == queue:
                return tier
        raise BadInput(f"unknown queue {queue!r}; queues are {', '.join(self.queues.values())}")

    def check_category(self, category: str) -> str:
        if category not in self.categories:
            raise BadInput(
                f"unknown category {category!r}; choose one of {', '.join(self.categories)}"
            )
        return category

    def target(self, priority: Priority, timezone: str | None = None) -> SlaTarget:
        target = self.targets[priority]
        if timezone and not target.calendar.always:
            return SlaTarget(
                target.response_minutes,
                target.resolve_minutes,
                target.calendar.with_timezone(timezone),
            )
        return target

    def due_times(
        self, priority: Priority, start: datetime, timezone: str | None = None
    ) -> tuple[datetime, datetime]:
        target = self.target(priority, timezone)
        return (
            target.calendar.add(start, target.response_minutes),
            target.calendar.add(start, target.resolve_minutes),
        )


def _parse_time(text: Any, what: str) -> time:
    try:
        return time.fromisoformat(str(text))
    except ValueError:
        raise BadInput(f"{what} must be a time like 08:00, not {text!r}") from None


def _parse_calendar(
    spec: dict[str, Any], holidays: frozenset[date], timezone: str
) -> BusinessCalendar:
    if spec.get("always"):
        return BusinessCalendar(timezone, frozenset(range(7)), time(0), time(23, 59), always=True)
    days = spec.get("days", ["mon", "tue", "wed", "thu", "fri"])
    try:
        workdays = frozenset(_WEEKDAYS.index(str(day).lower()[:3]) for day in days)
    except ValueError:
        raise BadInput(f"business days must be names like mon, tue; got {days!r}") from None
    return BusinessCalendar(
        timezone,
        workdays,
        _parse_time(spec.get("start", "08:00"), "business hours start"),
        _parse_time(spec.get("end", "17:00"), "business hours end"),
        holidays,
    )


def policy_from_mapping(data: dict[str, Any]) -> SlaPolicy:
    """Check and interpret the content of sla.yaml."""
    try:
        timezone = str(data.get("timezone", "UTC"))
        holidays = frozenset(date.fromisoformat(str(day)) for day in data.get("holidays", []))
        business = _parse_calendar(data.get("business_hours", {}), holidays, timezone)
        always = _parse_calendar({"always": True}, holidays, timezone)
        matrix: dict[tuple[int, int], Priority] = {}
        for impact in LEVELS:
            row = data["matrix"][impact]
            for urgency in LEVELS:
                matrix[(impact, urgency)] = Priority(str(row[urgency]))
        targets = {}
        for priority in Priority:
            spec = data["targets"][priority.value]
            targets[priority] = SlaTarget(
                parse_duration_minutes(spec["response"]),
                parse_duration_minutes(spec["resolve"]),
                always if spec.get("clock") == "24x7" else business,
            )
        queues = {int(tier): str(name) for tier, name in data["queues"].items()}
        return SlaPolicy(
            matrix=matrix,
            targets=targets,
            queues=queues,
            categories=tuple(str(c) for c in data["categories"]),
            reopen_window=timedelta(days=int(data.get("reopen_window_days", 14))),
            warn_fraction=float(data.get("warn_fraction", 0.25)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"SLA policy is incomplete or malformed: {exc}") from exc


# A policy that passes, whose sections stand in for all but the one checked: each problem is
# found in its own section and reported at that section's line.
_STAND_IN: dict[str, Any] = {
    "matrix": {i: {u: "P4" for u in LEVELS} for i in LEVELS},
    "targets": {p.value: {"response": "1h", "resolve": "1d"} for p in Priority},
    "queues": {1: "service-desk"},
    "categories": ["other"],
}
_REQUIRED = tuple(_STAND_IN)
_OPTIONAL = ("timezone", "business_hours", "holidays", "reopen_window_days", "warn_fraction")


def policy_from_text(text: str, where: str) -> SlaPolicy:
    """Check a policy's YAML text as a whole; BadInput lists every problem as
    WHERE:LINE:COL: message (what `central policy set` shows before storing anything)."""
    import yaml  # noqa: PLC0415  (only policy checks need the node positions)

    from workbench.core.yaml_loader import compose, safe_load  # noqa: PLC0415

    try:
        root = compose(text)
        data = safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise BadInput(f"{where}:{line}:{column}: not valid YAML: {exc.problem}") from None
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise BadInput(f"{where}:1:1: a policy is a mapping of sections (see sla.yaml)")
    marks = {key.value: value.start_mark for key, value in root.value}
    problems: list[str] = []

    def at(section: str, message: str) -> None:
        mark = marks.get(section)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(f"{where}:{line}:{column}: {message}")

    problems.extend(f"{where}:1:1: missing section {n!r}" for n in _REQUIRED if n not in data)
    for name in data:
        if name not in _REQUIRED and name not in _OPTIONAL:
            at(str(name), f"unknown section {name!r}; known: {', '.join(_REQUIRED + _OPTIONAL)}")
            continue
        try:
            policy_from_mapping({**_STAND_IN, name: data[name]})
        except BadInput as exc:
            at(str(name), f"{name}: {exc}".replace("SLA policy is incomplete or malformed: ", ""))
    if problems:
        raise BadInput("\n".join(problems))
    return policy_from_mapping(data)
