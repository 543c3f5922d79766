"""Sync fixtures: a central database initialised on the real PostgreSQL, laptops as caches."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import create_engine, insert, update
from sqlalchemy.pool import NullPool

from tests.support.workbench import AGENT, ASSET, FIELD, LEAD, REQUESTER, SITE, Clock
from workbench.core.policy import SlaPolicy
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store.database import DB_FILENAME
from workbench.store.sync_state import state
from workbench.sync import central
from workbench.sync.client import Synchronizer, SyncReport


class FileKeyring(KeyringBackend):
    """A plain JSON file in the test's tmp dir: the OS keyring is never touched."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self.path.write_text(json.dumps(data))


@pytest.fixture(autouse=True)
def file_keyring(tmp_path: Path) -> Iterator[FileKeyring]:
    previous = keyring.get_keyring()
    backend = FileKeyring(tmp_path / "keyring.json")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


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
        self, login: str, *, batch: int = 500, window: int = 2000, own_clock: Clock | None = None
    ) -> Laptop:
        data_dir = self.base / f"laptop-{login}-{len(self.opened)}"
        data_dir.mkdir()
        shutil.copyfile(self.template, data_dir / DB_FILENAME)
        store = Store.open(data_dir)
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
