"""Demo data on the central database (`workbench central demo seed`), for trying it as a team.

The demo set is made as `workbench demo seed` makes it, into a throw-away cache, and its rows
are copied into the central tables in one administrative change: each row at a version of its
own, so laptops pull them like any other change. Every demo technician is enrolled with a
database login and a generated password of their own, which the caller shows once.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, func, select, text

from workbench.core.errors import BadInput
from workbench.core.models import Role, Technician
from workbench.store import Store
from workbench.store import schema as local
from workbench.sync import central
from workbench.sync.admin import AdminSession, add_technician, admin_session
from workbench.sync.identity import IdentityRefused
from workbench.sync.server import insert_rows

# Rows per INSERT: bounds memory, whatever the number of tickets.
_CHUNK = 10_000
# Set by the copy, not taken from the cache: each row's own version, and who wrote it.
_SET_HERE = ("version", "changed_by")


@dataclass(frozen=True, slots=True)
class DemoLogin:
    technician: Technician
    password: str


@dataclass(frozen=True, slots=True)
class CentralDemo:
    counts: dict[str, int]  # rows per table: sites, technicians, requesters, … worklog
    logins: tuple[DemoLogin, ...]


def seed_central(url: str, fill: Callable[[Store], object]) -> CentralDemo:
    """Fill an empty central database with the demo set that `fill` puts into a cache.

    Only the owner's account may: the demo's tickets and worklog are written in the demo
    technicians' names, which row-level security allows no technician's login. A central that
    holds tickets already is refused and left as it was."""
    with admin_session(url, Role.ADMIN, "seed the demo data") as session:
        if not session.who.owner:
            raise IdentityRefused(
                "demo data goes in through the database owner's account (the one "
                "`central init` ran as): it writes work in the demo technicians' names"
            )
        held = session.db.scalar(select(func.count()).select_from(central.tickets))
        if held:
            raise BadInput(
                f"the central database {central.masked(url)} already holds {held:,} tickets; "
                "demo data goes only into an empty one (nothing was changed)"
            )
        with tempfile.TemporaryDirectory(prefix="workbench-demo-") as scratch:
            store = Store.open(Path(scratch))
            try:
                fill(store)
                demo = _copy(session, store)
            finally:
                store.close()
        said = ", ".join(f"{count:,} {name}" for name, count in demo.counts.items())
        session.audit("demo", f"seeded the demo data: {said}")
    return demo


def _copy(session: AdminSession, store: Store) -> CentralDemo:
    """Sites, then the technicians (enrolment looks their sites up), then the rest, parents
    before children; then the ticket numbers go on after the demo's highest."""
    counts = {"sites": _copy_table(session, store, central.sites)}
    with store.read() as db:
        technicians = db.technicians()
    logins = []
    for tech in technicians:
        password = secrets.token_urlsafe(12)
        logins.append(DemoLogin(add_technician(session, tech, password), password))
    counts["technicians"] = len(logins)
    for table in (central.requesters, central.assets, central.tickets, central.worklog):
        counts[table.name] = _copy_table(session, store, table)
    session.db.execute(
        text(
            "SELECT setval('ticket_numbers', max(substring(number FROM '[0-9]+$')::bigint)) "
            "FROM tickets"
        )
    )
    return CentralDemo(counts, tuple(logins))


def _copy_table(session: AdminSession, store: Store, table: Table) -> int:
    """Copy the rows of the table's twin in the cache, each at the next version; how many."""
    names = [c.name for c in table.columns if c.name not in _SET_HERE]
    twin = local.metadata.tables[table.name]
    copied = 0
    with store.engine.connect() as cache:
        rows = cache.execution_options(yield_per=_CHUNK).execute(
            select(*(twin.c[name] for name in names)).order_by(*twin.primary_key.columns)
        )
        for chunk in rows.mappings().partitions():
            insert_rows(
                session.db,
                table,
                [{**row, "version": session.tick(), "changed_by": session.actor} for row in chunk],
            )
            copied += len(chunk)
    return copied
