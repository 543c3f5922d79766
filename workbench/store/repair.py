"""A damaged cache: what can still be read of it, and moving it aside for a fresh one.

Read with sqlite3 alone, read-only, part by part: a damaged page loses the rows on it, not
the rest. What only this cache holds is kept: its settings (client id, mutation counter,
central, technician, the keyring entry of its password), its unsent outbox, and its
credential profiles with their asset links. Everything else comes again from the central.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.core.errors import StoreError
from workbench.store import schema, sync_state
from workbench.store.database import (
    HEAD,
    disk_full,
    live_sessions,
    quick_check,
    schema_damage,
    stored_revision,
    wal_damage,
)
from workbench.store.store import Writer

# Settings describing what was pulled into the old file: the fresh one pulls from the start.
_PULLED_STATE = frozenset(
    {
        sync_state.CURSOR,
        sync_state.LAST_SYNC,
        sync_state.SCOPE_SIGNATURE,
        sync_state.OUT_OF_SCOPE,
    }
)
_OUTBOX_COLUMNS = tuple(c.name for c in schema.outbox.columns)
_OPS = frozenset({"insert", "update"})


@dataclass(frozen=True, slots=True)
class Salvage:
    """What could be read of a damaged cache."""

    meta: dict[str, str]
    outbox: tuple[dict[str, Any], ...]  # rows, in mutation order
    complete: bool  # False: some outbox rows could not be read (or made no sense)
    profiles: tuple[dict[str, Any], ...]
    asset_links: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Health:
    """What `workbench doctor` found; `problems` are one line each, none when all is well."""

    path: Path
    size: int | None  # bytes; None: there is no cache file yet
    revision: str | None
    problems: tuple[str, ...]
    integrity: str  # "ok", what quick_check found first, or why it did not run
    unsent: int | None  # that can be read; None: not known (not a file, no room to read)
    central_url: str | None
    technician: str | None
    open_now: int  # processes that have the cache open
    disk_full: bool = False
    log_damaged: bool = False  # the write-ahead log is not SQLite's (the file may be sound)


def examine(path: Path) -> Health:
    """Look at the cache file without changing it (read-only, nothing migrated)."""
    if not path.exists():
        return Health(path, None, None, (), "no cache yet", 0, None, None, 0)
    if not path.is_file():
        problem = f"{path} is not a file: move it away or choose another --data-dir"
        return Health(path, None, None, (problem,), "not a file", None, None, None, 0)
    full = disk_full(path)
    if full is not None:  # SQLite cannot even read without room for its index of the log
        unchecked = "not checked (the disk is full)"
        return Health(path, path.stat().st_size, None, (str(full),), unchecked,
                      None, None, None, live_sessions(path), disk_full=True)  # fmt: skip
    problems: list[str] = []
    wal = wal_damage(path)
    if wal is not None:
        problems.append(wal)
    revision = None
    try:
        revision = stored_revision(path)
        wrong = schema_damage(path) if revision == HEAD else None
    except StoreError as exc:
        wrong = str(exc)
    if wrong is not None:
        problems.append(wrong)
    found = quick_check(path)
    problems.extend(f"the file is damaged: {problem}" for problem in found[:1])
    saved = salvage(path)
    if not saved.complete and revision is not None:  # an empty file has no outbox yet
        problems.append(f"some unsent changes cannot be read ({len(saved.outbox)} can)")
    return Health(
        path, path.stat().st_size, revision, tuple(problems), found[0] if found else "ok",
        len(saved.outbox), saved.meta.get(sync_state.CENTRAL_URL),
        saved.meta.get(sync_state.TECHNICIAN), live_sessions(path), log_damaged=wal is not None,
    )  # fmt: skip


def _rows(db: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> tuple[list[Any], bool]:
    """The rows a query returns until a damaged page stops it; True if it read them all."""
    rows: list[Any] = []
    try:
        rows.extend(dict(row) for row in db.execute(sql, params))
    except sqlite3.DatabaseError:
        return rows, False
    return rows, True


def salvage(path: Path) -> Salvage:
    """Read what can be read of the cache file; the file is not changed."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return Salvage({}, (), False, (), ())
    with closing(db):
        db.row_factory = sqlite3.Row
        meta_rows, _ = _rows(db, "SELECT key, value FROM meta")
        meta = {row["key"]: row["value"] for row in meta_rows}
        outbox, complete = _rows(db, "SELECT * FROM outbox ORDER BY mutation_id")
        if not complete:
            outbox.extend(_probe_outbox(db, outbox, meta))
        profiles, _ = _rows(db, "SELECT * FROM credential_profiles")
        links, _ = _rows(db, "SELECT * FROM asset_profiles")
    sound = [row for row in outbox if _sound(row)]
    ids = [row["mutation_id"] for row in sound]
    last = int(meta.get("next_mutation_id", "1") or 1) - 1
    gapless = ids == list(range(ids[0], last + 1)) if ids else True
    return Salvage(
        meta, tuple(sound), complete and gapless and len(sound) == len(outbox),
        tuple(profiles), tuple(links),
    )  # fmt: skip


