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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from workbench.core.errors import BadInput, Problems
from workbench.core.imports import ImportReport
from workbench.core.models import Role, Site, Technician
from workbench.core.policy import policy_from_text
from workbench.services import csv_import
from workbench.services.policy import digest, read_policy_file
from workbench.store import Store, sync_state
from workbench.sync import admin, central, imports
from workbench.sync.admin import AuditEvent

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
_POLICY = "set the policy"
_AUDIT = "read the audit"

# What an import brings, as people read it (the CLI's `central import KIND`), in this order.
IMPORT_KINDS: Mapping[str, str] = {"requesters": "Requesters", "assets": "Assets", "sites": "Sites"}
_READERS: Mapping[str, Callable[[Path, Mapping[str, str]], csv_import.ParsedFile[Any]]] = {
    "requesters": csv_import.read_requesters,
    "assets": csv_import.read_assets,
    "sites": csv_import.read_sites,
}
_UPSERTS: Mapping[str, Callable[..., ImportReport]] = {
    "requesters": imports.upsert_requesters,
    "assets": imports.upsert_assets,
    "sites": imports.upsert_sites,
}
# The audit's kinds and a job's outcomes in words; an unknown one is shown from its value.
AUDIT_KIND_LABELS: Mapping[str, str] = {
    "remote_job": "Remote job",
    "technician": "Technician",
    "site": "Site",
    "import": "Import",
    "policy": "Policy",
    "demo": "Demo data",
}
_OUTCOME_LABELS = {"ok": "OK", "auth_failed": "Sign-in failed"}
AUDIT_LIMIT = 1000  # events read at once, newest first (as `central audit`)


class FileProblems(Problems):
    """A file that does not check: nothing was stored; its `lines` are located (FILE:LINE:)."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    number: int
    set_by: str
    set_at: datetime


def audit_kind_label(kind: str) -> str:
    return AUDIT_KIND_LABELS.get(kind) or kind.replace("_", " ").capitalize()


def outcome_label(outcome: str | None) -> str:
    if not outcome:
        return ""
    return _OUTCOME_LABELS.get(outcome) or outcome.replace("_", " ").capitalize()


def parse_column_mapping(text: str) -> dict[str, str]:
    """`COLUMN=FIELD, COLUMN=` (as the command line's --map options) as {column: field}."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    for part in parts:
        if "=" not in part or not part.split("=", 1)[0].strip():
            raise BadInput(
                f"column mapping {part!r}: write it as COLUMN=FIELD (or COLUMN= to leave a "
                "column out), several separated by commas"
            )
    return csv_import.parse_mappings(parts)


def _located(error: BadInput) -> FileProblems:
    first, *rest = str(error).splitlines() or [""]
    return FileProblems(first, rest)


@dataclass(frozen=True, slots=True)
class Directory:
    """Everyone enrolled and every site, read in one look at the central database."""

    technicians: tuple[Technician, ...]
    sites: tuple[Site, ...]

    def site_names(self, tech: Technician) -> list[str]:
        """The technician's sites by name (an id the central no longer knows stays as is)."""
        names = {s.id: s.name for s in self.sites}
        return [names.get(site, site) for site in tech.sites]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time()).astimezone()


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
        central.use_cache_key(central.cache_key(db))  # its password is this cache's entry
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
        reactivate: bool = False,
    ) -> Technician:
        """Change what is given (None: left as it is); a password replaces the current one;
        `reactivate` lets a retired technician sign in again."""
        changes: dict[str, Any] = {"active": 1} if reactivate else {}
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

    # -- imports ---------------------------------------------------------------------------
    def import_csv(
        self, kind: str, path: Path, mappings: Mapping[str, str], *, dry_run: bool
    ) -> ImportReport:
        """`central import KIND FILE [--map …] [--dry-run]`: all or nothing. A row refused is
        in the report (nothing written); a file that cannot be read raises FileProblems."""
        if kind not in _READERS:
            raise BadInput(f"nothing to import as {kind!r}; choose {', '.join(IMPORT_KINDS)}")
        try:
            parsed = _READERS[kind](path, mappings)
        except BadInput as exc:
            raise _located(exc) from None
        try:
            with admin.admin_session(self.url, Role.ADMIN, f"import {kind}") as session:
                session.dry_run = dry_run
                return _UPSERTS[kind](
                    session,
                    parsed.records,
                    fields=parsed.fields,
                    refused=parsed.refused,
                    source=path.name,
                )
        except imports.ImportRefused as refused:
            return refused.report

    # -- policy ----------------------------------------------------------------------------
    def policy_versions(self) -> list[PolicyVersion]:
        """Every version of the help desk's policy set so far, newest first."""
        with admin.reader(self.url, Role.AGENT, "read the policy") as db:
            return [PolicyVersion(n, who, at) for n, who, at in admin.policy_versions(db)]

    def set_policy_from_file(self, path: Path) -> int:
        """`central policy set FILE`: checked first (FileProblems, every problem located,
        nothing stored), then the help desk's next version (the same text: the current one)."""
        source = read_policy_file(path)
        try:
            policy_from_text(source, path.name)
        except BadInput as exc:
            lines = str(exc).splitlines()
            count = f"{len(lines)} problem{'s' if len(lines) != 1 else ''}"
            raise FileProblems(f"nothing stored: {path.name} has {count}", lines) from None
        with admin.admin_session(self.url, Role.LEAD, _POLICY) as session:
            return admin.set_policy(session, source, digest(source))

    # -- audit -----------------------------------------------------------------------------
    def audit(
        self,
        *,
        host: str = "",
        technician: str = "",
        since: date | datetime | None = None,
        limit: int = AUDIT_LIMIT,
    ) -> list[AuditEvent]:
        """`central audit`: newest first; `since` a moment, or a day from its local midnight."""
        start = since if isinstance(since, datetime | None) else _midnight(since)
        with admin.reader(self.url, Role.LEAD, _AUDIT) as db:
            return admin.audit_events(
                db, host.strip() or None, technician.strip() or None, start, limit
            )

    @staticmethod
    def generate_password() -> str:
        return generate_password()
