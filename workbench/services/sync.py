"""Connecting a cache to the central database (`workbench login` and the window's dialog).

The password goes to the OS keyring only; the cache keeps the URL without it (DESIGN.md §2).
Every check runs before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from workbench.core.errors import BadInput
from workbench.store import Store, sync_state
from workbench.store.sync_state import SyncState
from workbench.sync import central


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
    if secret:
        central.store_password(url, str(secret))
    with store.write() as tx:
        sync_state.set_login(tx, _without_password(url), login, scope)
        return sync_state.state(tx)


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
