"""Sync fixtures: a central database initialised on the real PostgreSQL, laptops as caches."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import keyring.core
import pytest
from sqlalchemy import create_engine, insert, update
from sqlalchemy.pool import NullPool

from tests.support.keyrings import JsonFileKeyring
from tests.support.workbench import AGENT, ASSET, FIELD, LEAD, REQUESTER, SITE, Clock
from workbench.core.policy import SlaPolicy
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store.database import DB_FILENAME
from workbench.store.sync_state import SCOPE, state
from workbench.sync import central
from workbench.sync.client import Synchronizer, SyncReport


@pytest.fixture(autouse=True)
def file_keyring(tmp_path: Path) -> Iterator[JsonFileKeyring]:
    backend = JsonFileKeyring(tmp_path / "keyring.json")
    # Swapped in place, not via get_keyring(): that would first probe every backend class
    # in the process, and a test backend that cannot be built without its settings breaks
    # the probe. (Not with monkeypatch: tests here undo theirs mid-test.)
    previous = keyring.core._keyring_backend
    keyring.core._keyring_backend = backend
    yield backend
    keyring.core._keyring_backend = previous


def _row(item: object, **extra: object) -> dict[str, object]:
    values = {name: getattr(item, name) for name in item.__dataclass_fields__}  # type: ignore[attr-defined]
    return {k: getattr(v, "value", v) for k, v in values.items()} | extra


@pytest.fixture
def central_url(pg_database: str) -> str:
    """A central database at the head revision holding the reference data."""
    return prepare_central(pg_database)


def prepare_central(url: str) -> str:
    central.init_central(url)
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        db.execute(insert(central.sites).values(_row(SITE, version=1)))
        for version, tech in enumerate((AGENT, FIELD, LEAD), start=2):
            db.execute(
                insert(central.technicians).values(
                    _row(tech, version=version, sites=json.dumps(list(tech.sites)))
                )
            )
        db.execute(insert(central.requesters).values(_row(REQUESTER, version=5)))
        db.execute(insert(central.assets).values(_row(ASSET, version=6)))
        db.execute(update(central.sync_clock).values(clock=6))
    engine.dispose()
    return url


@dataclass
class Laptop:
    """One technician's cache, its ticket service and its sync."""

    store: Store
    service: TicketService
    sync_with: Synchronizer
    data_dir: Path
    reports: list[SyncReport] = field(default_factory=list)

    def sync(self) -> SyncReport:
        report = self.sync_with.sync()
        self.reports.append(report)
        return report

    @property
    def pending(self) -> int:
        with self.store.read() as db:
            return state(db).pending


class Fleet:
    """Laptops made for one central database; `close()` closes their caches."""

    def __init__(self, base: Path, template: Path, url: str, policy: SlaPolicy, clock: Clock):
        self.base, self.template, self.url = base, template, url
        self.policy, self.clock = policy, clock
        self.opened: list[Store] = []

    def __call__(
        self,
        login: str,
        *,
        batch: int = 500,
        window: int = 2000,
        own_clock: Clock | None = None,
        scope: str = "all",  # the protocol tests share every ticket; scope tests say "mine"
    ) -> Laptop:
        data_dir = self.base / f"laptop-{login}-{len(self.opened)}"
        data_dir.mkdir()
        shutil.copyfile(self.template, data_dir / DB_FILENAME)
        store = Store.open(data_dir)
        with store.write() as tx:  # every Synchronizer of this cache (the window's too) uses it
            tx.set_meta(SCOPE, scope)
        self.opened.append(store)
        laptop = Laptop(
            store,
            TicketService(store, self.policy, login, own_clock or self.clock),
            Synchronizer(store, self.url, login, push_batch=batch, pull_window=window),
            data_dir,
        )
        laptop.sync()  # the first sync brings the reference data
        return laptop

    def close(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture
def laptops(
    tmp_path: Path, migrated_cache: Path, central_url: str, policy: SlaPolicy, clock: Clock
) -> Iterator[Callable[..., Laptop]]:
    fleet = Fleet(tmp_path, migrated_cache, central_url, policy, clock)
    yield fleet
    fleet.close()
