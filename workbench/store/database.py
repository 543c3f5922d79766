"""Opening the cache file: checks, WAL and foreign keys, migrations after a backup copy."""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from workbench.core.errors import StoreError

log = logging.getLogger(__name__)

DB_FILENAME = "workbench.sqlite3"
# Revisions this program knows, oldest first; the last is the head (a test checks Alembic agrees).
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
HEAD = REVISIONS[-1]
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _configure(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control from pysqlite so writers can BEGIN IMMEDIATE (see below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")  # a committed ticket survives a power cut
        cursor.execute("PRAGMA busy_timeout=10000")
        # Per connection: the tickets whose search rows a write transaction must rebuild.
        cursor.execute("CREATE TEMP TABLE IF NOT EXISTS touched_tickets (id TEXT PRIMARY KEY)")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock at once, so what it read cannot change under it.
        immediate = connection.info.get("immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def prepare_data_dir(data_dir: Path) -> Path:
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create data directory {data_dir}: {exc.strerror}") from None
    if not data_dir.is_dir():
        raise StoreError(f"data directory {data_dir} is not a directory")
    if not os.access(data_dir, os.W_OK | os.X_OK):
        raise StoreError(
            f"data directory {data_dir} is not writable; fix its permissions or pass --data-dir"
        )
    return data_dir / DB_FILENAME


def _stored_revision(path: Path) -> str | None:
    """The schema revision of an existing file, None for an empty one; refuse foreign files."""
    if path.stat().st_size == 0:
        return None
    with path.open("rb") as handle:
        if handle.read(16) != _SQLITE_MAGIC:
            raise StoreError(
                f"{path} is not a Workbench cache (not an SQLite database); "
                "move it away or choose another --data-dir"
            )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
            tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return None
            if "alembic_version" not in tables:
                raise StoreError(
                    f"{path} is an SQLite database but not a Workbench cache; "
                    "move it away or choose another --data-dir"
                )
            row = probe.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} cannot be read as a Workbench cache: {exc}") from None
    return row[0] if row else None


def _backup(path: Path, revision: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.rev{revision}-{stamp}.bak")
    with sqlite3.connect(path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def migrate(engine: Engine, target: str = HEAD) -> None:
    from alembic.command import upgrade  # noqa: PLC0415  (only needed when the schema is old)
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.connect() as connection:
        # A revision that rebuilds a table (SQLite alters tables by copying them) drops the
        # old one, which children's foreign keys refuse; the pragma only takes effect outside
        # a transaction. The keys are checked before the commit instead.
        raw = connection.connection.driver_connection
        assert raw is not None  # a live connection, just checked out
        enforced = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            config.attributes["connection"] = connection
            upgrade(config, target)
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
            if broken is not None:
                raise StoreError(f"migrating the cache broke a foreign key: {tuple(broken)}")
            connection.commit()
        finally:
            connection.rollback()
            raw.execute(f"PRAGMA foreign_keys={enforced}")


def open_engine(path: Path) -> Engine:
    """An engine on an up-to-date cache file; refuses files it must not touch."""
    revision = _stored_revision(path) if path.exists() else None
    if revision is not None and revision not in REVISIONS:
        raise StoreError(
            f"{path} has schema revision {revision}, newer than this Workbench knows "
            f"({HEAD}); update the Workbench — the file was left unchanged"
        )
    engine = create_engine(f"sqlite:///{path}")
    _configure(engine)
    if revision != HEAD:
        if revision is not None:
            copy = _backup(path, revision)
            log.info("cache schema %s is old; copied it to %s before migrating", revision, copy)
        try:
            migrate(engine)
        except OperationalError as exc:  # SQLAlchemy wraps sqlite3's (read-only, disk full)
            engine.dispose()
            raise StoreError(f"cannot write the cache {path}: {exc.orig}") from None
    return engine
