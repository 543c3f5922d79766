"""Service-level policy: the priority matrix, SLA targets, queues per tier, reopen window.

Read from the YAML text of `resources/sla.yaml` (or the help desk's central copy). The text
is composed to nodes, not constructed to dicts, so every problem is reported where it is
(WHERE:LINE:COL: message), all of them at once, and duplicate keys are seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from workbench.core.calendar import BusinessCalendar, check_timezone
from workbench.core.errors import BadInput
from workbench.core.models import Priority

LEVELS = (1, 2, 3)
# The one row the central keeps the help desk's policy under (its versions in its history).
POLICY_ID = "sla"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CLOCKS = ("24x7", "business")
_DURATION_PART = re.compile(r"\s*([0-9]+)\s*(bd|m|h|d)\s*", re.ASCII)
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
# Longer targets are typing mistakes (a resolve of 900d), and each due time is searched for
# day by day through the calendar.
MAX_TARGET_DAYS = 90
MAX_REOPEN_WINDOW_DAYS = 366
DEFAULT_START, DEFAULT_END = time(8), time(17)
_DEFAULT_DAY_MINUTES = (DEFAULT_END.hour - DEFAULT_START.hour) * 60

_SECTIONS = (
    "timezone",
    "business_hours",
    "holidays",
    "matrix",
    "targets",
    "queues",
    "categories",
    "reopen_window_days",
    "warn_fraction",
)
_REQUIRED = ("matrix", "targets", "queues", "categories")
_TOP = "the policy"
_TARGET_KEYS = ("response", "resolve", "clock")
_HOURS_KEYS = ("days", "start", "end")
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"


def parse_duration_minutes(text: str, business_day_minutes: int | None = None) -> int:
    """A target's length in minutes of its clock.

    On a 24x7 clock (`business_day_minutes` None): '30m', '4h', '2d' (a day of 24 hours).
    On a business clock: '30m', '4h' (business hours), '3bd' (three business days, each as
    long as the business day); a bare 'd' is refused, as it reads as calendar days.
    Parts add up: '1bd 4h', '2h 30m'.
    """
    spec = str(text)
    parts = list(_DURATION_PART.finditer(spec))
    if not parts or "".join(p.group(0) for p in parts) != spec:
        units = "30m, 4h or 3bd" if business_day_minutes else "30m, 4h or 2d"
        raise BadInput(f"duration {spec!r} must look like {units}")
    minutes = 0
    for part in parts:
        value, unit = int(part.group(1)), part.group(2)
        if unit == "bd":
            if business_day_minutes is None:
                raise BadInput(f"a 24x7 clock has no business days: write {value}d, not {spec}")
            minutes += value * business_day_minutes
        elif unit == "d" and business_day_minutes is not None:
            raise BadInput(
                f"{spec!r} on a business clock: write {value}bd for business days "
                f"or {value * 24}h for business hours"
            )
        else:
            minutes += value * _UNIT_MINUTES[unit]
    return minutes


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
    timezone: str = "UTC"  # where a ticket without a site keeps its business hours

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


class PolicyProblems(BadInput):
    """A policy that does not check; `problems` are its located messages, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)

    def one_line(self, what: str) -> str:
        more = len(self.problems) - 1
        return f"{what} is not used: {self.problems[0]}" + (
            f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        )


Pair = tuple[ScalarNode, yaml.Node]


def _position(problem: tuple[int, int, str]) -> tuple[int, int]:
    return problem[0], problem[1]


