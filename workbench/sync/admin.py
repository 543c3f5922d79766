"""Central administration (DESIGN.md §11): technicians, sites, the audit, one transaction each.

Every change runs in an `AdminSession`: one PostgreSQL transaction under the sync clock's row
lock (the rows it writes get versions like a push's, so every cache pulls them), opened only
for the role the change needs (admin for people, sites and imports; lead for the policy and
the audit), and written to the append-only audit with who did it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, and_, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import Role, Site, Technician
from workbench.core.policy import POLICY_ID
from workbench.sync import central
from workbench.sync.identity import Identity, IdentityRefused, identity, scram_verifier

# A login is a PostgreSQL role name too: plain, lower-case, no quoting surprises.
LOGIN_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,62}$")
TIERS = (1, 2, 3)
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    kind: str
    technician: str
    at: datetime
    host: str | None
    port: int | None
    recipe_id: str | None
    params: dict[str, Any] | None
    outcome: str | None
    exit_code: int | None
    ticket_ref: str | None
    detail: str


class AdminSession:
    """One administrative change: `db` inside the transaction, `actor` who makes it."""

    def __init__(self, db: Connection, who: Identity, clock: int) -> None:
        self.db = db
        self.who = who
        self.clock = clock
        self.actor = who.login or who.user
        # Set to look without changing anything (`--dry-run`): the transaction rolls back.
        self.dry_run = False

    def tick(self) -> int:
        """The version of the next row written (one per row, as a push does)."""
        self.clock += 1
        return self.clock

    def audit(self, kind: str, detail: str) -> None:
        self.db.execute(
            insert(central.audit_events).values(
                id=str(uuid.uuid4()),
                kind=kind,
                technician=self.actor,
                at=datetime.now(UTC),
                recorded_at=datetime.now(UTC),
                detail=detail,
            )
        )


_NEEDED = {
    Role.AGENT: "a technician",
    Role.FIELD: "a field technician",
    Role.LEAD: "a lead",
    Role.ADMIN: "an admin",
}
_RANK = {role: rank for rank, role in enumerate(_NEEDED)}  # each may do what those before may


def allowed(who: Identity, need: Role) -> bool:
    """Whether the signed-in technician's role reaches `need`; the owner's account may
    do everything."""
    if who.owner:
        return True
    if not who.active or who.role is None:
        return False
    return _RANK[who.role] >= _RANK[need]


@contextmanager
def _signed_in(url: str, need: Role, what: str) -> Iterator[tuple[Connection, Identity]]:
    """One transaction of someone whose role reaches `need`; errors as one line."""
    engine = central.connect(url)
    try:
        with engine.connect() as db, db.begin():
            who = identity(db)
            if not allowed(who, need):
                raise IdentityRefused(
                    f"only {_NEEDED[need]} may {what}; {who.login} is "
                    f"{'retired' if not who.active else f'a {who.role}'}"
                )
            yield db, who
    except DBAPIError as exc:
        raise _refused(url, exc) from None
    except SQLAlchemyError as exc:
        raise central.unreachable(url, exc) from None
    finally:
        engine.dispose()


@contextmanager
def admin_session(url: str, need: Role, what: str) -> Iterator[AdminSession]:
    """Connect, check the signed-in technician may do `what`, run the change, commit."""
    with _signed_in(url, need, what) as (db, who):
        clock = db.execute(
            select(central.sync_clock.c.clock).where(central.sync_clock.c.id == 1).with_for_update()
        ).scalar_one()
        session = AdminSession(db, who, int(clock))
        yield session
        if session.dry_run:
            db.rollback()
            return
        db.execute(
            update(central.sync_clock)
            .where(central.sync_clock.c.id == 1)
            .values(clock=session.clock)
        )


@contextmanager
def reader(url: str, need: Role, what: str) -> Iterator[Connection]:
    """A read-only look at the central database for someone allowed `what`."""
    with _signed_in(url, need, what) as (db, _who):
        yield db


def _refused(url: str, exc: DBAPIError) -> Exception:
    """What PostgreSQL refused, in its own words (the functions raise plain sentences)."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in ("42501", "42710", "42704"):
        message = str(exc.orig).strip().splitlines()[0]
        return IdentityRefused(message)
    return central.unreachable(url, exc)


# --- technicians --------------------------------------------------------------------------


def check_login(login: str) -> str:
    if not LOGIN_PATTERN.match(login):
        raise BadInput(
            f"login {login!r}: use 2-63 lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter (it is also the technician's database login)"
        )
    return login


