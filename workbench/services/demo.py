"""Demo data: the help desk of a state agency with four months of history.

What exists (sites, people, hardware, ticket templates) comes from resources/demo.yaml; the SLA
policy decides priorities, queues and due times. Each ticket's story (pick-up, waits,
escalations, resolution, closing) is drawn in full and cut at `now`, so old tickets are closed
and recent ones still open, and every field agrees with the lifecycle rules. The same seed and
`now` always give the same data.
"""

from __future__ import annotations

import gc
import math
import random
import string
from bisect import bisect
from collections.abc import Iterator, Sequence
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
from workbench.core.models import (
    Asset,
    AssetStatus,
    Channel,
    Pause,
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
# Tickets per load_snapshot call. Each call rebuilds the whole search index, so batches are
# large; they only bound memory (about 2.7 GB at the peak of a 250,000-ticket batch).
_BATCH = 250_000
_MIN_AGE = 30 * 60  # the newest ticket is this old, so its first worklog lines fit before now
_OPENS, _CLOSES = 8, 17  # office hours in which people pick up, resume and finish work
_HOUR = 3600
_DAY = 86400
_MAX_WORKLOG = 6
# How much faster than usual a ticket of each priority is worked.
_PACE = {Priority.P1: 0.25, Priority.P2: 0.5, Priority.P3: 1.0, Priority.P4: 1.4}
_STUCK = 0.04  # share of tickets that stall for weeks (they fill the breaching list)
_STALL_DAYS = (5, 60)
_REOPEN = 0.03
_WAIT_HOURS = {WaitReason.CUSTOMER: 30.0, WaitReason.VENDOR: 90.0, WaitReason.PARTS: 140.0}
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
    share: float
    personal: bool
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
    kinds = {
        str(name): _AssetType(str(name), float(t["share"]), bool(t["personal"]), str(t["hostname"]))
        for name, t in data["asset_types"].items()
    }
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
    """The same business calendar, computing each day's working window only once.

    Seeding asks for the windows of the same ~130 days for every ticket; working them out
    (time-zone conversions) is most of the cost of a due time. Should the calendar stop using
    `_window`, this only gets slower, never different.
    """

    windows: dict[date, tuple[datetime, datetime] | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        try:
            return self.windows[day]
        except KeyError:
            window = self.windows[day] = BusinessCalendar._window(self, day)
            return window


def _zoned_targets(policy: SlaPolicy, timezone: str) -> dict[Priority, SlaTarget]:
    """The policy's targets with their business calendars in `timezone`, remembering days."""
    targets = {}
    for priority, target in policy.targets.items():
        calendar = target.calendar
        if not calendar.always:
            calendar = _RememberingCalendar(
                timezone, calendar.workdays, calendar.start, calendar.end, calendar.holidays
            )
        targets[priority] = SlaTarget(target.response_minutes, target.resolve_minutes, calendar)
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

# Worklog lines compete for the at most six a ticket keeps; lower ranks win.
_RANK_OPENED, _RANK_KEY, _RANK_STEP, _RANK_WORK, _RANK_CLOSE = range(5)


class _Story:
    """The lifecycle steps of one ticket applied in time order until one lies beyond `now`.

    Each step changes the fields as core.lifecycle does (pauses, responded_at, ...); once a
    step is past `now` the story has ended and later steps change nothing.
    """

    __slots__ = (
        "assignee",
        "closed_at",
        "ended",
        "log",
        "now",
        "pauses",
        "queue",
        "resolution",
        "resolved_at",
        "responded_at",
        "status",
        "t",
        "tier",
        "updated",
        "wait_reason",
    )

    def __init__(self, now: int, created: int, tier: int, queue: str) -> None:
        self.now = now
        self.t = created
        self.updated = created
        self.ended = False
        self.status = Status.NEW
        self.tier = tier
        self.queue = queue
        self.assignee: str | None = None
        self.wait_reason: WaitReason | None = None
        self.resolution: str | None = None
        self.responded_at: int | None = None
        self.resolved_at: int | None = None
        self.closed_at: int | None = None
        self.pauses: list[tuple[int, int | None]] = []
        self.log: list[tuple[int, int, WorklogKind, str, str, int]] = []

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

    def entry(
        self, when: int, rank: int, kind: WorklogKind, author: str, text: str, minutes: int = 0
    ) -> None:
        if self.reach(when):
            self.log.append((self.t, rank, kind, author, text, minutes))

    def _change(self, status: Status, author: str, rank: int | None, detail: str = "") -> None:
        """Move to `status`; log it unless it is routine (rank None: picking up, resuming)."""
        if rank is not None:
            text = f"{self.status.label} → {status.label}"
            self.log.append(
                (
                    self.t,
                    rank,
                    WorklogKind.STATUS_CHANGE,
                    author,
                    f"{text}: {detail}" if detail else text,
                    0,
                )
            )
        self.status = status
        self.updated = self.t

    def _close_pause(self) -> None:
        if self.pauses and self.pauses[-1][1] is None:
            self.pauses[-1] = (self.pauses[-1][0], self.t)

    def assign(self, when: int, login: str) -> None:
        if self.reach(when):
            self.assignee = login
            self._change(Status.ASSIGNED, login, None)

    def start(self, when: int, actor: str) -> None:
        if self.reach(when):
            self.assignee = self.assignee or actor
            self.wait_reason = None
            self.responded_at = self.responded_at or self.t
            self._close_pause()
            self._change(Status.IN_PROGRESS, actor, None)

    def wait(self, when: int, reason: WaitReason, note: str, actor: str) -> None:
        if self.reach(when):
            self.wait_reason = reason
            self.responded_at = self.responded_at or self.t
            self.pauses.append((self.t, None))
            self._change(Status.WAITING, actor, _RANK_STEP, f"for {reason.value} — {note}")

    def escalate(
        self, when: int, tier: int, queue: str, reason: str, actor: str, assignee: str | None
    ) -> None:
        if self.reach(when):
            self.tier, self.queue, self.assignee = tier, queue, assignee
            self.wait_reason = None
            self._close_pause()
            self._change(
                Status.ASSIGNED if assignee else Status.NEW,
                actor,
                _RANK_KEY,
                f"escalated to tier {tier} ({queue}): {reason}",
            )

    def resolve(self, when: int, resolution: str, actor: str) -> None:
        if self.reach(when):
            self.resolution = resolution
            self.resolved_at = self.t
            self.responded_at = self.responded_at or self.t
            self.assignee = self.assignee or actor
            self.wait_reason = None
            self._close_pause()
            self.pauses.append((self.t, None))
            self._change(Status.RESOLVED, actor, _RANK_KEY, resolution)

    def reopen(self, when: int, reason: str, actor: str) -> None:
        if self.reach(when):
            self.resolution = self.resolved_at = self.closed_at = None
            self._close_pause()
            self._change(Status.REOPENED, actor, _RANK_KEY, reason)

    def close(self, when: int, actor: str) -> None:
        if self.reach(when):
            self.closed_at = self.t
            self._change(Status.CLOSED, actor, _RANK_CLOSE)

    def worklog(self) -> list[tuple[int, int, WorklogKind, str, str, int]]:
        """The lines kept: the most telling ones, at most six, in time order."""
        if len(self.log) <= _MAX_WORKLOG:
            return self.log
        kept = sorted(self.log, key=lambda line: (line[1], line[0]))[:_MAX_WORKLOG]
        return sorted(kept)


# -- the generator -------------------------------------------------------------------------


def _dt(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class _Person:
    requester: Requester
    site: _SiteSpec
    dept_code: str


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
    """One ticket being told: its story so far and what its steps need to know."""

    head: _Head
    story: _Story
    zone: ZoneInfo
    round_the_clock: bool  # a 24x7 priority: work goes on outside office hours
    pace: float  # how much longer than usual each piece of work takes
    stall: int  # seconds the first piece of work drags on beyond that (mostly 0)
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
        self.targets = {s.timezone: _zoned_targets(policy, s.timezone) for s in recipe.sites}
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
            people.append(_Person(requester, site, dept))
        return people

    def assets(self, count: int, people: list[_Person]) -> list[Asset]:
        rng, recipe = self.rng, self.recipe
        kinds = list(recipe.asset_types)
        pick_kind = _Chooser([(k, k.share) for k in kinds])
        models = {
            k.name: _Chooser([(m, m.weight) for m in recipe.models if m.kind == k.name])
            for k in kinds
        }
        tags = rng.sample(range(1, 1_000_000), count)
        serials: set[str] = set()
        hostnames: set[str] = set()
        assets = []
        for index in range(count):
            # The first few make sure every kind exists, so every template finds a machine.
            kind = kinds[index] if index < len(kinds) else pick_kind(rng)
            model = models[kind.name](rng)
            if kind.personal:
                owner = rng.pick(people)
                site, dept, owner_id = owner.site, owner.dept_code, owner.requester.id
            else:
                site = self.pick_site(rng)
                dept, owner_id = rng.pick(site.departments), None
            purchased = self.today - timedelta(
                days=max(30, rng.below(model.age_days[0], model.age_days[1] + 180))
            )
            warranty_end = purchased + timedelta(days=round(model.warranty_years * 365.25))
            status = AssetStatus.IN_SERVICE
            # The sure machine of each kind is never retired: tickets only concern live ones.
            if index >= len(kinds) and warranty_end < self.today and rng.random() < 0.08:
                status = AssetStatus.RETIRED
            elif rng.random() < 0.015:
                status = AssetStatus.IN_REPAIR
            os = rng.pick(model.os)
            remote = next((r for r in recipe.remote if os.startswith(r.os_prefix)), None)
            pattern = kind.hostname.replace("{site}", site.code).replace("{dept}", dept)
            assets.append(
                Asset(
                    id=_uuid7(rng, datetime.combine(purchased, time(12), UTC).timestamp()),
                    tag=f"{recipe.tag_prefix}-{tags[index]:06d}",
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
            )
        return assets

    # -- tickets -----------------------------------------------------------------------------
    def heads(self, count: int, people: list[_Person], assets: list[Asset]) -> list[_Head]:
        rng, recipe = self.rng, self.recipe
        usable = [a for a in assets if a.status is not AssetStatus.RETIRED]
        by_owner: dict[tuple[str | None, str], list[Asset]] = {}
        by_site: dict[tuple[str | None, str], list[Asset]] = {}
        by_kind: dict[str, list[Asset]] = {}
        for item in usable:
            kind = self.models[item.model].kind
            by_owner.setdefault((item.owner_id, kind), []).append(item)
            by_site.setdefault((item.site_id, kind), []).append(item)
            by_kind.setdefault(kind, []).append(item)
        sites_by_id = {self.site_ids[s.code]: s for s in recipe.sites}
        categories = [c for c in recipe.categories if c.name in self.policy.categories]
        if not categories:
            raise BadInput("no category of the demo recipe is in the SLA policy's categories")
        pick_category = _Chooser([(c, c.weight) for c in categories])
        pick_channel = {c.name: _Chooser(c.channels) for c in categories}
        impact_weights = dict(recipe.impact)
        pick_impact: dict[tuple[int, ...], _Chooser[int]] = {}
        pick_urgency = _Chooser(recipe.urgency)
        heads = []
        for _ in range(count):
            category = pick_category(rng)
            template = rng.pick(category.templates)
            person = rng.pick(people)
            asset: Asset | None = None
            if template.assets:
                kind = rng.pick(template.assets)
                # The requester's own machine, else one at its site, else any in service.
                pool = (
                    by_owner.get((person.requester.id, kind))
                    or by_site.get((person.requester.site_id, kind))
                    or by_kind[kind]
                )
                asset = rng.pick(pool)
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

    def created(self, zone: ZoneInfo) -> int:
        """A moment in the history, mostly in office hours (the after-hours calls are few)."""
        rng = self.rng
        while True:
            moment = self.now - rng.below(_MIN_AGE, HISTORY_DAYS * _DAY)
            local = datetime.fromtimestamp(moment, zone)
            if (local.weekday() < 5 and 7 <= local.hour < 18) or rng.random() < 0.06:
                return moment

    def office(self, moment: int, zone: ZoneInfo, round_the_clock: bool) -> int:
        """`moment`, or the next office morning when nobody is at work then."""
        if round_the_clock:
            return moment
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

    def span(self, median_hours: float, sigma: float = 0.8) -> int:
        """A duration in seconds around a median: most work is quick, some takes long."""
        return max(60, int(self.rng.around(median_hours * _HOUR, sigma)))

    def later(self, scene: _Scene, moment: int) -> int:
        return self.office(moment, scene.zone, scene.round_the_clock)

    def ticket(self, number: int, head: _Head) -> tuple[Ticket, list[WorklogEntry]]:
        rng, policy = self.rng, self.policy
        priority = policy.priority_for(head.impact, head.urgency)
        requester, asset = head.person.requester, head.asset
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
        tier = 2 if field_visit else 1
        nearby = (self.field_by_site[head.site.code] or self.by_tier[2]) if field_visit else []
        scene = _Scene(
            head=head,
            story=_Story(self.now, head.created, tier, policy.queue_for_tier(tier)),
            zone=self.zones[head.site.code],
            round_the_clock=policy.targets[priority].calendar.always,
            pace=_PACE[priority],
            stall=rng.below(*_STALL_DAYS) * _DAY if rng.random() < _STUCK else 0,
            intake=rng.pick(nearby or self.agents),
            facts=facts,
        )
        opened = (
            f"opened via {head.channel.value}: {priority.value} "
            f"(impact {head.impact} × urgency {head.urgency})"
        )
        scene.story.log.append(
            (head.created, _RANK_OPENED, WorklogKind.STATUS_CHANGE, scene.intake, opened, 0)
        )
        self.pick_up(scene)
        self.work(scene)
        self.wrap_up(scene)
        return self.rows(number, priority, scene)

    def pick_up(self, scene: _Scene) -> None:
        """A call, a walk-in or a visit is worked at once; mail and portal wait in the queue."""
        rng, story, head, intake = self.rng, scene.story, scene.head, scene.intake
        if head.channel in (Channel.PHONE, Channel.WALK_IN, Channel.FIELD):
            story.assign(head.created + rng.below(5, 60), intake)
            story.start(story.t + rng.below(5, 60), intake)
            minutes = rng.below(3, 15)
            first_note = scene.say(head.template.notes[0])
            if head.channel is Channel.PHONE:
                story.entry(
                    story.t + minutes * 60,
                    _RANK_STEP,
                    WorklogKind.CALL,
                    intake,
                    f"Call from {scene.facts['first']}: {first_note}",
                    minutes,
                )
            else:
                story.entry(
                    story.t + minutes * 60, _RANK_STEP, WorklogKind.NOTE, intake, first_note
                )
            return
        story.entry(
            head.created + rng.below(5, 120),
            _RANK_STEP,
            WorklogKind.NOTE,
            intake,
            scene.say(rng.pick(self.recipe.acknowledgements)),
        )
        agent = rng.pick(self.agents)
        story.assign(self.later(scene, story.t + self.span(1.5 * scene.pace, 1.0)), agent)
        story.start(story.t + self.span(0.25 * scene.pace, 1.0), agent)

    def work(self, scene: _Scene) -> None:
        """Work at each tier until resolved, waiting and escalating on the way."""
        rng, story, recipe = self.rng, scene.story, self.recipe
        category, template = scene.head.category, scene.head.template
        while not story.ended:
            actor = story.assignee or scene.intake
            work = self.span(category.hours[0 if story.tier == 1 else 1] * scene.pace)
            # Hands-on time: a fraction of the elapsed time, never the stall, at most 4 hours.
            minutes = max(5, min(240, round(work / 60 * rng.uniform(0.2, 0.5) / 5) * 5))
            finish = story.t + work + scene.stall
            scene.stall = 0
            reason = next((r for r, p in template.wait if rng.random() < p * scene.pace**0.5), None)
            if reason is not None:
                paused = self.later(scene, story.t + int(work * rng.uniform(0.1, 0.5)))
                story.wait(paused, reason, scene.say(rng.pick(recipe.wait_notes[reason])), actor)
                back = self.span(_WAIT_HOURS[reason] * min(scene.pace, 4.0), 0.7)
                story.start(self.later(scene, story.t + back), actor)
                finish = story.t + max(0, finish - paused)  # the rest of the work, after it
            left = finish - story.t
            if rng.random() < 0.55:
                story.entry(
                    self.later(scene, story.t + int(left * rng.uniform(0.1, 0.4))),
                    _RANK_WORK,
                    WorklogKind.NOTE,
                    actor,
                    scene.say(rng.pick(template.notes[1:] or template.notes)),
                )
            if rng.random() < 0.2:
                story.entry(
                    self.later(scene, story.t + int(left * 0.2)),
                    _RANK_WORK,
                    WorklogKind.CALL,
                    actor,
                    scene.say(rng.pick(recipe.calls)),
                    rng.below(4, 25),
                )
            finish = self.later(scene, finish)
            if rng.random() < 0.5:
                story.entry(
                    finish - 1,
                    _RANK_WORK,
                    WorklogKind.TIME_SPENT,
                    actor,
                    rng.pick(recipe.time_spent),
                    minutes,
                )
            if not self.escalate(scene, finish, actor):
                story.resolve(finish, scene.say(template.resolution), actor)
                return

    def escalate(self, scene: _Scene, when: int, actor: str) -> bool:
        """Maybe hand the ticket to the next tier (whose technician then picks it up)."""
        rng, story, head = self.rng, scene.story, scene.head
        chance = head.category.escalate if story.tier == 1 else head.category.tier3
        if story.tier >= self.top_tier or rng.random() >= chance:
            return False
        tier = story.tier + 1
        reasons = head.template.escalation
        why = rng.pick(reasons if tier == 2 else reasons + self.recipe.tier3_reasons)
        pool = (self.field_by_site[head.site.code] if tier == 2 else []) or self.by_tier[tier]
        chosen = rng.pick(pool) if pool and rng.random() < 0.65 else None
        story.escalate(when, tier, self.policy.queue_for_tier(tier), scene.say(why), actor, chosen)
        if chosen is None and pool:
            chosen = rng.pick(pool)
            story.assign(self.later(scene, story.t + self.span(4.0 * scene.pace)), chosen)
        story.start(self.later(scene, story.t + self.span(3.0 * scene.pace)), chosen or actor)
        return True

    def wrap_up(self, scene: _Scene) -> None:
        """A few resolved tickets come back; the help desk closes the rest after a few days."""
        rng, story = self.rng, scene.story
        back = self.office(story.t + self.span(20.0), scene.zone, False)
        if (
            story.status is Status.RESOLVED
            and rng.random() < _REOPEN
            and back - story.t <= self.policy.reopen_window.total_seconds()
        ):
            reason, again = rng.pick(self.recipe.reopen)
            actor = story.assignee or scene.intake
            story.reopen(back, scene.say(reason), actor)
            story.start(self.later(scene, story.t + self.span(1.0 * scene.pace)), actor)
            story.resolve(
                self.later(scene, story.t + self.span(2.0 * scene.pace)), scene.say(again), actor
            )
        story.close(self.office(story.t + self.span(60.0, 0.35), scene.zone, False), scene.intake)

    def rows(
        self, number: int, priority: Priority, scene: _Scene
    ) -> tuple[Ticket, list[WorklogEntry]]:
        rng, story, head = self.rng, scene.story, scene.head
        template, requester, asset = head.template, head.person.requester, head.asset
        created = datetime.fromtimestamp(head.created, UTC)
        pauses = tuple(
            Pause(datetime.fromtimestamp(start, UTC), _dt(end)) for start, end in story.pauses
        )
        # What lifecycle.with_due_times computes, without building the ticket twice.
        target = self.targets[head.site.timezone][priority]
        ticket = Ticket(
            id=_uuid7(rng, head.created),
            number=format_number(number),
            provisional_ref=None,
            title=scene.say(template.title),
            description=scene.say(template.description),
            requester_id=requester.id,
            asset_id=asset.id if asset else None,
            site_id=self.site_ids[head.site.code],
            category=head.category.name,
            channel=head.channel,
            impact=head.impact,
            urgency=head.urgency,
            priority=priority,
            priority_reason=None,
            queue=story.queue,
            tier=story.tier,
            assignee=story.assignee,
            status=story.status,
            wait_reason=story.wait_reason,
            resolution=story.resolution,
            created_at=created,
            updated_at=datetime.fromtimestamp(story.updated, UTC),
            response_due=due_time(target.calendar, created, target.response_minutes, pauses),
            resolve_due=due_time(target.calendar, created, target.resolve_minutes, pauses),
            responded_at=_dt(story.responded_at),
            resolved_at=_dt(story.resolved_at),
            closed_at=_dt(story.closed_at),
            sla_pauses=pauses,
            version=number,
        )
        worklog = [
            WorklogEntry(
                _uuid7(rng, moment),
                ticket.id,
                kind,
                author,
                text,
                minutes,
                datetime.fromtimestamp(moment, UTC),
            )
            for moment, _, kind, author, text, minutes in story.worklog()
        ]
        return ticket, worklog


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
        people = generator.people(max(50, tickets // 40))
        assets = generator.assets(max(60, tickets // 30), people)
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