@dataclass
class _Reading:
    where: str
    found: list[tuple[int, int, str]] = field(default_factory=list)  # line, column, message

    def error(self, node: yaml.Node | None, message: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.found.append((line, column, message))

    @property
    def problems(self) -> list[str]:
        """WHERE:LINE:COL: message, in the order of the file (as one reads it to fix it)."""
        return [
            f"{self.where}:{line}:{col}: {text}"
            for line, col, text in sorted(self.found, key=_position)
        ]

    def mapping(self, node: yaml.Node, what: str, known: tuple[str, ...]) -> dict[str, Pair]:
        """The keys of a mapping node by their text; unknown and duplicate keys reported."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping")
            return {}
        found: dict[str, Pair] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in known and what == _TOP:
                self.error(key, f"unknown section {name!r}; known: {', '.join(known)}")
            elif name not in known:
                self.error(key, f"unknown key {name!r} in {what}; known: {', '.join(known)}")
            elif name in found:
                first = found[name][0].start_mark.line + 1
                self.error(key, f"{what}: {name!r} is given twice (first on line {first})")
            else:
                found[name] = (key, value)
        return found

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.error(node, f"{what} must be a non-empty list")
            return []
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == _NULL or not node.value.strip():
            self.error(node, f"{what} must be text")
            return None
        return str(node.value).strip()

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int | None:
        # Decimal digits only: YAML 1.1 also reads 0x1f (hex) and 1:30 (base 60) as numbers.
        plain = isinstance(node, ScalarNode) and node.tag == _INT
        if not plain or not re.fullmatch(r"[+-]?[0-9]+", node.value, re.ASCII):
            self.error(node, f"{what} must be a whole number")
            return None
        value = int(node.value)
        if not low <= value <= high:
            self.error(node, f"{what} must be from {low} to {high}, not {value}")
            return None
        return value

    def checked(self, node: yaml.Node, what: str, call: Any, *args: Any) -> Any:
        """call(*args), a BadInput it raises reported at `node` as `what: …` (None then)."""
        try:
            return call(*args)
        except BadInput as exc:
            self.error(node, f"{what}: {exc}")
            return None


def _levels(reading: _Reading, node: yaml.Node, what: str) -> Iterator[tuple[int, yaml.Node]]:
    """The entries 1, 2, 3 of a matrix mapping, each once; others reported."""
    fields = reading.mapping(node, what, tuple(str(level) for level in LEVELS))
    for level in LEVELS:
        pair = fields.get(str(level))
        if pair is None:
            if isinstance(node, MappingNode):
                reading.error(node, f"{what} has no entry {level}")
            continue
        yield level, pair[1]


def _read_matrix(reading: _Reading, node: yaml.Node) -> dict[tuple[int, int], Priority]:
    matrix: dict[tuple[int, int], Priority] = {}
    names = ", ".join(p.value for p in Priority)
    for impact, row in _levels(reading, node, "matrix (impact 1..3)"):
        for urgency, cell in _levels(reading, row, f"matrix row {impact} (urgency 1..3)"):
            text = reading.text(cell, f"matrix cell {impact}x{urgency}")
            if text is None:
                continue
            try:
                matrix[(impact, urgency)] = Priority(text.upper())
            except ValueError:
                reading.error(
                    cell, f"matrix cell {impact}x{urgency} must be one of {names}, not {text!r}"
                )
    return matrix


def _time(reading: _Reading, pair: Pair | None, what: str, default: time) -> time | None:
    if pair is None:
        return default
    node = pair[1]
    # The raw text: YAML 1.1 reads an unquoted 17:00 as the number 1020 (base 60).
    raw = node.value if isinstance(node, ScalarNode) else ""
    if not re.fullmatch(r"[0-2][0-9]:[0-5][0-9]", str(raw), re.ASCII):
        reading.error(node, f"{what} must be a time like 08:00, not {raw!r}")
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        reading.error(node, f"{what} must be a time like 08:00, not {raw!r}")
        return None


def _read_hours(
    reading: _Reading, node: yaml.Node | None
) -> tuple[frozenset[int], time, time] | None:
    """Working days, opening and closing; None when they do not check (already reported)."""
    if node is None:
        return frozenset(range(5)), DEFAULT_START, DEFAULT_END
    fields = reading.mapping(node, "business_hours", _HOURS_KEYS)
    workdays: set[int] = set()
    ok = True
    if "days" in fields:
        days = reading.sequence(fields["days"][1], "business_hours days")
        ok = bool(days)
        for day in days:
            name = str(day.value).lower() if isinstance(day, ScalarNode) else ""
            matches = [n for n, weekday in enumerate(_WEEKDAYS) if name in (weekday, _full(n))]
            if not matches:
                reading.error(day, f"business day {name!r} must be a name like mon, tue … sun")
                ok = False
            elif matches[0] in workdays:
                reading.error(day, f"business day {name!r} is listed twice")
                ok = False
            else:
                workdays.add(matches[0])
    else:
        workdays = set(range(5))
    start = _time(reading, fields.get("start"), "business hours start", DEFAULT_START)
    end = _time(reading, fields.get("end"), "business hours end", DEFAULT_END)
    if start is None or end is None or not ok:
        return None
    if start >= end:
        reading.error(
            fields["start"][1] if "start" in fields else node,
            f"business hours must start before they end ({start:%H:%M} - {end:%H:%M})",
        )
        return None
    return frozenset(workdays), start, end


def _full(weekday: int) -> str:
    return ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[weekday]


def _read_holidays(reading: _Reading, node: yaml.Node) -> frozenset[date]:
    days: dict[date, yaml.Node] = {}
    if isinstance(node, SequenceNode) and not node.value:
        return frozenset()  # `holidays: []`: none
    for item in reading.sequence(node, "holidays"):
        raw = item.value if isinstance(item, ScalarNode) else ""
        try:
            day = (
                date.fromisoformat(str(raw))
                if re.fullmatch(r"\d{4}-\d\d-\d\d", raw, re.ASCII)
                else None
            )
        except ValueError:
            day = None
        if day is None:
            reading.error(item, f"holiday {raw!r} must be a date like 2026-12-25")
        elif day in days:
            reading.error(item, f"holiday {day} is listed twice")
        else:
            days[day] = item
    return frozenset(days)


def _clock(reading: _Reading, pair: Pair | None, what: str) -> str | None:
    if pair is None:
        return "business"
    clock = str(pair[1].value) if isinstance(pair[1], ScalarNode) else ""
    if clock not in CLOCKS:
        reading.error(pair[1], f"{what} clock must be 24x7 or business, not {clock!r}")
        return None
    return clock


def _read_target(
    reading: _Reading,
    priority: Priority,
    node: yaml.Node,
    business: BusinessCalendar | None,
    always: BusinessCalendar,
) -> SlaTarget | None:
    what = f"target {priority.value}"
    fields = reading.mapping(node, what, _TARGET_KEYS)
    if not isinstance(node, MappingNode):
        return None
    clock = _clock(reading, fields.get("clock"), what)
    if clock is None:
        return None
    calendar: BusinessCalendar | None
    if clock == "24x7":
        calendar, day = always, None
    else:
        # Checked against the default day when business_hours do not check (reported
        # there), so the target's own problems are found too.
        calendar = business
        day = business.day_minutes if business else _DEFAULT_DAY_MINUTES
    limit = MAX_TARGET_DAYS * (day or 24 * 60)
    minutes: dict[str, int] = {}
    for name in ("response", "resolve"):
        pair = fields.get(name)
        if pair is None:
            reading.error(node, f"{what} has no {name} time")
            continue
        raw = pair[1].value if isinstance(pair[1], ScalarNode) else ""
        value = reading.checked(pair[1], f"{what} {name}", parse_duration_minutes, raw, day)
        if value is None:
            continue
        if value == 0:
            reading.error(pair[1], f"{what} {name} of {raw} leaves no time at all")
        elif value > limit:
            reading.error(
                pair[1],
                f"{what} {name} of {raw} is longer than {MAX_TARGET_DAYS} days of its clock",
            )
        else:
            minutes[name] = value
    if len(minutes) < 2:
        return None
    if minutes["resolve"] < minutes["response"]:
        reading.error(
            fields["resolve"][1],
            f"{what} resolve ({fields['resolve'][1].value}) is shorter than its response "
            f"({fields['response'][1].value})",
        )
        return None
    return (
        None if calendar is None else SlaTarget(minutes["response"], minutes["resolve"], calendar)
    )


def _read_queues(reading: _Reading, node: yaml.Node) -> dict[int, str]:
    if not isinstance(node, MappingNode) or not node.value:
        reading.error(node, "queues must be a mapping of tier numbers (1, 2, …) to queue names")
        return {}
    queues: dict[int, str] = {}
    first_of: dict[str, int] = {}
    for key, value in node.value:
        tier = reading.integer(key, "a tier", 1, 9)
        name = reading.text(value, f"the queue of tier {tier}")
        if tier is None or name is None:
            continue
        if tier in queues:
            reading.error(key, f"tier {tier} is given twice")
        elif name in first_of:
            reading.error(value, f"tiers {first_of[name]} and {tier} share the queue {name!r}")
        else:
            queues[tier] = name
            first_of[name] = tier
    missing = sorted(set(range(1, max(queues, default=0) + 1)) - set(queues))
    if queues and missing:
        # Escalation moves a ticket to the next tier: a gap would strand it.
        reading.error(node, f"tiers must run 1, 2, 3 … without gaps; missing {missing}")
    return queues


def _read_categories(reading: _Reading, node: yaml.Node) -> tuple[str, ...]:
    names: dict[str, yaml.Node] = {}
    for item in reading.sequence(node, "categories"):
        name = reading.text(item, "a category")
        if name is None:
            continue
        if name in names:
            reading.error(item, f"category {name!r} is listed twice")
        else:
            names[name] = item
    return tuple(names)


def _read_zone(reading: _Reading, pair: Pair | None) -> str | None:
    if pair is None:
        return "UTC"
    zone = reading.text(pair[1], "timezone")
    if zone is None:
        return None
    return reading.checked(pair[1], "timezone", check_timezone, zone)  # type: ignore[no-any-return]


def _read_warn_fraction(reading: _Reading, node: yaml.Node) -> float | None:
    if isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT):
        try:
            value = float(node.value.replace("_", ""))
        except ValueError:
            value = -1.0
        if 0 < value < 1:
            return value
    raw = node.value if isinstance(node, ScalarNode) else "a structure"
    reading.error(node, f"warn_fraction must be a share between 0 and 1 like 0.25, not {raw!r}")
    return None


def _read(reading: _Reading, root: yaml.Node | None) -> SlaPolicy | None:
    if not isinstance(root, MappingNode):
        reading.error(root, "a policy is a mapping of sections (see resources/sla.yaml)")
        return None
    fields = reading.mapping(root, _TOP, _SECTIONS)
    for name in _REQUIRED:
        if name not in fields:
            reading.error(root, f"missing section {name!r}")

    def node(name: str) -> yaml.Node | None:
        pair = fields.get(name)
        return pair[1] if pair else None

    zone = _read_zone(reading, fields.get("timezone"))
    holidays_node = node("holidays")
    holidays = frozenset() if holidays_node is None else _read_holidays(reading, holidays_node)
    hours = _read_hours(reading, node("business_hours"))
    business = (
        BusinessCalendar(zone, hours[0], hours[1], hours[2], holidays)
        if zone is not None and hours is not None
        else None
    )
    always = BusinessCalendar("UTC", frozenset(range(7)), time(0), time(23, 59), always=True)
    matrix = _read_matrix(reading, fields["matrix"][1]) if "matrix" in fields else {}
    targets: dict[Priority, SlaTarget] = {}
    targets_node = node("targets")
    if targets_node is not None:
        found = reading.mapping(targets_node, "targets", tuple(p.value for p in Priority))
        for priority in Priority:
            if priority.value not in found:
                if isinstance(targets_node, MappingNode):
                    reading.error(targets_node, f"targets has no {priority.value}")
                continue
            target = _read_target(reading, priority, found[priority.value][1], business, always)
            if target is not None:
                targets[priority] = target
    queues = _read_queues(reading, fields["queues"][1]) if "queues" in fields else {}
    categories = (
        _read_categories(reading, fields["categories"][1]) if "categories" in fields else ()
    )
    reopen = node("reopen_window_days")
    reopen_days = (
        14
        if reopen is None
        else reading.integer(reopen, "reopen_window_days", 0, MAX_REOPEN_WINDOW_DAYS)
    )
    warn = node("warn_fraction")
    warn_fraction = 0.25 if warn is None else _read_warn_fraction(reading, warn)
    if reading.found or reopen_days is None or warn_fraction is None or zone is None:
        return None
    return SlaPolicy(
        matrix=matrix,
        targets=targets,
        queues=queues,
        categories=categories,
        reopen_window=timedelta(days=reopen_days),
        warn_fraction=warn_fraction,
        timezone=zone,
    )


def policy_from_text(text: str, where: str) -> SlaPolicy:
    """Check a policy's YAML text as a whole; PolicyProblems (a BadInput) lists every problem
    as WHERE:LINE:COL: message (what `central policy set` shows before storing anything)."""
    from workbench.core.yaml_loader import compose  # noqa: PLC0415  (yaml_loader imports late)

    reading = _Reading(where)
    try:
        root = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise PolicyProblems([f"{where}:{line}:{column}: not valid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyProblems([f"{where}:1:1: not valid YAML: {exc}"]) from None
    policy = _read(reading, root)
    if policy is None:
        raise PolicyProblems(reading.problems)
    return policy


def policy_from_mapping(data: dict[str, Any], where: str = "<policy>") -> SlaPolicy:
    """The same checks for a policy held as a mapping (as safe_load gives it)."""
    return policy_from_text(yaml.safe_dump(data, sort_keys=False), where)
