"""Opening a cache: empty file, older revision (copied first), foreign and newer files refused."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from workbench.core.errors import BadInput, StoreError
from workbench.core.query import TicketQuery
from workbench.store import Store, schema
from workbench.store import recipes as recipe_store
from workbench.store import trees as tree_store
from workbench.store.database import DB_FILENAME, HEAD, REVISIONS, migrate, open_engine

MIGRATIONS = Path(schema.__file__).parent / "migrations"


def test_known_revisions_match_alembic() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_current_head() == HEAD
    assert [r.revision for r in reversed(list(script.walk_revisions()))] == list(REVISIONS)


def test_empty_file_becomes_head_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert version == HEAD
        # The models and the migrations describe the same schema.
        context = MigrationContext.configure(
            connection, opts={"include_name": schema.include_in_autogenerate}
        )
        diff = compare_metadata(context, schema.metadata)
        assert diff == []
    store.close()
    assert not list(tmp_path.glob("*.bak"))  # nothing to back up on a new file


def test_older_revision_is_copied_then_upgraded_and_indexed(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, "0001")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO tickets (id, number, title, description, category, channel, impact, "
            "urgency, priority, queue, tier, status, created_at, updated_at, sla_pauses, version)"
            " VALUES ('t1', 'HD-000042', 'Scanner offline in records room', '', 'hardware',"
            " 'phone', 3, 3, 'P4', 'service-desk', 1, 'new', '2026-11-02 10:00:00.000000',"
            " '2026-11-02 10:00:00.000000', '[]', 3)"
        )
    engine.dispose()
    store = Store.open(tmp_path)
    with store.read() as db:
        ticket = db.ticket("42")
        assert (ticket.title, ticket.version) == ("Scanner offline in records room", 3)
        assert [h.summary.ticket.id for h in db.search("scanner")] == ["t1"]
        assert db.count(TicketQuery()) == 1
    store.close()
    (backup,) = tmp_path.glob(f"{DB_FILENAME}.rev0001-*.bak")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
        assert copy.execute("SELECT count(*) FROM tickets").fetchone() == (1,)


def _unchanged_after_refusal(path: Path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(StoreError, match=match):
        Store.open(path.parent)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_newer_revision_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        db.execute("INSERT INTO alembic_version VALUES ('9999')")
    _unchanged_after_refusal(path, "newer than this Workbench knows")


def test_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    path.write_text("ticket,title\n1,printer\n")
    _unchanged_after_refusal(path, "not an SQLite database")


def test_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (id INTEGER)")
    _unchanged_after_refusal(path, "not a Workbench cache")


def test_data_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create data directory"):
        Store.open(blocker / "data")
    with pytest.raises(StoreError, match="not a directory|cannot create"):
        Store.open(blocker)


def test_open_engine_on_head_file_runs_no_migration(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    before = (tmp_path / DB_FILENAME).stat().st_mtime_ns
    open_engine(tmp_path / DB_FILENAME).dispose()
    assert (tmp_path / DB_FILENAME).stat().st_mtime_ns == before


def test_a_0005_cache_gains_the_recipes_table_and_keeps_its_trees(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, "0005")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO trees (id, tree_version, title, category, source, digest, updated_at)"
            " VALUES ('t', 1, 'T', 'printing', 'id: t', 'd', '2026-11-02 10:00:00.000000')"
        )
    engine.dispose()
    store = Store.open(tmp_path)
    with store.write() as tx:
        recipe_store.save_recipe(
            tx,
            recipe_store.StoredRecipe(
                "site.x", "X", "ssh", "sh", "id: site.x", "d", datetime(2026, 11, 2, tzinfo=UTC)
            ),
        )
    with store.read() as db:
        assert [t.id for t in tree_store.stored_trees(db)] == ["t"]
        assert [(r.id, r.updated_at.tzinfo) for r in recipe_store.stored_recipes(db)] == [
            ("site.x", UTC)
        ]
        assert [o.entity for o in db.outbox()] == ["recipe"]
    store.close()
    (backup,) = tmp_path.glob(f"{DB_FILENAME}.rev0005-*.bak")
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)


def test_a_0006_cache_keeps_its_rows_and_allows_what_the_central_allows(tmp_path: Path) -> None:
    path = tmp_path / DB_FILENAME
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine, "0006")
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO assets (id, tag) VALUES ('a1', 'WA-1')")
        connection.exec_driver_sql(
            "INSERT INTO tickets (local_id, id, provisional_ref, title, category, channel, "
            "impact, urgency, priority, queue, tier, status, created_at, updated_at, version)"
            " VALUES (7, 't1', 'P-0A1B2C3D-0001', 'Scanner offline', 'hardware', 'phone', 3, 3,"
            " 'P4', 'service-desk', 1, 'new', '2026-11-02 10:00:00.000000',"
            " '2026-11-02 10:00:00.000000', 1)"
        )
        connection.exec_driver_sql(
            "INSERT INTO worklog (id, ticket_id, kind, author, text, created_at) VALUES "
            "('w1', 't1', 'note', 'ana', 'rebooted', '2026-11-02 10:00:00.000000')"
        )
    engine.dispose()
    store = Store.open(tmp_path)
    with store.engine.connect() as connection:  # off while migrating, on again after
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close()
    with sqlite3.connect(path) as db:
        # Tables rebuilt with their rows, the ticket's local id (its search rowid) and children.
        assert db.execute("SELECT local_id, id FROM tickets").fetchall() == [(7, "t1")]
        assert db.execute("SELECT ticket_id FROM worklog").fetchall() == [("t1",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        # What the central database allows twice a pull may bring twice (a tag swap).
        db.execute("INSERT INTO assets (id, tag) VALUES ('a2', 'WA-1')")
        db.execute(
            "INSERT INTO tickets (id, provisional_ref, number, title, category, channel, impact, "
            "urgency, priority, queue, tier, status, created_at, updated_at) SELECT 't2', "
            "provisional_ref, number, title, category, channel, impact, urgency, priority, "
            "queue, tier, status, created_at, updated_at FROM tickets"
        )
        assert db.execute("SELECT count(DISTINCT id) FROM tickets").fetchone() == (2,)
    store = Store.open(tmp_path)
    with store.read() as db, pytest.raises(BadInput, match="names 2 tickets"):
        db.ticket("P-0A1B2C3D-0001")
    store.close()
