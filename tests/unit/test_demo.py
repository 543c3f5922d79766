"""The demo data generator: deterministic, consistent with the domain rules, searchable."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workbench.core.errors import BadInput
from workbench.core.lifecycle import Change, Event, Lifecycle, opening_event, with_due_times
from workbench.core.models import (
    OPEN_STATUSES,
    Asset,
    Channel,
    Requester,
    Site,
    Status,
    Technician,
    Ticket,
    WaitReason,
    WorklogEntry,
    WorklogKind,
)
from workbench.core.policy import SlaPolicy
from workbench.core.query import TicketQuery
from workbench.core.sla import remaining_fraction
from workbench.resources import load_policy
from workbench.services import demo as demo_module
from workbench.services.demo import MIN_PEOPLE, DemoSummary, load_recipe, seed_demo
from workbench.store import Store

# A Tuesday, 09:30 in Olympia.
NOW = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
ALL = 10**6
# Worklog lines of work done (they carry its minutes), and those a lifecycle change writes.
WORKED = frozenset({WorklogKind.NOTE, WorklogKind.CALL, WorklogKind.TIME_SPENT})
CHANGES = frozenset({WorklogKind.STATUS_CHANGE, WorklogKind.FIELD_CHANGE})
# Stands for the free text of a change, to find that text in a worklog line (see `_argument`).
MARK = "\x00"


@dataclass(frozen=True)
class Cache:
    sites: list[Site]
    technicians: list[Technician]
    requesters: list[Requester]
    assets: list[Asset]
    tickets: list[Ticket]
    worklog: dict[str, tuple[WorklogEntry, ...]]


def read_all(store: Store) -> Cache:
    with store.read() as db:
        tickets = [s.ticket for s in db.tickets(TicketQuery(sort="number"), 0, ALL)]
        return Cache(
            sites=db.sites(),
            technicians=db.technicians(),
            requesters=sorted(db.find_requesters("", ALL), key=lambda r: r.id),
            assets=db.find_assets("", ALL),
            tickets=tickets,
            worklog={t.id: db.worklog(t.id) for t in tickets},
        )


def seeded(path: Path, tickets: int, seed: int = 1) -> tuple[Store, DemoSummary]:
    store = Store.open(path)
    return store, seed_demo(store, load_policy(), tickets, seed=seed, now=NOW)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DemoSummary, Cache]]:
    store, summary = seeded(tmp_path_factory.mktemp("demo"), 2000)
    yield store, summary, read_all(store)
    store.close()


@pytest.fixture
def cache(demo: tuple[Store, DemoSummary, Cache]) -> Cache:
    return demo[2]


@pytest.fixture
def policy() -> SlaPolicy:
    return load_policy()


def test_same_seed_and_now_give_the_same_cache(tmp_path: Path) -> None:
    first, _ = seeded(tmp_path / "a", 300, seed=5)
    second, _ = seeded(tmp_path / "b", 300, seed=5)
    other, _ = seeded(tmp_path / "c", 300, seed=6)
    assert read_all(first) == read_all(second)
    different = read_all(other)
    assert different.tickets != read_all(first).tickets
    assert different.assets != read_all(first).assets


def test_summary_counts_what_is_in_the_cache(demo: tuple[Store, DemoSummary, Cache]) -> None:
    _, summary, cache = demo
    assert summary == DemoSummary(
        sites=len(cache.sites),
        technicians=len(cache.technicians),
        requesters=len(cache.requesters),
        assets=len(cache.assets),
        tickets=len(cache.tickets),
        worklog=sum(len(lines) for lines in cache.worklog.values()),
    )
    assert summary.tickets == 2000
    assert 6 <= summary.sites <= 8
    assert summary.requesters == 1000  # one per two tickets, at least MIN_PEOPLE
    # A computer, a phone, maybe a mobile each, and the shared printers and room systems.
    assert 1.5 * summary.requesters < summary.assets < 3 * summary.requesters
    assert {t.tier for t in cache.technicians} == {1, 2, 3}


def test_small_seeds_still_get_the_minimum_people_and_machines(tmp_path: Path) -> None:
    _, summary = seeded(tmp_path, 1)
    assert (summary.tickets, summary.requesters) == (1, MIN_PEOPLE)
    assert summary.assets > MIN_PEOPLE


def test_big_seeds_load_in_batches_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, _ = seeded(tmp_path / "whole", 120)
    monkeypatch.setattr(demo_module, "_BATCH", 50)
    batched, summary = seeded(tmp_path / "batched", 120)
    assert read_all(batched) == read_all(whole)
    assert summary.tickets == 120
    with batched.read() as db:
        for ref in ("HD-000001", "HD-000075", "HD-000120"):
            assert [hit.summary.ticket.number for hit in db.search(ref)] == [ref]


def test_technicians_have_roles_and_field_techs_cover_sites(cache: Cache) -> None:
    site_ids = {s.id for s in cache.sites}
    roles = Counter(t.role.value for t in cache.technicians)
    assert set(roles) == {"agent", "field", "lead", "admin"}
    for tech in cache.technicians:
        assert re.fullmatch(r"[a-z]+\.[a-z]+", tech.login)
        assert set(tech.sites) <= site_ids
        assert bool(tech.sites) == (tech.role.value == "field")
    covered = {site for t in cache.technicians for site in t.sites}
    assert covered == site_ids


def test_sites_have_real_time_zones(cache: Cache) -> None:
    for site in cache.sites:
        ZoneInfo(site.timezone)
        assert site.address and site.name
    assert len({s.timezone for s in cache.sites}) >= 2


def test_every_priority_follows_the_matrix(cache: Cache, policy: SlaPolicy) -> None:
    for ticket in cache.tickets:
        assert ticket.priority is policy.priority_for(ticket.impact, ticket.urgency)
        assert ticket.priority_reason is None


def test_tickets_are_numbered_and_synced(cache: Cache) -> None:
    numbers = [t.number for t in cache.tickets]
    assert numbers == [f"HD-{i:06d}" for i in range(1, len(cache.tickets) + 1)]
    assert all(t.provisional_ref is None and t.version >= 1 for t in cache.tickets)
    assert len({t.id for t in cache.tickets}) == len(cache.tickets)
    created = [t.created_at for t in cache.tickets]
    assert created == sorted(created)  # numbered in the order they reached the desk


def test_tickets_spread_over_categories_channels_and_four_months(
    cache: Cache, policy: SlaPolicy
) -> None:
    assert {t.category for t in cache.tickets} == set(policy.categories)
    assert {t.channel for t in cache.tickets} == set(Channel)
    assert {(t.impact, t.urgency) for t in cache.tickets} == {
        (i, u) for i in (1, 2, 3) for u in (1, 2, 3)
    }
    oldest = min(t.created_at for t in cache.tickets)
    assert NOW - timedelta(days=121) < oldest < NOW - timedelta(days=110)
    assert all(t.created_at < NOW for t in cache.tickets)


def test_statuses_in_realistic_proportions(cache: Cache) -> None:
    statuses = Counter(t.status for t in cache.tickets)
    assert statuses[Status.CLOSED] > 0.8 * len(cache.tickets)
    for status in (Status.RESOLVED, Status.IN_PROGRESS, Status.WAITING):
        assert statuses[status] > 0, status
    old = [t for t in cache.tickets if t.created_at < NOW - timedelta(days=30)]
    assert sum(t.status is Status.CLOSED for t in old) > 0.95 * len(old)
    recent = [t for t in cache.tickets if t.created_at > NOW - timedelta(days=2)]
    assert sum(t.status is not Status.CLOSED for t in recent) > 0.5 * len(recent)
    assert any(t.is_breaching(NOW) for t in cache.tickets)
    assert {t.tier for t in cache.tickets if t.status in OPEN_STATUSES} >= {1, 2}
    assert any(t.tier == 3 for t in cache.tickets)


def test_fields_agree_with_the_status(cache: Cache) -> None:
    for t in cache.tickets:
        done = t.status in (Status.RESOLVED, Status.CLOSED)
        assert bool(t.resolution) == done, t.number
        assert (t.resolved_at is not None) == done, t.number
        assert (t.closed_at is not None) == (t.status is Status.CLOSED), t.number
        assert (t.wait_reason is not None) == (t.status is Status.WAITING), t.number
        # The clock stands still while waiting and once resolved; otherwise it runs.
        assert t.sla_paused == (t.status in (Status.WAITING, Status.RESOLVED, Status.CLOSED))
        assert all(p.end is not None for p in t.sla_pauses[:-1])
        if done:
            assert t.sla_pauses[-1].start == t.resolved_at
        if t.status is Status.CLOSED:
            assert t.resolved_at is not None and t.closed_at is not None
            assert t.resolved_at < t.closed_at
        assert (t.assignee is None) == (t.status is Status.NEW), t.number
        if t.status not in (Status.NEW, Status.ASSIGNED):
            assert t.responded_at is not None, t.number
        moments = [t.created_at, t.responded_at, t.resolved_at, t.closed_at, t.updated_at]
        assert all(t.created_at <= m <= NOW for m in moments if m is not None)


def test_queues_tiers_and_assignees_match(cache: Cache, policy: SlaPolicy) -> None:
    techs = {t.login: t for t in cache.technicians}
    for ticket in cache.tickets:
        assert ticket.queue == policy.queue_for_tier(ticket.tier)
        if ticket.assignee is not None:
            assert techs[ticket.assignee].tier == ticket.tier, ticket.number
            if ticket.tier == 2:
                assert ticket.site_id in techs[ticket.assignee].sites
    escalated = [t for t in cache.tickets if t.tier > 1]
    assert 0.1 * len(cache.tickets) < len(escalated) < 0.5 * len(cache.tickets)


def test_due_times_are_those_of_the_lifecycle(cache: Cache, policy: SlaPolicy) -> None:
    zones = {s.id: s.timezone for s in cache.sites}
    for ticket in cache.tickets:
        expected = with_due_times(ticket, policy, zones[ticket.site_id or ""])
        assert (ticket.response_due, ticket.resolve_due) == (
            expected.response_due,
            expected.resolve_due,
        ), ticket.number


def test_worklog_tells_each_story_in_order(cache: Cache) -> None:
    logins = {t.login for t in cache.technicians}
    counts: Counter[int] = Counter()
    for ticket in cache.tickets:
        lines = cache.worklog[ticket.id]
        counts[len(lines)] += 1
        assert len(lines) >= 2 or ticket.status is Status.NEW, ticket.number
        assert lines[0].created_at == ticket.created_at
        assert lines[0].text.startswith("opened via ")
        moments = [line.created_at for line in lines]
        assert moments == sorted(moments) and moments[-1] <= NOW
        for line in lines:
            assert line.kind in WORKED | CHANGES and line.author in logins and line.text
            assert "{" not in line.text  # every placeholder was filled in
        if ticket.resolution:
            assert any(ticket.resolution in line.text for line in lines)
    assert len(counts) >= 5  # short and long stories, not one fixed shape
    assert sum(n * count for n, count in counts.items()) < 12 * len(cache.tickets)


def test_assets_look_like_a_real_fleet(cache: Cache) -> None:
    requester_ids = {r.id for r in cache.requesters}
    today = NOW.date()
    for asset in cache.assets:
        assert re.fullmatch(r"WA-\d{6}", asset.tag)
        assert re.fullmatch(r"[A-Z0-9]{7,15}", asset.serial), asset.serial
        assert asset.owner_id is None or asset.owner_id in requester_ids
        assert asset.purchase_date and asset.warranty_end
        assert asset.purchase_date < asset.warranty_end
        if asset.os.startswith("Windows"):
            assert (asset.protocol, asset.port) == ("winrm", 5986)
        elif asset.os.startswith(("macOS", "Ubuntu")):
            assert (asset.protocol, asset.port) == ("ssh", 22)
        else:
            assert asset.protocol is None and asset.port is None
    assert len({a.tag for a in cache.assets}) == len(cache.assets)
    assert len({a.serial for a in cache.assets}) == len(cache.assets)
    assert len({a.hostname for a in cache.assets}) == len(cache.assets)
    assert any(re.fullmatch(r"[A-Z]{3}-[A-Z]{2,4}-LT\d{4}", a.hostname) for a in cache.assets)
    assert any(a.warranty_expired(today) for a in cache.assets)
    assert any(not a.warranty_expired(today) for a in cache.assets)


def test_requesters_have_contact_details(cache: Cache) -> None:
    emails = [r.email for r in cache.requesters]
    assert len(set(emails)) == len(emails)
    for requester in cache.requesters:
        assert re.fullmatch(r"[a-z.]+\d*@[a-z.-]+", requester.email)
        assert requester.phone and requester.department and requester.site_id


def test_search_finds_a_serial_number_and_a_hostname(
    demo: tuple[Store, DemoSummary, Cache],
) -> None:
    store, _, cache = demo
    asset_ids = {t.asset_id for t in cache.tickets}
    asset = next(a for a in cache.assets if a.id in asset_ids)
    with store.read() as db:
        for text in (asset.serial, asset.hostname, asset.hostname.lower()):
            hits = db.search(text)
            assert hits, text
            assert any(hit.summary.ticket.asset_id == asset.id for hit in hits)


def test_the_cache_works_as_a_tier_1_agent(demo: tuple[Store, DemoSummary, Cache]) -> None:
    store, _, cache = demo
    with store.read() as db:
        login = db.meta("technician")
        assert login is not None
        technician = db.technician(login)
        assert technician is not None and technician.tier == 1
        assert db.outbox_count() == 0  # rows "came from the central database"


def test_an_existing_technician_is_kept(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.write() as tx:
        tx.set_meta("technician", "somebody.else")
    seed_demo(store, load_policy(), 10, now=NOW)
    with store.read() as db:
        assert db.meta("technician") == "somebody.else"


def test_a_cache_with_tickets_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    store, _ = seeded(tmp_path, 50)
    before = read_all(store)
    with pytest.raises(BadInput, match="already holds 50 tickets"):
        seed_demo(store, load_policy(), 50, seed=2, now=NOW)
    assert read_all(store) == before


@pytest.mark.parametrize("count", [0, -5, 1_000_001])
def test_impossible_ticket_counts_are_refused(tmp_path: Path, count: int) -> None:
    store = Store.open(tmp_path)
    with pytest.raises(BadInput, match="between 1 and 1,000,000 tickets"):
        seed_demo(store, load_policy(), count, now=NOW)
    empty: dict[str, Any] = {"tickets": [], "requesters": [], "assets": [], "sites": []}
    cache = read_all(store)
    assert {name: getattr(cache, name) for name in empty} == empty


def test_the_recipe_has_enough_templates_for_every_category(policy: SlaPolicy) -> None:
    recipe = load_recipe()
    templates = {c.name: c.templates for c in recipe.categories}
    for category in policy.categories:
        assert len(templates.get(category, ())) >= 4, category
    assert 6 <= len(recipe.sites) <= 8


# -- every history is one the product could have written ------------------------------------


def _argument(line: WorklogEntry, change: Callable[[str], Change]) -> str | None:
    """The free text (reason, note, resolution) `change` would have been given to write
    `line`, or None when the line is not of its making."""
    written = change(MARK).events[-1].text
    head, _, tail = written.partition(MARK)
    text = line.text
    if not (text.startswith(head) and text.endswith(tail)) or len(text) < len(head + tail):
        return None
    return text[len(head) : len(text) - len(tail)]


def _with_argument(line: WorklogEntry, written_by: Callable[[str], Change]) -> Callable[[], Change]:
    text = _argument(line, written_by)
    assert text is not None, f"{line.text!r} is not written by this change"
    return lambda: written_by(text)


def _action(
    lifecycle: Lifecycle, ticket: Ticket, line: WorklogEntry, timezone: str | None
) -> Callable[[], Change] | None:
    """The lifecycle call that wrote `line` (and the lines after it of the same change), or
    None when `line` is no change (a note, a call, time spent)."""
    at, actor = line.created_at, line.author
    if line.kind is WorklogKind.FIELD_CHANGE and line.text.startswith("assignee: "):
        login = line.text.rsplit("→ ", 1)[1]
        return lambda: lifecycle.assign(ticket, login, at, timezone)
    if line.kind is not WorklogKind.STATUS_CHANGE:
        assert line.kind in WORKED, (ticket.id, line)
        return None
    labels = line.text.split(": ", 1)[0].split(" → ")
    assert labels[0] == ticket.status.label, (ticket.id, line.text)  # from where it was
    target = {s.label: s for s in Status}[labels[-1]]
    written_by: Callable[[str], Change]
    if "escalated to" in line.text:
        written_by = lambda text: lifecycle.escalate(ticket, text, at, timezone)  # noqa: E731
    elif target is Status.IN_PROGRESS:
        return lambda: lifecycle.start(ticket, actor, at, timezone)
    elif target is Status.CLOSED:
        return lambda: lifecycle.close(ticket, at, timezone)
    elif target is Status.RESOLVED:
        written_by = lambda text: lifecycle.resolve(ticket, text, actor, at, timezone)  # noqa: E731
    elif target is Status.REOPENED:
        written_by = lambda text: lifecycle.reopen(ticket, text, at, timezone)  # noqa: E731
    else:
        assert target is Status.WAITING, line.text
        for why in WaitReason:

            def waited(text: str, why: WaitReason = why) -> Change:
                return lifecycle.wait(ticket, why, text, at, timezone)

            if _argument(line, waited) is not None:
                return _with_argument(line, waited)
        raise AssertionError(f"no waiting reason writes {line.text!r}")
    return _with_argument(line, written_by)


def _replay(
    ticket: Ticket, lines: tuple[WorklogEntry, ...], policy: SlaPolicy, zone: str
) -> Ticket:
    """The ticket its worklog makes: from "new", each change applied by core.lifecycle as the
    line says, checked to write exactly the lines the demo wrote."""
    lifecycle = Lifecycle(policy)
    escalations = sum("escalated to" in line.text for line in lines)
    replayed = lifecycle.new_ticket(
        ticket_id=ticket.id,
        provisional_ref="",
        title=ticket.title,
        description=ticket.description,
        category=ticket.category,
        channel=ticket.channel.value,
        impact=ticket.impact,
        urgency=ticket.urgency,
        now=lines[0].created_at,
        timezone=zone,
        requester_id=ticket.requester_id,
        asset_id=ticket.asset_id,
        site_id=ticket.site_id,
        queue=policy.queue_for_tier(ticket.tier - escalations),
    )
    assert replayed.status is Status.NEW
    assert (lines[0].kind, lines[0].text, lines[0].minutes) == (
        dataclasses.astuple(opening_event(replayed))
    )
    index = 1
    while index < len(lines):
        line = lines[index]
        action = _action(lifecycle, replayed, line, zone)
        if action is None:
            index += 1
            continue
        change = action()  # raises TransitionRefused for a step the product would refuse
        written = [
            Event(w.kind, w.text, w.minutes) for w in lines[index : index + len(change.events)]
        ]
        assert written == list(change.events), (ticket.number, line.text)
        same_step = lines[index : index + len(change.events)]
        assert {(w.author, w.created_at) for w in same_step} == {(line.author, line.created_at)}
        replayed = change.ticket
        index += len(change.events)
    return replayed


def test_every_history_replays_through_the_lifecycle(cache: Cache, policy: SlaPolicy) -> None:
    zones = {s.id: s.timezone for s in cache.sites}
    shapes: Counter[tuple[Status, ...]] = Counter()
    for ticket in cache.tickets:
        lines = cache.worklog[ticket.id]
        replayed = _replay(ticket, lines, policy, zones[ticket.site_id or ""])
        # The stored ticket is exactly the one its history makes: status, assignee, tier,
        # queue, pauses, due and done times, resolution.
        assert (
            dataclasses.replace(
                replayed, number=ticket.number, provisional_ref=None, version=ticket.version
            )
            == ticket
        ), ticket.number
        statuses = [
            line.text.split(": ", 1)[0].split(" → ")[-1]
            for line in lines[1:]
            if line.kind is WorklogKind.STATUS_CHANGE
        ]
        shapes[tuple({s.label: s for s in Status}[label] for label in statuses)] += 1
        if ticket.status in (Status.RESOLVED, Status.CLOSED):
            assert statuses.count(Status.RESOLVED.label) >= 1, ticket.number
        if ticket.status is Status.CLOSED:
            assert statuses[-1] == Status.CLOSED.label, ticket.number
    # Waits, escalations and reopenings are all there, not one straight road.
    seen = {status for shape in shapes for status in shape}
    assert seen >= {Status.IN_PROGRESS, Status.WAITING, Status.NEW, Status.ASSIGNED}
    assert seen >= {Status.RESOLVED, Status.CLOSED, Status.REOPENED}
    assert len(shapes) >= 20


def test_time_spent_is_the_minutes_logged(demo: tuple[Store, DemoSummary, Cache]) -> None:
    store, _, cache = demo
    with store.read() as db:
        for ticket in cache.tickets[::7]:
            lines = cache.worklog[ticket.id]
            detail = db.detail(ticket.id)
            assert detail.minutes_spent == sum(line.minutes for line in lines)
            worked = [line for line in lines if line.kind in WORKED]
            # Work has its minutes, and no more of them than the ticket has been open.
            assert all(1 <= line.minutes <= 240 for line in worked), ticket.number
            assert all(line.minutes == 0 for line in lines if line.kind in CHANGES)
            assert (
                detail.minutes_spent
                <= (lines[-1].created_at - ticket.created_at).total_seconds() / 60
            )
            if ticket.status is not Status.NEW or worked:
                assert detail.minutes_spent > 0, ticket.number


def _running_open(cache: Cache) -> list[Ticket]:
    """Open tickets whose SLA clock runs at NOW (not waiting)."""
    return [t for t in cache.tickets if t.status in OPEN_STATUSES and t.sla_due is not None]


def test_most_open_tickets_are_within_their_sla(cache: Cache, policy: SlaPolicy) -> None:
    running = _running_open(cache)
    assert len(running) >= 20
    breaching = [t for t in running if t.is_breaching(NOW)]
    amber = [
        t
        for t in running
        if t.sla_due is not None
        and not t.is_breaching(NOW)
        and remaining_fraction(t.created_at, t.sla_due, NOW) < policy.warn_fraction
    ]
    assert 1 <= len(breaching) <= 0.2 * len(running), [t.number for t in breaching]
    assert amber, "a few tickets near their due time"
    # The agent the demo cache works as: mostly within SLA too.
    with_agent = [t for t in running if t.assignee == "ana.lopez"]
    assert with_agent
    assert sum(t.is_breaching(NOW) for t in with_agent) <= len(with_agent) / 3
    # And the tickets resolved so far mostly made it.
    done = [(t.resolved_at, t.resolve_due) for t in cache.tickets if t.resolved_at]
    assert sum(due is not None and at > due for at, due in done) < 0.1 * len(done)


def test_tickets_spread_over_machines_and_people_as_at_a_real_desk(cache: Cache) -> None:
    per_asset = Counter(t.asset_id for t in cache.tickets if t.asset_id)
    assets = {a.id: a for a in cache.assets}
    # Most machines have had no ticket or a few; none has a ticket every week.
    assert sum(n <= 3 for n in per_asset.values()) >= 0.9 * len(per_asset)
    assert len(per_asset) < len(cache.assets)
    assert max(per_asset.values()) <= 12
    # A personal machine's tickets are its owner's.
    personal = [t for t in cache.tickets if t.asset_id and assets[t.asset_id].owner_id]
    assert personal
    assert all(t.requester_id == assets[t.asset_id or ""].owner_id for t in personal)
    # People call now and then, a few of them often.
    per_person = Counter(t.requester_id for t in cache.tickets)
    assert sum(n <= 5 for n in per_person.values()) >= 0.8 * len(per_person)
    assert max(per_person.values()) >= 6
