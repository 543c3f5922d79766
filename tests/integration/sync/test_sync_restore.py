"""A cache restored from a backup or copied, and what the central holds twice: never a wedged
pull, never a reference handed out twice (review findings 1 and 7)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, insert, select, update
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.workbench import ASSET, Clock
from workbench.core.errors import BadInput
from workbench.core.models import Ticket
from workbench.core.policy import SlaPolicy
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store.database import DB_FILENAME
from workbench.sync import central
from workbench.sync.client import Synchronizer

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def _create(laptop: Laptop, title: str) -> Ticket:
    return laptop.service.create(title=title, category="hardware", impact=3, urgency=3).ticket


def _backup(laptop: Laptop) -> Path:
    backup = laptop.data_dir.parent / f"backup-{laptop.data_dir.name}.sqlite3"
    live, copy = sqlite3.connect(laptop.store.path), sqlite3.connect(backup)
    live.backup(copy)
    live.close()
    copy.close()
    return backup


def _restore(laptop: Laptop, backup: Path) -> None:
    laptop.store.close()
    for leftover in ("-wal", "-shm"):
        laptop.data_dir.joinpath(DB_FILENAME + leftover).unlink(missing_ok=True)
    shutil.copyfile(backup, laptop.data_dir / DB_FILENAME)
    laptop.store.engine = Store.open(laptop.data_dir).engine  # the service and sync keep it


def _restored_after_a_second_ticket(laptops: Laptops) -> tuple[Laptop, Ticket, str]:
    """Ana's cache back as it was before her second ticket (created and synced since)."""
    ana = laptops("ana.lopez")
    _create(ana, "Dock")
    ana.sync()
    backup = _backup(ana)
    lost = _create(ana, "Badge reader")
    old_client = ana.sync().client_id
    _restore(ana, backup)
    return ana, lost, old_client


def _central_refs(url: str) -> list[str | None]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        refs = db.scalars(select(central.tickets.c.provisional_ref)).all()
    engine.dispose()
    return list(refs)


def test_a_restored_cache_that_syncs_first_takes_a_new_client_id_at_once(
    laptops: Laptops, central_url: str
) -> None:
    ana, lost, old_client = _restored_after_a_second_ticket(laptops)

    report = ana.sync()  # nothing pending: only the server's mutation log tells
    assert report.renumbered and report.client_id != old_client
    new = _create(ana, "Projector")  # used to fail: the lost ticket's ref again
    assert new.provisional_ref != lost.provisional_ref
    ana.sync()

    assert ana.pending == 0
    assert ana.service.detail(new.id).ticket.number is not None
    assert ana.service.detail(lost.id).ticket.title == "Badge reader"
    refs = _central_refs(central_url)
    assert len(refs) == len(set(refs)) == 3


def test_a_restored_cache_that_works_before_it_syncs_keeps_pulling(
    laptops: Laptops, central_url: str
) -> None:
    ana, lost, old_client = _restored_after_a_second_ticket(laptops)

    new = _create(ana, "Projector")  # same counter as the lost ticket's
    assert new.provisional_ref != lost.provisional_ref
    first = ana.sync()  # used to fail on every pull from here: two tickets, one ref
    second = ana.sync()

    assert first.renumbered and first.client_id != old_client
    assert not second.renumbered and second.client_id == first.client_id
    assert ana.pending == 0
    titles = {t.id: ana.service.detail(t.id).ticket.title for t in (lost, new)}
    assert titles == {lost.id: "Badge reader", new.id: "Projector"}
    refs = _central_refs(central_url)
    assert len(refs) == len(set(refs)) == 3


def test_two_copies_of_one_data_dir_both_sync_everything(
    laptops: Laptops, central_url: str, policy: SlaPolicy, clock: Clock
) -> None:
    ana = laptops("ana.lopez")
    _create(ana, "Dock")
    ana.sync()
    # The laptop is imaged: a second one starts with the same file, client id and counters.
    twin_dir = ana.data_dir.with_name(ana.data_dir.name + "-twin")
    twin_dir.mkdir()
    _backup(ana).replace(twin_dir / DB_FILENAME)
    store = Store.open(twin_dir)
    twin = Laptop(
        store,
        TicketService(store, policy, "ana.lopez", clock),
        Synchronizer(store, central_url, "ana.lopez"),
        twin_dir,
    )
    try:
        mine, theirs = _create(ana, "Monitor"), _create(twin, "Keyboard")
        assert mine.provisional_ref != theirs.provisional_ref
        ana.sync()
        assert twin.sync().renumbered
        ana.sync()
        for laptop in (ana, twin):
            assert laptop.pending == 0
            for ticket in (mine, theirs):
                assert laptop.service.detail(ticket.id).ticket.number is not None
    finally:
        store.close()
    refs = _central_refs(central_url)
    assert len(refs) == len(set(refs)) == 3