def _probe_outbox(
    db: sqlite3.Connection, read: list[dict[str, Any]], meta: dict[str, str]
) -> Iterable[dict[str, Any]]:
    """The outbox rows after those a scan read, one by one up to the last id given out: a
    lookup by id reads only the pages on its way, so rows beyond a damaged page are found."""
    after = read[-1]["mutation_id"] if read else 0
    last = int(meta.get("next_mutation_id", "1") or 1) - 1
    for mutation_id in range(after + 1, last + 1):
        found, _ = _rows(db, "SELECT * FROM outbox WHERE mutation_id = ?", (mutation_id,))
        yield from found


def _sound(row: dict[str, Any]) -> bool:
    """An outbox row read from a damaged file that still makes sense to send."""
    if any(row.get(name) is None for name in _OUTBOX_COLUMNS) or row["op"] not in _OPS:
        return False
    try:
        return isinstance(json.loads(row["fields"]), dict)
    except (TypeError, ValueError):
        return False


def move_aside(path: Path) -> Path:
    """Rename the cache file (and its log and index) to a dated name beside it; never
    deleted: what could not be read may still be recovered from it by hand."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(f"{path.name}{suffix}")
        if companion.exists():
            os.replace(companion, target.with_name(f"{target.name}{suffix}"))
    return target


def restore(tx: Writer, saved: Salvage) -> bool:
    """Into a fresh cache: the old one's settings, unsent work and credential profiles.
    Returns True if the outbox was renumbered under a new client id: with rows lost, the
    central would refuse the gap, and numbers it may know would be reused otherwise."""
    for key, value in saved.meta.items():
        if key not in _PULLED_STATE:
            tx.set_meta(key, value)
    for table, rows in (
        (schema.outbox, saved.outbox),
        (schema.credential_profiles, saved.profiles),
    ):
        _insert(tx, table.name, rows, {c.name for c in table.columns})
    if not saved.complete:
        sync_state.take_new_client_id(tx)
        return True
    return False


def restore_asset_links(tx: Writer, saved: Salvage) -> int:
    """After the pull brought the assets: the profile links of those the cache holds."""
    links = [row for row in saved.asset_links if tx.asset(row["asset_id"]) is not None]
    _insert(tx, schema.asset_profiles.name, links, {c.name for c in schema.asset_profiles.columns})
    return len(links)


def _insert(tx: Writer, table: str, rows: Sequence[dict[str, Any]], columns: set[str]) -> None:
    """Rows as read from the old file (SQLite values), the columns this revision has."""
    for row in rows:
        kept = {k: v for k, v in row.items() if k in columns}
        tx._db.exec_driver_sql(
            f"INSERT OR REPLACE INTO {table} ({', '.join(kept)}) "
            f"VALUES ({', '.join('?' for _ in kept)})",
            tuple(kept.values()),
        )
