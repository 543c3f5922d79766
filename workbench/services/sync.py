"""Connecting a cache to the central database (`workbench login` and the window's dialog).

The password goes to the OS keyring only; the cache keeps the URL without it (DESIGN.md §2).
Every check, signing in once included, runs before anything is written, so bad input
changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from workbench.core.errors import BadInput, NotFound
from workbench.store import Store, sync_state
from workbench.store.sync_state import SyncState
from workbench.sync import central
from workbench.sync.identity import IdentityRefused, acting_as


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
    _sign_in(parsed if not secret else parsed.set(password=str(secret)), url, login)
    if secret:
        central.store_password(url, str(secret))
    with store.write() as tx:
        sync_state.set_login(tx, _without_password(url), login, scope)
        return sync_state.state(tx)


def _sign_in(parsed: URL, url: str, login: str) -> None:
    """Sign in once before anything is stored: a wrong password, an unknown or retired
    technician, or a database login that is someone else's, is one line and changes nothing."""
    engine = central.connect(parsed.render_as_string(hide_password=False))
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
