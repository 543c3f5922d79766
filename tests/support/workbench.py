"""Fixtures for a real cache in a temp dir, a settable clock and a small cast of people."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from workbench.core.models import (
    Asset,
    AssetStatus,
    Requester,
    Role,
    Site,
    Technician,
    TicketDetail,
)
from workbench.core.policy import SlaPolicy
from workbench.resources import load_policy
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store.database import DB_FILENAME

# Monday 2026-11-16 16:00 UTC = 08:00 in Los Angeles, the opening of a business day there.
MONDAY_OPENING = datetime(2026, 11, 16, 16, 0, tzinfo=UTC)

SITE = Site("site-oly", "Olympia HQ", "1500 Jefferson St SE, Olympia, WA", "America/Los_Angeles")
AGENT = Technician("ana.lopez", "Ana Lopez", 1, Role.AGENT)
FIELD = Technician("ben.okafor", "Ben Okafor", 2, Role.FIELD, ("site-oly",))
LEAD = Technician("cara.nguyen", "Cara Nguyen", 3, Role.LEAD)
REQUESTER = Requester(
    "req-1",
    "Dana Whitfield",
    "dana.whitfield@agency.example",
    "360-555-0142",
    "Accounting",
    "site-oly",
)
ASSET = Asset(
    id="asset-1",
    tag="WA-004217",
    serial="5CD2143XKQ",
    hostname="OLY-ACC-LT0421",
    model="HP EliteBook 840 G8",
    os="Windows 11 Pro",
    site_id="site-oly",
    owner_id="req-1",
    purchase_date=date(2022, 3, 1),
    warranty_end=date(2025, 3, 1),
    status=AssetStatus.IN_SERVICE,
)


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = MONDAY_OPENING

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def policy() -> SlaPolicy:
    return load_policy()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(scope="session")
def migrated_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty cache at the head revision, migrated once and copied for each test."""
    template_dir = tmp_path_factory.mktemp("template")
    Store.open(template_dir).close()
    path = template_dir / DB_FILENAME
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM meta WHERE key = 'client_id'")  # each copy gets its own
    return path


@pytest.fixture
def store(data_dir: Path, migrated_cache: Path) -> Iterator[Store]:
    data_dir.mkdir(parents=True)
    shutil.copyfile(migrated_cache, data_dir / DB_FILENAME)
    opened = Store.open(data_dir)
    with opened.write() as tx:
        tx.load_snapshot(
            sites=[SITE], technicians=[AGENT, FIELD, LEAD], requesters=[REQUESTER], assets=[ASSET]
        )
    yield opened
    opened.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(store: Store, policy: SlaPolicy, clock: Clock) -> TicketService:
    return TicketService(store, policy, AGENT.login, clock)


def ticket_on_asset(
    service: TicketService, title: str, category: str, impact: int = 3, urgency: int = 2
) -> TicketDetail:
    """A ticket of REQUESTER about ASSET: what tree and remote tests work on."""
    return service.create(title=title, category=category, impact=impact, urgency=urgency,
                          requester=REQUESTER.email, asset=ASSET.tag)  # fmt: skip
