"""Demo data: the help desk of a state agency with four months of history.

What exists (sites, people, hardware, ticket templates) comes from resources/demo.yaml; the SLA
policy decides priorities, queues and due times. Each ticket's story (pick-up, waits,
escalations, resolution, closing) is told through core.lifecycle, the rules the product itself
applies, and cut at `now`: old tickets are closed, recent ones still open, and every ticket and
worklog is one the product could have written. The work is paced by each ticket's SLA target,
so most open tickets are within it and a few breach. The same seed and `now` always give the
same data.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import random
import string
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

import yaml

from workbench.core.calendar import BusinessCalendar
from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.lifecycle import Change, Lifecycle, opening_event
from workbench.core.models import (
    Asset,
    AssetStatus,
    Channel,
    Priority,
    Requester,
    Role,
    Site,
    Status,
    Technician,
    Ticket,
    WaitReason,
    WorklogEntry,
    WorklogKind,
)
from workbench.core.policy import LEVELS, SlaPolicy, SlaTarget
from workbench.core.query import TicketQuery
from workbench.core.refs import format_number
from workbench.core.sla import due_time
from workbench.core.yaml_loader import safe_load
from workbench.resources import RESOURCES
from workbench.store import Store

MAX_TICKETS = 1_000_000
HISTORY_DAYS = 120
# One requester per two tickets (about what a desk sees in four months), within these bounds:
# the hostname patterns have room for this many people per site and department.
MIN_PEOPLE, MAX_PEOPLE = 200, 25_000
# Tickets per load_snapshot call. Each call rebuilds the whole search index, so batches are
# large; they only bound memory (about 2.7 GB at the peak of a 250,000-ticket batch).
_BATCH = 250_000
_MIN_AGE = 30 * 60  # the newest ticket is this old, so its first worklog lines fit before now
_OPENS, _CLOSES = 8, 17  # office hours in which people pick up, resume and finish work
_HOUR = 3600
_DAY = 86400
# How long a ticket's work takes, as a share of its resolve target (of running clock): some
# are done in about their category's usual hours (most of them on the first call), the rest
# take a share of the target, a few run late and fewer stall far beyond it.
_QUICK = 0.4
_SHARE = (0.1, 1.0)
_LATE, _LATE_SHARE = 0.03, (1.02, 1.8)
_STUCK, _STUCK_SHARE = 0.01, (1.8, 4.0)
_REOPEN = 0.03
_CLOSE_AFTER_DAYS = (1.5, 5.0)  # resolved tickets are closed after a few days
_CALLER_SPREAD = 0.6
_REMEMBERED_SUMS = 64  # how unevenly people call the desk
_WAIT_HOURS = {WaitReason.CUSTOMER: 20.0, WaitReason.VENDOR: 50.0, WaitReason.PARTS: 90.0}
_FIELDS = frozenset({"first", "name", "dept", "site"})
_ASSET_FIELDS = frozenset({"hostname", "tag", "serial", "model", "maker", "os"})
_DIGITS = string.digits
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: they read as 1 and 0 on a label
_ALNUM = _DIGITS + _LETTERS
_HEX = "0123456789ABCDEF"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    sites: int
    technicians: int
    requesters: int
    assets: int
    tickets: int
    worklog: int


# -- the recipe ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _SiteSpec:
    code: str
    name: str
    address: str
    timezone: str
    area_code: str
    weight: float
    departments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _TechSpec:
    login: str
    name: str
    tier: int
    role: Role
    sites: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _AssetType:
    name: str
    per_person: float | None  # a personal kind: the chance that someone has one
    people_per_asset: int | None  # a shared kind: one per this many people
    hostname: str


@dataclass(frozen=True, slots=True)
class _Model:
    kind: str
    maker: str
    name: str
    serial: str
    weight: float
    age_days: tuple[int, int]
    warranty_years: int
    os: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Remote:
    os_prefix: str
    protocol: str
    port: int
    credential_profile: str


@dataclass(frozen=True, slots=True)
class _Template:
    title: str
    description: str
    resolution: str
    notes: tuple[str, ...]
    escalation: tuple[str, ...]
    assets: tuple[str, ...]
    impact: tuple[int, ...]
    wait: tuple[tuple[WaitReason, float], ...]  # chance of each kind of wait


@dataclass(frozen=True, slots=True)
class _Category:
    name: str
    weight: float
    escalate: float
    tier3: float
    hours: tuple[float, float]  # typical working hours at tier 1, and at tier 2 and up
    channels: tuple[tuple[Channel, float], ...]
    templates: tuple[_Template, ...]


@dataclass(frozen=True, slots=True)
class DemoRecipe:
    email_domain: str
    tag_prefix: str
    sites: tuple[_SiteSpec, ...]
    departments: dict[str, str]
    technicians: tuple[_TechSpec, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    asset_types: tuple[_AssetType, ...]
    models: tuple[_Model, ...]
    remote: tuple[_Remote, ...]
    channels: tuple[tuple[Channel, float], ...]
    impact: tuple[tuple[int, float], ...]
    urgency: tuple[tuple[int, float], ...]
    wait_notes: dict[WaitReason, tuple[str, ...]]
    calls: tuple[str, ...]
    time_spent: tuple[str, ...]
    acknowledgements: tuple[str, ...]
    reopen: tuple[tuple[str, str], ...]
    tier3_reasons: tuple[str, ...]
    categories: tuple[_Category, ...]


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a non-empty list, got {value!r}")
    return tuple(str(item) for item in value)


def _check_fields(text: str, allowed: frozenset[str], where: str) -> str:
    used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    unknown = used - allowed
    if unknown:
        raise ValueError(f"{where}: unknown placeholder {{{sorted(unknown)[0]}}} in {text!r}")
    return text


def _template(
    data: dict[str, Any], kinds: set[str], where: str, category: dict[str, Any]
) -> _Template:
    """One ticket template; `impact` and `wait` default to those of its category."""
    assets = tuple(str(a) for a in data.get("assets") or ())
    if set(assets) - kinds:
        raise ValueError(f"{where}: unknown asset types {sorted(set(assets) - kinds)}")
    allowed = (_FIELDS | _ASSET_FIELDS) if assets else _FIELDS
    title = _check_fields(str(data["title"]), allowed, where)
    where = f"{where} {title!r}"
    texts = [_check_fields(str(data[key]), allowed, where) for key in ("description", "resolution")]
    notes, escalation = (
        tuple(_check_fields(t, allowed, where) for t in _strings(data[key]))
        for key in ("notes", "escalation")
    )
    impact = tuple(int(level) for level in data.get("impact") or category.get("impact") or LEVELS)
    if not impact or set(impact) - set(LEVELS):
        raise ValueError(f"{where}: impact levels are 1, 2 and 3, not {impact}")
    wait = _weights(data.get("wait", category.get("wait")) or {}, WaitReason)
    return _Template(title, texts[0], texts[1], notes, escalation, assets, impact, wait)


def _weights(data: dict[Any, Any], kind: type[Any]) -> tuple[tuple[Any, float], ...]:
    return tuple((kind(key), float(weight)) for key, weight in data.items())


def _asset_type(name: str, data: dict[str, Any]) -> _AssetType:
    personal, shared = data.get("per_person"), data.get("people_per_asset")
    if (personal is None) == (shared is None):
        raise ValueError(f"asset type {name} needs either per_person or people_per_asset")
    per_person = None if personal is None else float(personal)
    people_per_asset = None if shared is None else int(shared)
    if not (per_person is None or 0 <= per_person <= 1) or not (
        people_per_asset is None or people_per_asset >= 1
    ):
        raise ValueError(f"asset type {name}: per_person is a chance, people_per_asset >= 1")
    return _AssetType(name, per_person, people_per_asset, str(data["hostname"]))


def _recipe(data: dict[str, Any]) -> DemoRecipe:
    sites = tuple(
        _SiteSpec(
            str(s["code"]),
            str(s["name"]),
            str(s["address"]),
            str(s["timezone"]),
            str(s["area_code"]),
            float(s["weight"]),
            _strings(s["departments"]),
        )
        for s in data["sites"]
    )
    codes = {s.code for s in sites}
    departments = {str(code): str(name) for code, name in data["departments"].items()}
    for site in sites:
        ZoneInfo(site.timezone)  # an unknown zone raises here, naming itself
        if set(site.departments) - set(departments):
            raise ValueError(f"site {site.code} names unknown departments")
    technicians = tuple(
        _TechSpec(
            str(t["login"]),
            str(t["name"]),
            int(t["tier"]),
            Role(t["role"]),
            tuple(str(code) for code in t.get("sites") or ()),
        )
        for t in data["technicians"]
    )
    for tech in technicians:
        if set(tech.sites) - codes:
            raise ValueError(f"technician {tech.login} names unknown sites")
    kinds = {str(name): _asset_type(str(name), t) for name, t in data["asset_types"].items()}
    models = tuple(
        _Model(
            str(m["type"]),
            str(m["maker"]),
            str(m["name"]),
            str(m["serial"]),
            float(m["weight"]),
            (int(m["age"][0] * 365), int(m["age"][1] * 365)),
            int(m["warranty"]),
            _strings(m["os"]),
        )
        for m in data["models"]
    )
    for kind in kinds:
        if not any(m.kind == kind for m in models):
            raise ValueError(f"no model of asset type {kind}")
    categories = []
    for name, c in data["categories"].items():
        where = f"category {name}"
        if not c["templates"]:
            raise ValueError(f"{where} has no ticket templates")
        categories.append(
            _Category(
                str(name),
                float(c["weight"]),
                float(c["escalate"]),
                float(c["tier3"]),
                (float(c["hours"][0]), float(c["hours"][1])),
                _weights(c.get("channels") or data["channels"], Channel),
                tuple(_template(t, set(kinds), where, c) for t in c["templates"]),
            )
        )
    return DemoRecipe(
        email_domain=str(data["organization"]["email_domain"]),
        tag_prefix=str(data["organization"]["asset_tag_prefix"]),
        sites=sites,
        departments=departments,
        technicians=technicians,
        first_names=_strings(data["first_names"]),
        last_names=_strings(data["last_names"]),
        asset_types=tuple(kinds.values()),
        models=models,
        remote=tuple(
            _Remote(str(prefix), str(r["protocol"]), int(r["port"]), str(r["credential_profile"]))
            for prefix, r in data["remote"].items()
        ),
        channels=_weights(data["channels"], Channel),
        impact=_weights(data["impact_weights"], int),
        urgency=_weights(data["urgency_weights"], int),
        wait_notes={WaitReason(k): _strings(v) for k, v in data["wait_notes"].items()},
        calls=_strings(data["calls"]),
        time_spent=_strings(data["time_spent"]),
        acknowledgements=_strings(data["acknowledgements"]),
        reopen=tuple((str(r["reason"]), str(r["resolution"])) for r in data["reopen"]),
        tier3_reasons=_strings(data["tier3_reasons"]),
        categories=tuple(categories),
    )


@cache
def load_recipe(path: Path | None = None) -> DemoRecipe:
    """The demo recipe, checked: resources/demo.yaml unless another file is named."""
    path = path or RESOURCES / "demo.yaml"
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
        return _recipe(data)
    except OSError as exc:
        raise WorkbenchError(f"cannot read the demo recipe {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"the demo recipe {path} is not valid YAML: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise WorkbenchError(f"the demo recipe {path} is incomplete or malformed: {exc}") from None


# -- SLA arithmetic, fast enough for a million tickets --------------------------------------


@dataclass(frozen=True, slots=True)
class _RememberingCalendar(BusinessCalendar):
    """The same business calendar, computing each day's working window only once and
    remembering the latest sums.

    Seeding asks for the windows of the same ~130 days for every ticket; working them out
    (time-zone conversions) is most of the cost of a due time. And each lifecycle step of a
    ticket recomputes its due times, mostly from the same start, minutes and pauses as the
    step before. Should the calendar stop using `_window`, this only gets slower, never
    different.
    """

    windows: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    sums: dict[tuple[datetime, float], datetime] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        try:
            return self.windows[day]
        except KeyError:
            window = self.windows[day] = BusinessCalendar._window(self, day)
            return window

    def add(self, start: datetime, minutes: float) -> datetime:
        key = (start, minutes)
        try:
            return self.sums[key]
        except KeyError:
            if len(self.sums) >= _REMEMBERED_SUMS:  # only the current ticket's are asked again
                self.sums.clear()
            moment = self.sums[key] = BusinessCalendar.add(self, start, minutes)
            return moment


def _zoned_targets(policy: SlaPolicy, timezone: str) -> dict[Priority, SlaTarget]:
    """The policy's targets with their business calendars in `timezone`, remembering days."""
    targets = {}
    for priority, target in policy.targets.items():
        calendar = target.calendar
        if not calendar.always:
            fields = {f.name: getattr(calendar, f.name) for f in dataclasses.fields(calendar)}
            calendar = _RememberingCalendar(**{**fields, "timezone": timezone})
        targets[priority] = dataclasses.replace(target, calendar=calendar)
    return targets