def test_tickets_sharing_a_provisional_ref_centrally_are_pulled_and_named_by_number(
    laptops: Laptops, central_url: str
) -> None:
    # Two tickets made by a restored cache before refs came from ticket ids: the central
    # database holds both under one provisional ref.
    ana = laptops("ana.lopez")
    first = _create(ana, "Dock")
    ana.sync()
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.begin() as db:
        row = dict(
            db.execute(select(central.tickets).where(central.tickets.c.id == first.id))
            .mappings()
            .one()
        )
        clock = db.scalar(select(central.sync_clock.c.clock).with_for_update())
        row.update(id="ticket-twin", number="HD-099999", title="Badge reader", version=clock + 1)
        db.execute(insert(central.tickets).values(**row))
        db.execute(update(central.sync_clock).values(clock=clock + 1))
    engine.dispose()

    report = ana.sync()
    assert report.pulled >= 1 and not report.mismatched
    assert ana.service.detail("HD-099999").ticket.title == "Badge reader"
    assert ana.service.detail(first.id).ticket.title == "Dock"
    assert first.provisional_ref is not None
    with pytest.raises(BadInput, match=r"names 2 tickets .*HD-099999"):
        ana.service.detail(first.provisional_ref)


def _tick(db: Connection) -> int:
    """The next version under the central sync clock, taken as a push takes it."""
    clock = int(db.scalar(select(central.sync_clock.c.clock).with_for_update()) or 0)
    db.execute(update(central.sync_clock).values(clock=clock + 1))
    return clock + 1


def _relabel(url: str, *tags: tuple[str, str]) -> None:
    """Central edits of asset tags (asset id, new tag), one version each, in one transaction."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        for asset_id, tag in tags:
            db.execute(
                update(central.assets)
                .where(central.assets.c.id == asset_id)
                .values(tag=tag, version=_tick(db))
            )
    engine.dispose()


@pytest.fixture
def two_assets(central_url: str) -> str:
    """A second asset at ASSET's site, tagged WA-009999."""
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.begin() as db:
        row = dict(db.execute(select(central.assets)).mappings().one())
        row.update(id="asset-2", tag="WA-009999", serial="5CD2143XZZ", hostname="OLY-ACC-LT0422")
        db.execute(insert(central.assets).values({**row, "version": _tick(db)}))
    engine.dispose()
    return central_url


def test_two_assets_swapping_tags_centrally_do_not_wedge_the_pull(
    laptops: Laptops, two_assets: str
) -> None:
    ana = laptops("ana.lopez")
    # An administrator swaps the labels: through a temporary tag, as the central allows.
    _relabel(two_assets, ("asset-1", "TMP"), ("asset-2", ASSET.tag), ("asset-1", "WA-009999"))

    for _ in range(2):  # used to fail on every pull: UNIQUE constraint failed: assets.tag
        report = ana.sync()
        assert not report.mismatched
    with ana.store.read() as db:
        assert db.asset_by_key(ASSET.tag).id == "asset-2"
        assert db.asset_by_key("wa-009999").id == "asset-1"


def test_an_asset_tag_held_twice_centrally_names_one_asset_always(
    laptops: Laptops, two_assets: str
) -> None:
    ana = laptops("ana.lopez")
    _relabel(two_assets, ("asset-2", ASSET.tag))  # a relabel half done
    ana.sync()

    with ana.store.read() as db:
        assert db.asset_by_key(ASSET.tag).id == "asset-1"  # the first id of those tagged so
    # A tag wins over a hostname that reads the same.
    _relabel(two_assets, ("asset-1", "OLY-ACC-LT0422"))  # asset-2's hostname
    ana.sync()
    with ana.store.read() as db:
        assert db.asset_by_key("oly-acc-lt0422").id == "asset-1"
        assert db.asset_by_key(ASSET.tag).id == "asset-2"
