"""Opening the cache file: checks, WAL and foreign keys, migrations after a backup copy.

Damage is looked for where it is cheap and matters: a write-ahead log SQLite did not write
(at every open: 32 bytes), the tables and columns (at every open, from the schema), and the
whole file's structure (`PRAGMA quick_check`) after an unclean shutdown and before a sync
pushes from it. Each finding is one line saying what is wrong and what to do.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import struct
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError

from workbench.core.errors import StoreError
from workbench.store.schema import metadata

log = logging.getLogger(__name__)

DB_FILENAME = "workbench.sqlite3"
# Revisions this program knows, oldest first; the last is the head (a test checks Alembic agrees).
REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008")
HEAD = REVISIONS[-1]
# Beside the cache: one locked marker per process that has it open, removed at a clean close.
_SESSION_MARK = ".open-"
SEARCH_TABLE = "ticket_fts"  # created by migration 0002, not in schema.metadata
_SQLITE_MAGIC = b"SQLite format 3\x00"
_WAL_MAGICS = (0x377F0682, 0x377F0683)  # the low bit: checksums of big-endian words
_WAL_VERSION = 3007000
_WAL_REREAD_S = 0.05
# Less free space than this beside the cache: SQLite's I/O errors are a full disk.
_DISK_FULL_BELOW = 1 << 20
_SQLITE_ERROR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 1, 11, 13, 26


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
    path = data_dir / DB_FILENAME
    if path.exists() and not path.is_file():
        kind = "a directory" if path.is_dir() else "not a regular file"
        raise StoreError(
            f"{path} is {kind}, not a Workbench cache; move it away or choose another --data-dir"
        )
    return path


def wal_path(path: Path) -> Path:
    return path.with_name(f"{path.name}-wal")


def damaged(
    path: Path,
    what: str,
    alone: str = "restore a backup copy or move the file aside to start empty",
) -> StoreError:
    """The one line for a cache found damaged; `alone`: what to do without a central."""
    return StoreError(
        f"the cache {path} is damaged ({what}); it was left as it is: `workbench doctor "
        f"--rebuild` rebuilds it from the central database keeping unsent changes (without a "
        f"central, {alone})"
    )


def disk_full(path: Path) -> StoreError | None:
    """The one line for a full disk under the cache, None if there is room."""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    if free >= _DISK_FULL_BELOW:
        return None
    return StoreError(
        f"the disk holding {path.parent} is full ({free // 1024} KiB free): free some space "
        "and try again; nothing in the cache was lost (unfinished changes were not saved)"
    )


def explain(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    """One line for an SQLite error on the cache: a full disk, damage, or SQLite's words."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    full = disk_full(path)
    if full is not None or code == _SQLITE_FULL:
        return full or StoreError(
            f"the disk holding {path.parent} is full: free some space and try again; nothing "
            "in the cache was lost (unfinished changes were not saved)"
        )
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return damaged(path, str(exc))
    return StoreError(f"cannot {doing} the cache {path}: {exc}")


def sqlite_cause(exc: DBAPIError) -> sqlite3.Error | None:
    """The SQLite error SQLAlchemy wrapped, unless it is a broken constraint (a bug, not the
    file's state)."""
    cause = exc.orig
    if isinstance(cause, sqlite3.Error) and not isinstance(cause, sqlite3.IntegrityError):
        return cause
    return None


