"""The demo data generator: deterministic, consistent with the domain rules, searchable."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workbench.core.errors import BadInput
from workbench.core.lifecycle import with_due_times
from workbench.core.models import (
    OPEN_STATUSES,
    Asset,
    Channel,
    Requester,
    Site,
    Status,
    Technician,
    Ticket,
    WorklogEntry,
    WorklogKind,
)
from workbench.core.policy import SlaPolicy
from workbench.core.query import TicketQuery
from workbench.resources import load_policy
from workbench.services import demo as demo_module
from workbench.services.demo import DemoSummary, load_recipe, seed_demo
from workbench.store import Store

# A Tuesday, 09:30 in Olympia.
NOW = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)
ALL = 10**6


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
    assert summary.requesters == 50  # at least 50, else tickets/40
    assert summary.assets == 66  # tickets/30, at least 60
    assert {t.tier for t in cache.technicians} == {1, 2, 3}


def test_small_seeds_still_get_the_minimum_people_and_machines(tmp_path: Path) -> None:
    _, summary = seeded(tmp_path, 1)
    assert (summary.tickets, summary.requesters, summary.assets) == (1, 50, 60)


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
    kinds = {WorklogKind.NOTE, WorklogKind.CALL, WorklogKind.STATUS_CHANGE, WorklogKind.TIME_SPENT}
    counts: Counter[int] = Counter()
    for ticket in cache.tickets:
        lines = cache.worklog[ticket.id]
        counts[len(lines)] += 1
        assert 2 <= len(lines) <= 6, ticket.number
        assert lines[0].created_at == ticket.created_at
        assert lines[0].text.startswith(f"opened via {ticket.channel.value}: {ticket.priority}")
        moments = [line.created_at for line in lines]
        assert moments == sorted(set(moments)) and moments[-1] <= NOW
        for line in lines:
            assert line.kind in kinds and line.author in logins and line.text
            assert "{" not in line.text  # every placeholder was filled in
            if line.kind is WorklogKind.TIME_SPENT:
                assert 5 <= line.minutes <= 480
        if ticket.resolution:
            assert any(ticket.resolution in line.text for line in lines)
    assert len(counts) >= 3  # short and long stories, not one fixed shape


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