def check_email(email: str) -> str:
    email = email.strip()
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise BadInput(f"{email!r} is not an e-mail address")
    return email


def _technician(row: Mapping[Any, Any]) -> Technician:
    return Technician(
        row["login"],
        row["name"],
        int(row["tier"]),
        Role(row["role"]),
        tuple(json.loads(row["sites"])),
        row["email"],
        bool(row["active"]),
    )


def technicians(db: Connection) -> list[Technician]:
    t = central.technicians
    rows = db.execute(select(t).order_by(t.c.active.desc(), t.c.tier, t.c.login)).mappings()
    return [_technician(r) for r in rows]


def _known_sites(db: Connection, wanted: Sequence[str]) -> tuple[str, ...]:
    """Site ids for names or ids given; an unknown one is an error naming the known ones."""
    s = central.sites
    rows = db.execute(select(s.c.id, s.c.name)).all()
    by_key = {r.id: r.id for r in rows} | {r.name.casefold(): r.id for r in rows}
    found: list[str] = []
    for given in wanted:
        site = by_key.get(given) or by_key.get(given.casefold())
        if site is None:
            known = ", ".join(sorted(r.name for r in rows)) or "none yet"
            raise NotFound(f"no site {given!r} (known: {known}); add it with `central site add`")
        found.append(site)
    return tuple(dict.fromkeys(found))


def add_technician(
    session: AdminSession,
    tech: Technician,
    password: str | None,
) -> Technician:
    """Enrol a technician: their row and their own login role (SCRAM, or no password for a
    certificate or Kerberos sign-in)."""
    db = session.db
    check_login(tech.login)
    t = central.technicians
    if db.scalar(select(t.c.login).where(t.c.login == tech.login)) is not None:
        raise BadInput(f"technician {tech.login!r} exists; change them with `technician edit`")
    sites = _known_sites(db, tech.sites)
    db.execute(
        insert(t).values(
            login=tech.login,
            name=tech.name,
            tier=tech.tier,
            role=tech.role.value,
            sites=json.dumps(list(sites)),
            email=tech.email,
            active=1,
            version=session.tick(),
            changed_by=session.actor,
        )
    )
    verifier = scram_verifier(db, tech.login, password) if password else None
    db.execute(
        text("SELECT wb_enrol_login(:login, :verifier, :adopt)"),
        {"login": tech.login, "verifier": verifier, "adopt": session.who.owner},
    )
    session.audit(
        "technician",
        f"enrolled {tech.login} ({tech.name}), tier {tech.tier}, {tech.role.value}",
    )
    return _technician(db.execute(select(t).where(t.c.login == tech.login)).mappings().one())


def edit_technician(
    session: AdminSession,
    login: str,
    changes: Mapping[str, Any],
    password: str | None = None,
) -> Technician:
    """Change the fields given (name, email, tier, role, sites), and the password if given."""
    db = session.db
    t = central.technicians
    row = db.execute(select(t).where(t.c.login == login).with_for_update()).mappings().first()
    if row is None:
        raise NotFound(f"no technician {login!r}; `technician list` shows who is enrolled")
    values = dict(changes)
    if "role" in values:
        values["role"] = Role(values["role"]).value
    if "sites" in values:
        values["sites"] = json.dumps(list(_known_sites(db, values["sites"])))
    if values:
        db.execute(
            update(t)
            .where(t.c.login == login)
            .values(**values, version=session.tick(), changed_by=session.actor)
        )
    if values.get("active") == 1:  # back from retirement: may sign in again
        db.execute(text("SELECT wb_allow_login(:login, true)"), {"login": login})
    if password:
        db.execute(
            text("SELECT wb_enrol_login(:login, :verifier, :adopt)"),
            {
                "login": login,
                "verifier": scram_verifier(db, login, password),
                "adopt": session.who.owner,
            },
        )
    said = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    session.audit("technician", f"changed {login}: {said}{'; new password' if password else ''}")
    return _technician(db.execute(select(t).where(t.c.login == login)).mappings().one())


def retire_technician(session: AdminSession, login: str) -> Technician:
    """Retired: the row and its history stay, the login may no longer sign in or sync."""
    db = session.db
    t = central.technicians
    row = db.execute(select(t).where(t.c.login == login)).mappings().first()
    if row is None:
        raise NotFound(f"no technician {login!r}; `technician list` shows who is enrolled")
    if login == session.actor:
        raise BadInput("you cannot retire yourself; another admin can")
    db.execute(
        update(t)
        .where(t.c.login == login)
        .values(active=0, version=session.tick(), changed_by=session.actor)
    )
    db.execute(text("SELECT wb_allow_login(:login, false)"), {"login": login})
    session.audit("technician", f"retired {login}")
    return _technician(db.execute(select(t).where(t.c.login == login)).mappings().one())