def wal_damage(path: Path) -> str | None:
    """What is wrong with the cache's write-ahead log, None if SQLite wrote it (or there is
    none). SQLite would silently ignore a log with a bad header, and with it the changes the
    log should hold: checked before SQLite opens the file. Looked at twice before it is
    called damaged: another process may be rewriting the header (a log restarting)."""
    found = None
    for attempt in range(2):
        if attempt:
            time.sleep(_WAL_REREAD_S)
        try:
            with wal_path(path).open("rb") as handle:
                found = _wal_header_problem(handle.read(32), wal_path(path).name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"its write-ahead log cannot be read: {exc.strerror}"
        if found is None:
            return None
    return found


def _wal_header_problem(header: bytes, name: str) -> str | None:
    if len(header) < 32 or not header.strip(b"\x00"):
        return None  # an empty or never-written log: SQLite starts a new one, nothing is lost
    magic, version = struct.unpack(">2I", header[:8])
    if magic not in _WAL_MAGICS or version != _WAL_VERSION:
        return f"{name} beside it is not an SQLite write-ahead log"
    if _wal_checksum(header[:24], big_endian=bool(magic & 1)) != header[24:32]:
        return f"the header of {name} beside it is corrupted"
    return None


def _wal_checksum(data: bytes, *, big_endian: bool) -> bytes:
    """SQLite's WAL checksum (wal.c, walChecksumBytes) of `data`, as stored in a header."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    s1 = s2 = 0
    for first, second in zip(words[::2], words[1::2], strict=True):
        s1 = (s1 + first + s2) & 0xFFFFFFFF
        s2 = (s2 + second + s1) & 0xFFFFFFFF
    return struct.pack(">2I", s1, s2)


def quick_check(path: Path) -> list[str]:
    """SQLite's `PRAGMA quick_check` of the file (its write-ahead log included): the problems
    found, none when it is sound. The file is opened read-only."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            found = [row[0] for row in probe.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if found == ["ok"] else found


class Session:
    """This process's mark on the cache: a file beside it (`workbench.sqlite3.open-…`),
    locked while the cache is open and removed when it is closed. A marker nobody holds the
    lock of belongs to a process that ended without closing it (killed, crashed, power cut):
    an unclean shutdown, after which the file is checked."""

    def __init__(self, path: Path) -> None:
        try:
            markers = _markers(path)
            self._stale = [m for m in markers if _abandoned(m)]
            mine = path.with_name(f"{path.name}{_SESSION_MARK}{uuid.uuid4().hex}")
            self._lock = FileLock(mine, thread_local=False)
            self._lock.acquire()
        except OSError as exc:
            raise StoreError(f"cannot mark the cache {path} in use: {exc.strerror}") from None
        # A log left behind by no open process (and no marker): a crash of an older Workbench.
        others_open = len(markers) > len(self._stale)
        self.unclean = bool(self._stale) or (
            not others_open and wal_path(path).exists() and wal_path(path).stat().st_size > 0
        )

    def checked(self) -> None:
        """The file was found sound after an unclean shutdown: forget the markers left."""
        for marker in self._stale:
            marker.unlink(missing_ok=True)
        self._stale = []

    def close(self) -> None:
        self._lock.release()
        Path(self._lock.lock_file).unlink(missing_ok=True)


def _markers(path: Path) -> list[Path]:
    return list(path.parent.glob(f"{path.name}{_SESSION_MARK}*"))


def _abandoned(marker: Path) -> bool:
    """True if no process holds this marker's lock (its owner is gone)."""
    lock = FileLock(marker, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except (Timeout, OSError):  # held, or not ours to lock: taken as in use
        return False
    lock.release()
    return True


def live_sessions(path: Path) -> int:
    """How many processes have the cache open now."""
    return sum(not _abandoned(m) for m in _markers(path))


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
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return None
            if "alembic_version" not in tables:
                raise StoreError(
                    f"{path} is an SQLite database but not a Workbench cache; "
                    "move it away or choose another --data-dir"
                )
            row = probe.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as exc:
        raise explain(path, exc, "read") from None
    return row[0] if row else None


def stored_revision(path: Path) -> str | None:
    """The schema revision of the cache file, None if there is none (or it is empty)."""
    return _stored_revision(path) if path.exists() else None


def schema_damage(path: Path) -> str | None:
    """What the cache's tables lack compared with this Workbench's schema at the head
    revision (a file altered by hand, or a revision table that lies), None if nothing."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as probe:
            present = {
                name: {row[1] for row in probe.execute(f"PRAGMA table_info('{name}')")}
                for (name,) in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
    except sqlite3.Error as exc:
        raise explain(path, exc, "read") from None
    missing = [name for name in [*metadata.tables, SEARCH_TABLE] if name not in present]
    if missing:
        return f"tables missing: {', '.join(missing)}"
    for table in metadata.tables.values():
        lacking = [c.name for c in table.columns if c.name not in present[table.name]]
        if lacking:
            return f"table {table.name} lacks columns {', '.join(lacking)}"
    return None


def _backup(path: Path, revision: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.rev{revision}-{stamp}.bak")
    try:
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise explain(path, exc, "copy") from None
    log.info("cache schema %s is old; copied it to %s before migrating", revision, target)
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


def open_engine(path: Path, *, unclean: bool = False) -> Engine:
    """An engine on an up-to-date cache file; refuses files it must not touch, and damaged
    ones (`unclean`: the last session ended without closing it, so the whole file is
    checked)."""
    wrong = wal_damage(path)
    if wrong is not None:
        # SQLite cannot read such a log either: without it, the file is as last checkpointed.
        raise damaged(path, wrong, f"move {wal_path(path).name} aside")
    revision = stored_revision(path)
    if revision is not None and revision not in REVISIONS:
        raise StoreError(
            f"{path} has schema revision {revision}, newer than this Workbench knows "
            f"({HEAD}); update the Workbench — the file was left unchanged"
        )
    if unclean and revision is not None:
        log.warning("the cache %s was not closed cleanly: checking it", path)
        problems = quick_check(path)
        if problems:
            raise damaged(path, f"found after an unclean shutdown: {problems[0]}")
    engine = create_engine(f"sqlite:///{path}")
    _configure(engine)
    try:
        if revision != HEAD:
            copy = _backup(path, revision) if revision is not None else None
            try:
                migrate(engine)
            except DBAPIError as exc:  # read-only, full, or tables the revision should not have
                cause = exc.orig if isinstance(exc.orig, sqlite3.Error) else None
                if cause is None:
                    raise
                if copy is not None:  # rolled back: the file is as copied, one copy per try
                    copy.unlink(missing_ok=True)
                code = getattr(cause, "sqlite_errorcode", 0) & 0xFF
                if revision is not None and code == _SQLITE_ERROR and disk_full(path) is None:
                    raise damaged(
                        path, f"its tables are not those of revision {revision}: {cause}"
                    ) from None
                raise explain(path, cause, "write") from None
        wrong = schema_damage(path)
        if wrong is not None:
            raise damaged(path, f"{wrong}, although it says revision {HEAD}")
    except BaseException:
        engine.dispose()
        raise
    return engine