# -- small helpers -------------------------------------------------------------------------

T = TypeVar("T")
_B62 = (1 << 62) - 1


class _Random(random.Random):
    """random.Random with quicker draws: a million tickets make tens of millions of them, and
    demo data does not need choice()'s exact uniformity (its rejection sampling is slow)."""

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def below(self, start: int, stop: int) -> int:
        """An integer in [start, stop)."""
        return start + int(self.random() * (stop - start))

    def around(self, median: float, sigma: float) -> float:
        """Log-normal around `median`: mostly near it, now and then far above."""
        return median * math.exp(self.gauss(0.0, sigma))


def _uuid7(rng: _Random, seconds: float) -> str:
    """A UUIDv7 for a moment, with random bits from `rng` (deterministic, still time-ordered)."""
    bits = rng.getrandbits(84)
    ms = int(seconds) * 1000 + (bits >> 74) % 1000
    value = ms << 80 | 0x7 << 76 | (bits & 0xFFF) << 64 | 0b10 << 62 | (bits >> 12) & _B62
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _fill(pattern: str, rng: _Random, purchased: date) -> str:
    text = pattern.replace("{Y}", str(purchased.year % 10)).replace(
        "{WW}", f"{purchased.isocalendar().week:02d}"
    )
    pools = {"#": _DIGITS, "@": _LETTERS, "*": _ALNUM, "%": _HEX}
    return "".join(rng.pick(pools[ch]) if ch in pools else ch for ch in text)