# --- sites --------------------------------------------------------------------------------


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(
            f"{name!r} is not a time zone; use an IANA name such as Europe/Berlin"
        ) from None
    return name


def sites(db: Connection) -> list[Site]:
    s = central.sites
    return [
        Site(r.id, r.name, r.address, r.timezone) for r in db.execute(select(s).order_by(s.c.name))
    ]


def site_id_for(name: str) -> str:
    """A site's id from its name: readable in URLs and logs, stable across imports."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return f"site-{slug or uuid.uuid4().hex[:8]}"


def add_site(session: AdminSession, name: str, address: str, timezone: str) -> Site:
    name = name.strip()
    if not name:
        raise BadInput("a site needs a name")
    check_timezone(timezone)
    s = central.sites
    if session.db.scalar(select(s.c.id).where(func.lower(s.c.name) == name.casefold())):
        raise BadInput(f"a site named {name!r} exists; change it with `site edit`")
    site = Site(site_id_for(name), name, address, timezone)
    session.db.execute(
        insert(s).values(
            id=site.id,
            name=name,
            address=address,
            timezone=timezone,
            version=session.tick(),
            changed_by=session.actor,
        )
    )
    session.audit("site", f"added site {name} ({timezone})")
    return site


def edit_site(session: AdminSession, key: str, changes: Mapping[str, str]) -> Site:
    s = central.sites
    db = session.db
    row = db.execute(
        select(s).where((s.c.id == key) | (func.lower(s.c.name) == key.casefold()))
    ).first()
    if row is None:
        raise NotFound(f"no site {key!r}; `site list` shows them")
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    if changes:
        db.execute(
            update(s)
            .where(s.c.id == row.id)
            .values(**changes, version=session.tick(), changed_by=session.actor)
        )
    said = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    session.audit("site", f"changed site {row.name}: {said}")
    found = db.execute(select(s).where(s.c.id == row.id)).one()
    return Site(found.id, found.name, found.address, found.timezone)


# --- audit --------------------------------------------------------------------------------


def audit_events(
    db: Connection,
    host: str | None = None,
    technician: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[AuditEvent]:
    a = central.audit_events
    where = []
    if host:
        where.append(func.lower(a.c.host) == host.casefold())
    if technician:
        where.append(a.c.technician == technician)
    if since:
        where.append(a.c.at >= since)
    rows = db.execute(
        select(a).where(and_(True, *where)).order_by(a.c.at.desc(), a.c.id).limit(limit)
    ).mappings()
    return [
        AuditEvent(
            r["id"],
            r["kind"],
            r["technician"],
            r["at"],
            r["host"],
            r["port"],
            r["recipe_id"],
            json.loads(r["params"]) if r["params"] else None,
            r["outcome"],
            r["exit_code"],
            r["ticket_ref"],
            r["detail"],
        )
        for r in rows
    ]


# --- policy -------------------------------------------------------------------------------


def set_policy(session: AdminSession, source: str, digest: str) -> int:
    """Store a checked policy as the help desk's next version; every cache pulls it."""
    p, h = central.policies, central.policy_history
    db = session.db
    current = db.execute(select(p).where(p.c.id == POLICY_ID).with_for_update()).first()
    if current is not None and current.digest == digest:
        return int(current.policy_version)
    number = 1 if current is None else int(current.policy_version) + 1
    now = datetime.now(UTC)
    values = {
        "policy_version": number,
        "source": source,
        "digest": digest,
        "updated_at": now,
        "version": session.tick(),
        "changed_by": session.actor,
    }
    if current is None:
        db.execute(insert(p).values(id=POLICY_ID, **values))
    else:
        db.execute(update(p).where(p.c.id == POLICY_ID).values(**values))
    db.execute(
        insert(h).values(
            id=POLICY_ID,
            policy_version=number,
            source=source,
            digest=digest,
            set_by=session.actor,
            set_at=now,
        )
    )
    session.audit("policy", f"set the SLA policy, version {number}")
    return number


def policy_versions(db: Connection) -> list[tuple[int, str, datetime]]:
    """(version, set by, when) of every policy set, newest first."""
    h = central.policy_history
    rows = db.execute(
        select(h.c.policy_version, h.c.set_by, h.c.set_at)
        .where(h.c.id == POLICY_ID)
        .order_by(h.c.policy_version.desc())
    )
    return [(int(r.policy_version), r.set_by, r.set_at) for r in rows]
