"""Who a connection to the central database is (DESIGN.md §11).

A technician signs in with their own PostgreSQL login role, named like their login; the
central takes the technician from `session_user`, never from what a cache says. The schema's
owner (the account `central init` runs as) is the administrators' own and is trusted to name
the technician it works for; it is never given to a laptop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from workbench.core.errors import WorkbenchError
from workbench.core.models import Role


class IdentityRefused(WorkbenchError):
    """The connection may not do this as this technician; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Identity:
    user: str  # the database role signed in
    login: str | None  # the technician it is; None for the owner's account
    role: Role | None
    active: bool

    @property
    def owner(self) -> bool:
        return self.login is None


_KNOWN = "workbench.identity"  # Connection.info key: who signed in on this connection


def identity(db: Connection) -> Identity:
    """The technician (or the owner) behind this connection, asked once per connection
    (its session_user never changes; row-level security checks every statement anyway)."""
    known = db.info.get(_KNOWN)
    if isinstance(known, Identity):
        return known
    found = _ask(db)
    db.info[_KNOWN] = found
    return found


def _ask(db: Connection) -> Identity:
    row = db.execute(
        text(
            "SELECT session_user::text AS user, t.login, t.role, t.active, "
            "pg_has_role(session_user, c.relowner, 'MEMBER') AS owner "
            "FROM pg_class c LEFT JOIN technicians t ON t.login = session_user::text "
            "WHERE c.oid = 'sync_clock'::regclass"
        )
    ).one()
    if row.login is not None and not row.owner:
        return Identity(row.user, row.login, Role(row.role), bool(row.active))
    if row.owner:
        return Identity(row.user, None, None, True)
    raise IdentityRefused(
        f"the database user {row.user!r} is not a technician of this help desk: "
        "ask an admin to enrol it (`workbench central technician add`)"
    )


def acting_as(db: Connection, claimed: str) -> Identity:
    """The identity whose work this cache pushes and whose scope it pulls: the signed-in
    technician, who must be the one the cache works as; the owner works for `claimed`."""
    who = identity(db)
    if who.owner:
        return who
    if not who.active:
        raise IdentityRefused(
            f"technician {who.login!r} is retired on the central database: the sync is "
            "refused, and the work not yet sent stays in this cache"
        )
    if claimed != who.login:
        raise IdentityRefused(
            f"this cache works as {claimed!r} but signs in to the central database as "
            f"{who.login!r}: work recorded as {claimed!r} is refused; run `workbench login` "
            f"with {claimed!r}'s own database login"
        )
    return who


def scram_verifier(db: Connection, login: str, password: str) -> str:
    """A SCRAM-SHA-256 verifier of the password, made here by libpq: what the server stores,
    so the password itself never travels to it or into its logs."""
    raw = db.connection.dbapi_connection
    pgconn = getattr(raw, "pgconn", None)
    if pgconn is None:
        raise WorkbenchError("the central database driver cannot make a SCRAM verifier")
    verifier: bytes = pgconn.encrypt_password(
        password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256"
    )
    return verifier.decode("ascii")