class _Chooser(Generic[T]):
    """Weighted choice with the cumulative weights worked out once."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def __call__(self, rng: _Random) -> T:
        return self.items[bisect(self.cumulative, rng.random() * self.total)]


def _fill_unique(pattern: str, rng: _Random, purchased: date, taken: set[str]) -> str:
    """A filled-in pattern not taken yet (serial numbers and hostnames are unique)."""
    while True:
        value = _fill(pattern, rng, purchased)
        if value not in taken:
            taken.add(value)
            return value


# -- one ticket's story --------------------------------------------------------------------


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class _Story:
    """One ticket's life as the product records it, cut at `now`.

    Every change of the ticket is a core.lifecycle action, whose worklog events are logged as
    the service logs them; notes, calls and time come in between. Steps are taken in time
    order; once one would lie beyond `now` the story has ended and later steps do nothing.
    Its due times are in the site's zone: `lifecycle` holds the policy with zoned calendars.
    """

    __slots__ = ("ended", "last", "lifecycle", "log", "now", "t", "ticket")

    def __init__(self, lifecycle: Lifecycle, ticket: Ticket, now: int, intake: str) -> None:
        self.lifecycle = lifecycle
        self.ticket = ticket
        self.now = now
        self.t = self.last = int(ticket.created_at.timestamp())
        self.ended = False
        opened = opening_event(ticket)
        self.log = [(self.t, opened.kind, intake, opened.text, opened.minutes)]

    def reach(self, when: int) -> bool:
        """Move the clock to `when` (always forward); False, for good, once past now."""
        if self.ended:
            return False
        when = max(when, self.t + 1)
        if when > self.now:
            self.ended = True
            return False
        self.t = when
        return True

    def running(self, minutes: float) -> int:
        """The moment the ticket's SLA clock has run `minutes` since it opened (the waits so
        far not counted): where work paced by the SLA target happens."""
        ticket = self.ticket
        calendar = self.lifecycle.policy.target(ticket.priority).calendar
        return int(
            due_time(calendar, ticket.created_at, round(minutes), ticket.sla_pauses).timestamp()
        )

    def _apply(self, when: int, actor: str, action: Callable[[datetime], Change]) -> None:
        if self.reach(when):
            change = action(_at(self.t))
            self.ticket = change.ticket
            self.log.extend((self.t, e.kind, actor, e.text, e.minutes) for e in change.events)
            self.last = self.t

    def note(self, when: int, kind: WorklogKind, actor: str, text: str, minutes: int) -> None:
        """A note, call or time entry; its minutes no more than have passed since the last."""
        if self.reach(when):
            minutes = max(1, min(minutes, (self.t - self.last) // 60))
            self.log.append((self.t, kind, actor, text, minutes))
            self.last = self.t

    def assign(self, when: int, actor: str, login: str) -> None:
        self._apply(when, actor, lambda at: self.lifecycle.assign(self.ticket, login, at, None))

    def start(self, when: int, actor: str) -> None:
        self._apply(when, actor, lambda at: self.lifecycle.start(self.ticket, actor, at, None))

    def wait(self, when: int, actor: str, reason: WaitReason, note: str) -> None:
        self._apply(
            when, actor, lambda at: self.lifecycle.wait(self.ticket, reason, note, at, None)
        )

    def escalate(self, when: int, actor: str, reason: str) -> None:
        self._apply(when, actor, lambda at: self.lifecycle.escalate(self.ticket, reason, at, None))

    def resolve(self, when: int, actor: str, resolution: str) -> None:
        self._apply(
            when, actor, lambda at: self.lifecycle.resolve(self.ticket, resolution, actor, at, None)
        )

    def reopen(self, when: int, actor: str, reason: str) -> None:
        self._apply(when, actor, lambda at: self.lifecycle.reopen(self.ticket, reason, at, None))

    def close(self, when: int, actor: str) -> None:
        self._apply(when, actor, lambda at: self.lifecycle.close(self.ticket, at, None))


# -- the generator -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Person:
    requester: Requester
    site: _SiteSpec
    dept_code: str
    weight: float  # how often, relatively, this person calls the desk


@dataclass(slots=True)
class _Head:
    """What a ticket is about, decided before the tickets are numbered in creation order."""

    created: int
    category: _Category
    template: _Template
    person: _Person
    asset: Asset | None
    site: _SiteSpec
    channel: Channel
    impact: int
    urgency: int


@dataclass(slots=True)
class _Scene:
    """One ticket being told: what its steps need to know besides the story."""

    head: _Head
    zone: ZoneInfo
    intake: str  # who took the ticket in (and closes it)
    facts: dict[str, str]

    def say(self, text: str) -> str:
        return text.format_map(self.facts)


class _Generator:
    def __init__(self, recipe: DemoRecipe, policy: SlaPolicy, rng: _Random, now: datetime) -> None:
        self.recipe = recipe
        self.policy = policy
        self.rng = rng
        self.now = int(now.timestamp())
        self.today = now.astimezone(UTC).date()
        self.site_ids = {s.code: _uuid7(rng, self.now - 5 * 365 * _DAY) for s in recipe.sites}
        self.zones = {s.code: ZoneInfo(s.timezone) for s in recipe.sites}
        # One lifecycle per time zone, its policy's calendars already in that zone.
        self.lifecycles = {
            s.timezone: Lifecycle(
                dataclasses.replace(policy, targets=_zoned_targets(policy, s.timezone))
            )
            for s in recipe.sites
        }
        self.pick_site = _Chooser([(s, s.weight) for s in recipe.sites])
        self.top_tier = policy.top_tier
        self.models = {m.name: m for m in recipe.models}
        self.technicians = [
            Technician(
                t.login, t.name, t.tier, t.role, tuple(self.site_ids[code] for code in t.sites)
            )
            for t in recipe.technicians
        ]
        self.agents = [t.login for t in recipe.technicians if t.tier == 1]
        if not self.agents:
            raise BadInput("the demo recipe has no tier-1 technician to take the calls")
        self.field_by_site = {
            s.code: [t.login for t in recipe.technicians if s.code in t.sites] for s in recipe.sites
        }
        self.by_tier = {
            tier: [t.login for t in recipe.technicians if t.tier == tier]
            for tier in range(1, self.top_tier + 1)
        }
        self.pick_model = {
            k.name: _Chooser([(m, m.weight) for m in recipe.models if m.kind == k.name])
            for k in recipe.asset_types
        }
        # Shared machines by (site id, department code or None, type), as placed.
        self.shared: dict[tuple[str, str | None, str], list[Asset]] = {}

    # -- reference data ----------------------------------------------------------------------
    def people(self, count: int) -> list[_Person]:
        rng, recipe = self.rng, self.recipe
        emails: set[str] = set()
        people = []
        for _ in range(count):
            site = self.pick_site(rng)
            dept = rng.pick(site.departments)
            first, last = rng.pick(recipe.first_names), rng.pick(recipe.last_names)
            local = "".join(ch for ch in f"{first}.{last}".lower() if ch.isalnum() or ch == ".")
            email = f"{local}@{recipe.email_domain}"
            suffix = 2
            while email in emails:
                email = f"{local}{suffix}@{recipe.email_domain}"
                suffix += 1
            emails.add(email)
            line = recipe.sites.index(site)
            phone = f"({site.area_code}) 555-01{line:02d} ext. {rng.below(2000, 9999)}"
            requester = Requester(
                _uuid7(rng, self.now - rng.below(HISTORY_DAYS, 6 * 365) * _DAY),
                f"{first} {last}",
                email,
                phone,
                recipe.departments[dept],
                self.site_ids[site.code],
            )
            # A few people call often, most now and then.
            people.append(_Person(requester, site, dept, rng.around(1.0, _CALLER_SPREAD)))
        return people

    def assets(self, people: list[_Person]) -> list[Asset]:
        """Personal machines issued to people, shared ones placed by site and department."""
        placed: list[tuple[_AssetType, _SiteSpec, str, str | None]] = []
        for person in people:
            for kind in self.recipe.asset_types:
                if kind.per_person is not None and self.rng.random() < kind.per_person:
                    placed.append((kind, person.site, person.dept_code, person.requester.id))
        groups: dict[tuple[str, str | None], list[_Person]] = {}
        for kind in self.recipe.asset_types:
            if kind.people_per_asset is None:
                continue
            groups.clear()
            by_dept = "{dept}" in kind.hostname
            for person in people:
                key = (person.site.code, person.dept_code if by_dept else None)
                groups.setdefault(key, []).append(person)
            for (_code, dept), members in groups.items():
                count = max(1, math.ceil(len(members) / kind.people_per_asset))
                placed.extend((kind, members[0].site, dept or "", None) for _ in range(count))
        tags = self.rng.sample(range(1, 1_000_000), len(placed))
        serials: set[str] = set()
        hostnames: set[str] = set()
        return [
            self.asset(kind, site, dept, owner_id, tag, serials, hostnames)
            for (kind, site, dept, owner_id), tag in zip(placed, tags, strict=True)
        ]

    def asset(
        self,
        kind: _AssetType,
        site: _SiteSpec,
        dept: str,
        owner_id: str | None,
        tag: int,
        serials: set[str],
        hostnames: set[str],
    ) -> Asset:
        rng, recipe = self.rng, self.recipe
        model = self.pick_model[kind.name](rng)
        purchased = self.today - timedelta(
            days=max(30, rng.below(model.age_days[0], model.age_days[1] + 180))
        )
        warranty_end = purchased + timedelta(days=round(model.warranty_years * 365.25))
        status = AssetStatus.IN_SERVICE
        if warranty_end < self.today and rng.random() < 0.08:
            status = AssetStatus.RETIRED
        elif rng.random() < 0.015:
            status = AssetStatus.IN_REPAIR
        os = rng.pick(model.os)
        remote = next((r for r in recipe.remote if os.startswith(r.os_prefix)), None)
        pattern = kind.hostname.replace("{site}", site.code).replace("{dept}", dept)
        asset = Asset(
            id=_uuid7(rng, datetime.combine(purchased, time(12), UTC).timestamp()),
            tag=f"{recipe.tag_prefix}-{tag:06d}",
            serial=_fill_unique(model.serial, rng, purchased, serials),
            hostname=_fill_unique(pattern, rng, purchased, hostnames),
            model=model.name,
            os=os,
            site_id=self.site_ids[site.code],
            owner_id=owner_id,
            purchase_date=purchased,
            warranty_end=warranty_end,
            status=status,
            protocol=remote.protocol if remote else None,
            port=remote.port if remote else None,
            credential_profile=remote.credential_profile if remote else None,
        )
        if owner_id is None and status is not AssetStatus.RETIRED:
            key = (asset.site_id or "", dept if "{dept}" in kind.hostname else None, kind.name)
            self.shared.setdefault(key, []).append(asset)
        return asset

    # -- tickets -----------------------------------------------------------------------------
    def heads(self, count: int, people: list[_Person], assets: list[Asset]) -> list[_Head]:
        rng, recipe = self.rng, self.recipe
        person_by_id = {p.requester.id: p for p in people}
        owned: dict[tuple[str, str], list[Asset]] = {}
        owners: dict[str, list[Asset]] = {}
        for item in assets:
            if item.owner_id is not None and item.status is not AssetStatus.RETIRED:
                kind = self.models[item.model].kind
                owned.setdefault((item.owner_id, kind), []).append(item)
                owners.setdefault(kind, []).append(item)
        sites_by_id = {self.site_ids[s.code]: s for s in recipe.sites}
        categories = [c for c in recipe.categories if c.name in self.policy.categories]
        if not categories:
            raise BadInput("no category of the demo recipe is in the SLA policy's categories")
        pick_category = _Chooser([(c, c.weight) for c in categories])
        pick_person = _Chooser([(p, p.weight) for p in people])
        pick_channel = {c.name: _Chooser(c.channels) for c in categories}
        impact_weights = dict(recipe.impact)
        pick_impact: dict[tuple[int, ...], _Chooser[int]] = {}
        pick_urgency = _Chooser(recipe.urgency)
        heads = []
        for _ in range(count):
            category = pick_category(rng)
            template = rng.pick(category.templates)
            person = pick_person(rng)
            asset: Asset | None = None
            if template.assets:
                asset = self.concerned(person, template.assets, owned, owners)
                if asset.owner_id is not None:
                    person = person_by_id[asset.owner_id]
            site = sites_by_id[asset.site_id] if asset and asset.site_id else person.site
            if template.impact not in pick_impact:
                pick_impact[template.impact] = _Chooser(
                    [(level, impact_weights.get(level, 1.0)) for level in template.impact]
                )
            heads.append(
                _Head(
                    created=self.created(self.zones[site.code]),
                    category=category,
                    template=template,
                    person=person,
                    asset=asset,
                    site=site,
                    channel=pick_channel[category.name](rng),
                    impact=pick_impact[template.impact](rng),
                    urgency=pick_urgency(rng),
                )
            )
        heads.sort(key=lambda head: head.created)
        return heads

    def concerned(
        self,
        person: _Person,
        kinds: tuple[str, ...],
        owned: dict[tuple[str, str], list[Asset]],
        owners: dict[str, list[Asset]],
    ) -> Asset:
        """The machine a ticket about one of `kinds` concerns: the caller's own, else a shared
        one where the caller works, else (the ticket being someone else's) another owner's."""
        rng, pid = self.rng, person.requester.id
        own = [a for kind in kinds for a in owned.get((pid, kind), ())]
        if own:
            return rng.pick(own)
        site_id = person.requester.site_id or ""
        for kind in kinds:
            nearby = self.shared.get((site_id, person.dept_code, kind)) or self.shared.get(
                (site_id, None, kind)
            )
            if nearby:
                return rng.pick(nearby)
        kind = rng.pick(kinds)
        pool = owners.get(kind) or [a for group in self.shared.values() for a in group]
        if not pool:
            raise BadInput(f"the demo recipe makes no machine of type {kind} for its tickets")
        return rng.pick(pool)

    def created(self, zone: ZoneInfo) -> int:
        """A moment in the history, mostly in office hours (the after-hours calls are few)."""
        rng = self.rng
        while True:
            moment = self.now - rng.below(_MIN_AGE, HISTORY_DAYS * _DAY)
            local = datetime.fromtimestamp(moment, zone)
            if (local.weekday() < 5 and 7 <= local.hour < 18) or rng.random() < 0.06:
                return moment

    def office(self, moment: int, zone: ZoneInfo) -> int:
        """`moment`, or the next office morning when nobody is at work then."""
        local = datetime.fromtimestamp(moment, zone)
        weekday = local.weekday()
        if weekday < 5 and _OPENS <= local.hour < _CLOSES:
            return moment
        day = local.date()
        if local.hour >= _CLOSES:
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        opens = datetime.combine(day, time(_OPENS), zone).timestamp()
        return int(opens) + self.rng.below(0, 45 * 60)

    def ticket(self, number: int, head: _Head) -> tuple[Ticket, list[WorklogEntry]]:
        rng = self.rng
        requester, asset, template = head.person.requester, head.asset, head.template
        facts = {
            "first": requester.name.split(" ")[0],
            "name": requester.name,
            "dept": requester.department,
            "site": head.site.name,
        }
        if asset is not None:
            facts.update(
                hostname=asset.hostname,
                tag=asset.tag,
                serial=asset.serial,
                model=asset.model,
                maker=self.models[asset.model].maker,
                os=asset.os,
            )
        # A visit on site is a field technician's own ticket in its tier's queue.
        field_visit = head.channel is Channel.FIELD and self.top_tier >= 2
        nearby = (self.field_by_site[head.site.code] or self.by_tier[2]) if field_visit else []
        scene = _Scene(head, self.zones[head.site.code], rng.pick(nearby or self.agents), facts)
        lifecycle = self.lifecycles[head.site.timezone]
        ticket = lifecycle.new_ticket(
            ticket_id=_uuid7(rng, head.created),
            provisional_ref="",  # the rows come as the central numbered them (see `rows`)
            title=scene.say(template.title),
            description=scene.say(template.description),
            category=head.category.name,
            channel=head.channel.value,
            impact=head.impact,
            urgency=head.urgency,
            now=_at(head.created),
            timezone=None,
            requester_id=requester.id,
            asset_id=asset.id if asset else None,
            site_id=self.site_ids[head.site.code],
            queue=self.policy.queue_for_tier(2 if field_visit else 1),
        )
        story = _Story(lifecycle, ticket, self.now, scene.intake)
        self.work(scene, story)
        ticket = dataclasses.replace(
            story.ticket, number=format_number(number), provisional_ref=None, version=number
        )
        worklog = [
            WorklogEntry(_uuid7(rng, moment), ticket.id, kind, author, text, minutes, _at(moment))
            for moment, kind, author, text, minutes in story.log
        ]
        return ticket, worklog

    def work(self, scene: _Scene, story: _Story) -> None:
        """Pick the ticket up, work it at each tier it reaches, resolve and close it.

        The work is paced by the SLA: it takes a share of the resolve target (of running
        clock, waits not counted), so most tickets finish well within it and a few run over.
        """
        rng, head, ticket = self.rng, scene.head, story.ticket
        target = story.lifecycle.policy.target(ticket.priority)
        respond, resolve = target.response_minutes, target.resolve_minutes
        tiers = self.tiers(head.category, ticket.tier)
        hours = head.category.hours[0 if tiers == [1] else 1]
        draw = rng.random()
        if draw < _STUCK:
            share = rng.uniform(*_STUCK_SHARE)
        elif draw < _STUCK + _LATE:
            share = rng.uniform(*_LATE_SHARE)
        elif tiers == [1] and rng.random() < _QUICK:
            share = min(hours * 60 / resolve * rng.around(1.0, 0.6), _SHARE[1])
        else:
            share = rng.uniform(*_SHARE)
        walk_up = head.channel in (Channel.PHONE, Channel.WALK_IN, Channel.FIELD)
        first = rng.uniform(1, 10) if walk_up else respond * rng.around(0.2, 0.8)
        budget = max(first + 20, share * resolve)
        # Where the ticket moves up a tier, in minutes of running clock; the last: resolved.
        ends = [*sorted(rng.uniform(first + 10, budget) for _ in tiers[1:]), budget]
        begin, actor = first, scene.intake
        for index, tier in enumerate(tiers):
            end = ends[index]
            if index == 0:
                actor, begin = self.pick_up(scene, story, begin), begin + rng.uniform(2, 15)
            else:
                reasons = head.template.escalation
                why = rng.pick(reasons if tier == 2 else reasons + self.recipe.tier3_reasons)
                story.escalate(story.running(begin), actor, scene.say(why))
                begin += (end - begin) * rng.uniform(0.05, 0.3)
                actor = self.take_over(story, tier, begin, head.site.code)
            self.stretch(scene, story, actor, begin, end)
        story.resolve(story.running(budget), actor, scene.say(head.template.resolution))
        self.wrap_up(scene, story, actor, budget)

    def tiers(self, category: _Category, tier: int) -> list[int]:
        """The tiers a ticket is worked at, from the one it comes in at."""
        tiers = [tier]
        while tiers[-1] < self.top_tier:
            chance = category.escalate if tiers[-1] == 1 else category.tier3
            if self.rng.random() >= chance:
                break
            tiers.append(tiers[-1] + 1)
        return tiers

    def pick_up(self, scene: _Scene, story: _Story, offset: float) -> str:
        """A call, a walk-in or a visit is started at once by whoever takes it; mail and portal
        wait in the queue until an agent takes them. The first note comes after."""
        rng, head = self.rng, scene.head
        facts, template = scene.facts, head.template
        if head.channel in (Channel.PHONE, Channel.WALK_IN, Channel.FIELD):
            actor = scene.intake
            story.start(story.running(offset), actor)
            minutes = rng.below(3, 15)
            first_note = scene.say(template.notes[0])
            if head.channel is Channel.PHONE:
                kind, text = WorklogKind.CALL, f"Call from {facts['first']}: {first_note}"
            else:
                kind, text = WorklogKind.NOTE, first_note
            story.note(story.t + minutes * 60, kind, actor, text, minutes)
            return actor
        actor = rng.pick(self.agents)
        if rng.random() < 0.15:  # taken first, started a little later
            story.assign(story.running(offset * 0.7), actor, actor)
        story.start(story.running(offset), actor)
        if rng.random() < 0.2:
            ack = scene.say(rng.pick(self.recipe.acknowledgements))
            story.note(story.t + 120, WorklogKind.NOTE, actor, ack, 2)
        minutes = rng.below(5, 20)
        story.note(
            story.t + minutes * 60, WorklogKind.NOTE, actor, scene.say(template.notes[0]), minutes
        )
        return actor

    def take_over(self, story: _Story, tier: int, offset: float, site: str) -> str:
        """Someone of the tier the ticket was escalated to takes it."""
        rng = self.rng
        pool = (self.field_by_site[site] if tier == 2 else []) or self.by_tier[tier]
        actor = rng.pick(pool)
        when = story.running(offset)
        if rng.random() < 0.35:  # a lead hands it to them, or they take it, then start later
            story.assign(when, actor, actor)
            when = story.running(offset + rng.uniform(5, 60))
        story.start(when, actor)
        return actor

    def stretch(self, scene: _Scene, story: _Story, actor: str, begin: float, end: float) -> None:
        """One technician's work between two points of running clock: notes, a call, maybe a
        wait (the clock stops), and the time it took."""
        rng, recipe, template = self.rng, self.recipe, scene.head.template
        if end <= begin:
            return
        steps: list[tuple[float, WaitReason | WorklogKind]] = []
        if rng.random() < 0.4:
            steps.append((rng.uniform(begin, end), WorklogKind.NOTE))
        if rng.random() < 0.15:
            steps.append((rng.uniform(begin, end), WorklogKind.CALL))
        reason = next((r for r, p in template.wait if rng.random() < p), None)
        if reason is not None:
            steps.append((begin + (end - begin) * rng.uniform(0.2, 0.7), reason))
        for offset, step in sorted(steps, key=lambda item: item[0]):
            when = story.running(offset)
            if step is WorklogKind.NOTE:
                text = scene.say(rng.pick(template.notes[1:] or template.notes))
                story.note(when, step, actor, text, 5 * rng.below(1, 7))
            elif step is WorklogKind.CALL:
                story.note(when, step, actor, scene.say(rng.pick(recipe.calls)), rng.below(4, 25))
            elif isinstance(step, WaitReason):
                story.wait(when, actor, step, scene.say(rng.pick(recipe.wait_notes[step])))
                back = story.t + int(rng.around(_WAIT_HOURS[step], 0.7) * _HOUR)
                story.start(self.office(back, scene.zone), actor)
        if rng.random() < 0.25:
            hands_on = (end - begin) * rng.uniform(0.2, 0.5)
            minutes = max(5, min(240, round(hands_on / 5) * 5))
            story.note(
                story.running(end) - 60,
                WorklogKind.TIME_SPENT,
                actor,
                rng.pick(recipe.time_spent),
                minutes,
            )

    def wrap_up(self, scene: _Scene, story: _Story, actor: str, budget: float) -> None:
        """A few resolved tickets come back; the help desk closes the rest after a few days."""
        rng, ticket = self.rng, story.ticket
        if ticket.status is not Status.RESOLVED or ticket.resolved_at is None:
            return
        back = self.office(story.t + int(rng.around(20.0, 0.8) * _HOUR), scene.zone)
        resolved = int(ticket.resolved_at.timestamp())
        if rng.random() < _REOPEN and back - resolved <= self.policy.reopen_window.total_seconds():
            reason, again = rng.pick(self.recipe.reopen)
            story.reopen(back, scene.intake, scene.say(reason))
            story.start(story.running(budget + rng.uniform(10, 60)), actor)
            story.resolve(story.running(budget + rng.uniform(90, 300)), actor, scene.say(again))
        days = rng.uniform(*_CLOSE_AFTER_DAYS)
        story.close(self.office(story.t + int(days * _DAY), scene.zone), scene.intake)


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause the cyclic garbage collector: with millions of long-lived rows in memory it would
    rescan them all again and again (a third of the seeding time); none of them form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def seed_demo(
    store: Store,
    policy: SlaPolicy,
    tickets: int,
    seed: int = 1,
    now: datetime | None = None,
) -> DemoSummary:
    """Fill an empty cache with sites, technicians, requesters, assets and `tickets` tickets.

    The rows enter as if pulled from the central database (numbered, synced, no outbox). A
    cache that already holds tickets is refused and left as it was.
    """
    if not 1 <= tickets <= MAX_TICKETS:
        raise BadInput(f"the demo needs between 1 and {MAX_TICKETS:,} tickets, not {tickets:,}")
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    recipe = load_recipe()
    rng = _Random(seed)
    with store.write() as tx, _without_cycle_collector():
        existing = tx.count(TicketQuery())
        if existing:
            raise BadInput(
                f"the cache {store.path} already holds {existing:,} tickets; demo data goes only "
                "into an empty cache (use another --data-dir)"
            )
        generator = _Generator(recipe, policy, rng, now)
        people = generator.people(min(MAX_PEOPLE, max(MIN_PEOPLE, tickets // 2)))
        assets = generator.assets(people)
        heads = generator.heads(tickets, people, assets)
        reference: dict[str, Sequence[Any]] = {
            "sites": [
                Site(generator.site_ids[s.code], s.name, s.address, s.timezone)
                for s in recipe.sites
            ],
            "technicians": generator.technicians,
            "requesters": [p.requester for p in people],
            "assets": assets,
        }
        worklog_count = 0
        for start in range(0, tickets, _BATCH):
            batch_tickets: list[Ticket] = []
            batch_worklog: list[WorklogEntry] = []
            for number in range(start + 1, min(start + _BATCH, tickets) + 1):
                ticket, worklog = generator.ticket(number, heads[number - 1])
                batch_tickets.append(ticket)
                batch_worklog.extend(worklog)
            tx.load_snapshot(**reference, tickets=batch_tickets, worklog=batch_worklog)
            reference = {}
            worklog_count += len(batch_worklog)
        if tx.meta("technician") is None:
            tx.set_meta("technician", generator.agents[0])
    return DemoSummary(
        sites=len(recipe.sites),
        technicians=len(generator.technicians),
        requesters=len(people),
        assets=len(assets),
        tickets=tickets,
        worklog=worklog_count,
    )
