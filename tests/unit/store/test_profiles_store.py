"""Credential profiles in the cache: migration 0005 both ways, round trip, local-only writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.command import downgrade
from alembic.config import Config
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from tests.support.workbench import ASSET
from workbench.remote.profiles import CredentialProfile
from workbench.store import Store, schema
from workbench.store import profiles as sql
from workbench.store.database import DB_FILENAME, migrate

MIGRATIONS = Path(schema.__file__).parent / "migrations"
FULL = CredentialProfile(
    "lab", "ssh", "tech", "key", port=2222, key_path="/k/id", jump="gw:22", has_secret=True
)
WINRM = CredentialProfile("corp", "winrm", "CORP\\tech", "basic", https=True, ca_file="/ca.pem")


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migration_0005_adds_and_removes_the_tables(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, "0004")
    assert "credential_profiles" not in _tables(path)
    migrate(engine)
    assert {"credential_profiles", "asset_profiles"} <= _tables(path)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        downgrade(config, "0004")
        connection.commit()
    assert not {"credential_profiles", "asset_profiles"} & _tables(path)
    engine.dispose()


def test_profiles_round_trip_without_outbox(store: Store) -> None:
    with store.read() as db:
        outbox_before = db.outbox_count()
    with store.write() as tx:
        sql.save_profile(tx, FULL)
        sql.save_profile(tx, WINRM)
        sql.link_asset(tx, ASSET.id, "lab")
    with store.read() as db:
        assert sql.profiles(db) == [WINRM, FULL]  # by name, case-insensitive
        assert sql.profile(db, "lab") == FULL
        assert sql.profile(db, "nope") is None
        assert sql.asset_profile(db, ASSET.id) == "lab"
        assert sql.assets_of_profile(db, "lab") == [ASSET.id]
    changed = CredentialProfile("lab", "ssh", "root", "agent")
    with store.write() as tx:
        sql.save_profile(tx, changed)  # replaces, keeps the link
        sql.link_asset(tx, ASSET.id, "corp")
    with store.read() as db:
        assert sql.profile(db, "lab") == changed
        assert sql.asset_profile(db, ASSET.id) == "corp"
    with store.write() as tx:
        assert sql.delete_profile(tx, "corp") == [ASSET.id]
    with store.read() as db:
        assert sql.asset_profile(db, ASSET.id) is None
        assert [p.name for p in sql.profiles(db)] == ["lab"]
        # This technician's credentials never travel to the central database.
        assert db.outbox_count() == outbox_before


def test_links_need_an_existing_asset_and_profile(store: Store) -> None:
    with store.write() as tx:
        sql.save_profile(tx, FULL)
    with pytest.raises(IntegrityError), store.write() as tx:
        sql.link_asset(tx, "no-such-asset", "lab")
    with pytest.raises(IntegrityError), store.write() as tx:
        sql.link_asset(tx, ASSET.id, "no-such-profile")
    with store.read() as db:
        assert sql.asset_profile(db, ASSET.id) is None
