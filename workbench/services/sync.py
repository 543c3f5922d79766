"""Connecting a cache to the central database (`workbench login` and the window's dialog),
and rebuilding a damaged cache from it (`workbench doctor --rebuild`).

The password goes to the keyring only, in an entry of this cache's own (so a password typed
in one cache never breaks another's sync); the cache keeps the URL without it (DESIGN.md §2).
Every check, signing in once with the password given included, runs before anything is
written, so a wrong password or bad input changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from workbench.core.errors import BadInput, NotFound, StoreError, WorkbenchError
from workbench.core.labels import plural
from workbench.store import Store, repair, sync_state
from workbench.store.database import DB_FILENAME, live_sessions
from workbench.store.sync_state import SyncState
from workbench.sync import central
from workbench.sync.client import Synchronizer, SyncReport
from workbench.sync.identity import IdentityRefused, acting_as

log = logging.getLogger(__name__)


def connect_central(
    store: Store, url: str, technician: str, password: str | None, scope: str | None
) -> SyncState:
    """Remember the central database and who syncs from this cache; returns the new state.

    ``password``: None (or empty) leaves the keyring as it is, so a sync uses the password
    stored before, else libpq's PGPASSWORD, else none. A password in the URL wins.
    scope: None keeps the cache's scope (mine by default)."""
    url = url.strip()  # pasted URLs often carry a blank
    parsed = central.parse_url(url)
    login = technician.strip()
    if not login:
        raise BadInput("the technician login is empty")
    secret = parsed.password if parsed.password is not None else password
    with store.read() as db:
        key = central.cache_key(db) or uuid4().hex
    _sign_in(parsed if not secret else parsed.set(password=str(secret)), url, login, key)
    if secret:
        central.store_password(url, key, str(secret))
    with store.write() as tx:
        sync_state.set_login(tx, _without_password(url), login, scope)
        central.keep_cache_key(tx, key)
        return sync_state.state(tx)


def _sign_in(parsed: URL, url: str, login: str, cache_key: str) -> None:
    """Sign in once before anything is stored: a wrong password, an unknown or retired
    technician, or a database login that is someone else's, is one line and changes nothing.
    Without a password given, the one this cache stored before signs in."""
    engine = central.connect(parsed.render_as_string(hide_password=False), cache_key=cache_key)
    try:
        with engine.connect() as db, db.begin():
            acting_as(db, login)
            t = central.technicians
            row = db.execute(select(t.c.active).where(t.c.login == login)).first()
    except SQLAlchemyError as exc:
        raise central.unreachable(url, exc) from None
    finally:
        engine.dispose()
    if row is None:
        raise NotFound(
            f"technician {login!r} is not known to the central database: ask an admin to "
            "enrol them (`workbench central technician add`)"
        )
    if not row.active:
        raise IdentityRefused(f"technician {login!r} is retired on the central database")


def _without_password(url: str) -> str:
    # Not URL.set(password=None): set() ignores None and would keep the password. libpq also
    # takes one from the query (?password=): that goes too.
    parsed = make_url(url).difference_update_query(["password"])
    return URL.create(
        parsed.drivername,
        parsed.username,
        None,
        parsed.host,
        parsed.port,
        parsed.database,
        parsed.query,
    ).render_as_string(hide_password=False)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What `workbench doctor --rebuild` did."""

    moved_to: Path  # the damaged file, kept
    kept: int  # unsent changes carried over (and sent by the sync)
    renumbered: bool  # some could not be read: the rest went under a new client id
    profiles: int  # credential profiles carried over
    asset_links: int  # their links to assets the pull brought
    report: SyncReport


def rebuild_cache(data_dir: Path) -> Rebuilt:
    """Replace a damaged cache with a fresh one pulled from the central, keeping what only
    it holds (see store.repair): the damaged file is moved aside, never deleted. Refused,
    with nothing changed, while another process has the cache open, without a central, or
    when the central cannot be reached."""
    path = data_dir / DB_FILENAME
    if not path.is_file():
        raise NotFound(f"there is no cache file {path} to rebuild")
    if live_sessions(path):
        raise StoreError(
            f"the cache {path} is open in another Workbench (a window or a command): close "
            "it, then rebuild; nothing was changed"
        )
    saved = repair.salvage(path)
    url, login = saved.meta.get(sync_state.CENTRAL_URL), saved.meta.get(sync_state.TECHNICIAN)
    if not url or not login:
        raise BadInput(
            f"the cache {path} names no central database to rebuild it from (none was "
            "configured, or its settings cannot be read): restore a backup copy, or move the "
            "file aside to start empty; nothing was changed"
        )
    central.use_cache_key(saved.meta.get(central.CACHE_KEY))
    probe = central.connect(url)
    try:
        with probe.connect():
            pass  # reachable, and the password signs in, before anything is moved
    except SQLAlchemyError as exc:
        raise central.unreachable(url, exc) from None
    finally:
        probe.dispose()
    moved_to = repair.move_aside(path)
    log.warning("moved the damaged cache %s to %s; rebuilding it", path, moved_to)
    store = Store.open(data_dir)
    try:
        with store.write() as tx:
            renumbered = repair.restore(tx, saved)
        try:
            report = Synchronizer(store, url, login).sync()
        except WorkbenchError as exc:
            raise WorkbenchError(
                f"the cache was rebuilt with {plural(len(saved.outbox), 'unsent change')} kept "
                f"(the damaged file is {moved_to.name}), but the first sync failed: {exc}; run "
                "`workbench sync` again"
            ) from None
        with store.write() as tx:
            linked = repair.restore_asset_links(tx, saved)
    finally:
        store.close()
    return Rebuilt(moved_to, len(saved.outbox), renumbered, len(saved.profiles), linked, report)
