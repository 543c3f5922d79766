"""Administering the help desk's people and sites on the central database (DESIGN.md §11).

`CentralAdmin` is what the window's Administration dialog (and the command line) call: each
method is one connection and, for a change, one transaction through `workbench.sync.admin`,
where the central decides whether the signed-in technician may do it (admins manage people
and sites; leads may look). Input is checked before anything is sent, so bad input changes
nothing. Passwords are passed on and never kept, logged or put into an error's text.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from workbench.core.errors import BadInput
from workbench.core.models import Role, Site, Technician
from workbench.store import Store, sync_state
from workbench.sync import admin

# What people read for a role; the internal values stay in the database and the CLI.
ROLE_LABELS: Mapping[Role, str] = {
    Role.AGENT: "Agent",
    Role.FIELD: "Field technician",
    Role.LEAD: "Lead",
    Role.ADMIN: "Admin",
}
TIERS = admin.TIERS
MIN_PASSWORD_LENGTH = 8  # as `central technician add --password-stdin`
GENERATED_LENGTH = 16
# No look-alikes (0/O, 1/l/I): a generated password is often read out or typed from paper.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")

_LOOK = "see the technicians and sites"
_PEOPLE = "manage technicians"
_SITES = "manage sites"


@dataclass(frozen=True, slots=True)
class Directory:
    """Everyone enrolled and every site, read in one look at the central database."""

    technicians: tuple[Technician, ...]
    sites: tuple[Site, ...]

    def site_names(self, tech: Technician) -> list[str]:
        """The technician's sites by name (an id the central no longer knows stays as is)."""
        names = {s.id: s.name for s in self.sites}
        return [names.get(site, site) for site in tech.sites]


def generate_password() -> str:
    """A random password for a new login (shown once, then only its SCRAM verifier exists)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def check_password(password: str | None) -> str | None:
    """None or empty: no password (keep the current one, or sign in by certificate)."""
    if not password:
        return None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadInput(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    return password


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadInput("a technician needs a name")
    return name


def _check_tier(tier: int) -> int:
    if tier not in TIERS:
        raise BadInput(f"the tier is 1, 2 or 3, not {tier}")
    return tier


def central_url_of(store: Store) -> str:
    """The central database this cache is connected to (its password is in the keyring)."""
    with store.read() as db:
        url = sync_state.state(db).central_url
    if not url:
        raise BadInput(
            "this cache is not connected to a central database: connect it first "
            "(File → Connect to central database…, or `workbench login`)"
        )
    return url


def may_administer(store: Store) -> bool:
    """Whether the cache's technician is a lead or admin of a connected help desk: who is
    offered the Administration window (the central still checks every change)."""
    with store.read() as db:
        state = sync_state.state(db)
        if not state.central_url or not state.technician:
            return False
        tech = db.technician(state.technician)
    return tech is not None and tech.active and tech.role.leads


class CentralAdmin:
    """People and sites of the help desk at `url`; every call connects anew."""

    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    def for_store(cls, store: Store) -> CentralAdmin:
        return cls(central_url_of(store))

    # -- looking ---------------------------------------------------------------------------
    def directory(self) -> Directory:
        with admin.reader(self.url, Role.LEAD, _LOOK) as db:
            return Directory(tuple(admin.technicians(db)), tuple(admin.sites(db)))

    def list_technicians(self) -> list[Technician]:
        with admin.reader(self.url, Role.LEAD, _LOOK) as db:
            return admin.technicians(db)

    def list_sites(self) -> list[Site]:
        with admin.reader(self.url, Role.LEAD, _LOOK) as db:
            return admin.sites(db)

    # -- technicians -----------------------------------------------------------------------
    def add_technician(
        self,
        login: str,
        *,
        name: str,
        email: str,
        tier: int,
        role: Role,
        sites: Iterable[str] = (),
        password: str | None = None,
    ) -> Technician:
        """Enrol a technician with their own database login; `sites` are ids or names."""
        tech = Technician(
            admin.check_login(login.strip()),
            _check_name(name),
            _check_tier(tier),
            Role(role),
            tuple(sites),
            admin.check_email(email),
            True,
        )
        secret = check_password(password)
        with admin.admin_session(self.url, Role.ADMIN, _PEOPLE) as session:
            return admin.add_technician(session, tech, secret)

    def edit_technician(
        self,
        login: str,
        *,
        name: str | None = None,
        email: str | None = None,
        tier: int | None = None,
        role: Role | None = None,
        sites: Iterable[str] | None = None,
        password: str | None = None,
    ) -> Technician:
        """Change what is given (None: left as it is); a password replaces the current one."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = _check_name(name)
        if email is not None:
            changes["email"] = admin.check_email(email)
        if tier is not None:
            changes["tier"] = _check_tier(tier)
        if role is not None:
            changes["role"] = Role(role).value
        if sites is not None:
            changes["sites"] = tuple(sites)
        secret = check_password(password)
        if not changes and secret is None:
            raise BadInput(f"nothing to change for {login}")
        with admin.admin_session(self.url, Role.ADMIN, _PEOPLE) as session:
            return admin.edit_technician(session, login, changes, secret)

    def retire_technician(self, login: str) -> Technician:
        """Retired: history kept, the login may no longer sign in or sync."""
        with admin.admin_session(self.url, Role.ADMIN, _PEOPLE) as session:
            return admin.retire_technician(session, login)

    # -- sites -----------------------------------------------------------------------------
    def add_site(self, name: str, address: str, timezone: str) -> Site:
        admin.check_timezone(timezone.strip())
        with admin.admin_session(self.url, Role.ADMIN, _SITES) as session:
            return admin.add_site(session, name, address.strip(), timezone.strip())

    def edit_site(
        self,
        key: str,
        *,
        name: str | None = None,
        address: str | None = None,
        timezone: str | None = None,
    ) -> Site:
        """Change a site (by id or name); None leaves a field as it is."""
        changes: dict[str, str] = {}
        if name is not None:
            if not name.strip():
                raise BadInput("a site needs a name")
            changes["name"] = name.strip()
        if address is not None:
            changes["address"] = address.strip()
        if timezone is not None:
            changes["timezone"] = admin.check_timezone(timezone.strip())
        if not changes:
            raise BadInput(f"nothing to change for the site {key}")
        with admin.admin_session(self.url, Role.ADMIN, _SITES) as session:
            return admin.edit_site(session, key, changes)

    @staticmethod
    def generate_password() -> str:
        return generate_password()
