"""Requesters and technicians from an LDAP / Active Directory directory (DESIGN.md §11).

The directory is read with ldap3 over TLS only, the server's certificate always verified
(`ldaps://`, or `ldap://` with StartTLS; against `--ca-file` or the system's CAs), so the bind
password never travels in clear. People come from a paged search, so a server's size limit
(Active Directory's MaxPageSize, 1000) does not cut the list; a search the server still cut
short is an error, never a short list, because everyone missing from the list would be
marked inactive. The whole directory is read before the central database is touched: any
failure leaves it as it was.

Entries become `RequesterRecord`s through an attribute map (`DEFAULT_MAP`, changed with
`--map ATTR=FIELD`); members of a technicians group become tier-1 agents without a password
unless enrolled already. The requesters' upsert itself is `workbench.sync.imports`.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ldap3 import ANONYMOUS, BASE, NONE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.core.results import RESULT_SIZE_LIMIT_EXCEEDED, RESULT_TIME_LIMIT_EXCEEDED

from workbench.core import secrets
from workbench.core.errors import BadInput, Problems, WorkbenchError
from workbench.core.imports import ImportReport, RequesterRecord
from workbench.core.labels import plural
from workbench.core.models import Role, Technician
from workbench.sync.admin import add_technician, admin_session, check_email, check_login
from workbench.sync.admin import technicians as enrolled_technicians
from workbench.sync.imports import ImportRefused, upsert_requesters

KEYRING_SERVICE = "workbench-ldap"  # account: the bind DN
# Below Active Directory's default MaxPageSize (1000), which caps bigger pages.
PAGE_SIZE = 500
# People, not AD's computer accounts (objectClass computer is a subclass of user, a person).
DEFAULT_FILTER = "(&(objectClass=person)(!(objectClass=computer)))"
CONNECT_TIMEOUT_S = 10
RECEIVE_TIMEOUT_S = 60
ACCOUNT_DISABLED = 0x2  # AD's ACCOUNTDISABLE bit of userAccountControl
FIELDS = ("email", "name", "phone", "department", "site", "login")

# Per field, the sources tried in order: the first with a value wins. A source of several
# attributes joins their values with a space (givenName+sn).
AttributeMap = Mapping[str, tuple[tuple[str, ...], ...]]
DEFAULT_MAP: AttributeMap = {
    "email": (("mail",),),
    "name": (("displayName",), ("cn",), ("givenName", "sn")),
    "phone": (("telephoneNumber",),),
    "department": (("department",), ("departmentNumber",)),  # AD's, inetOrgPerson's
    "site": (("l",), ("physicalDeliveryOfficeName",)),
    "login": (("uid",), ("sAMAccountName",)),  # for technicians
}


class DirectoryError(WorkbenchError):
    """The directory cannot be reached, is not trusted, or did not answer in full."""


_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# Fields `--map =FIELD` leaves out: the central keeps what it has for them.
OPTIONAL_FIELDS = ("phone", "department", "site")


def attribute_map(given: Iterable[str]) -> AttributeMap:
    """The default map, each field named by an `ATTR=FIELD` in `given` replaced by the
    attributes given for it, in their order (`givenName+sn=name` joins two; `=site` leaves
    the field out)."""
    replaced: dict[str, list[tuple[str, ...]]] = {}
    for item in given:
        attributes, equals, name = (part.strip() for part in item.partition("="))
        source = tuple(a.strip() for a in attributes.split("+")) if attributes else ()
        if not (
            equals
            and name in FIELDS
            and all(_ATTRIBUTE.fullmatch(a) for a in source)
            and (source or name in OPTIONAL_FIELDS)
        ):
            raise BadInput(
                f"--map {item!r}: use ATTRIBUTE=FIELD (ATTR+ATTR joins two; =FIELD leaves "
                f"{', '.join(OPTIONAL_FIELDS)} out), FIELD one of {', '.join(FIELDS)}"
            )
        replaced.setdefault(name, []).extend([source] if source else [])
    return {f: tuple(replaced[f]) if f in replaced else DEFAULT_MAP[f] for f in FIELDS}


def _given_fields(mapping: AttributeMap) -> set[str]:
    """The RequesterRecord fields the directory gives (the others stay as they are)."""
    return {"email", "name", "active"} | {f for f in OPTIONAL_FIELDS if mapping[f]}


@dataclass(frozen=True, slots=True)
class DirectoryServer:
    host: str
    port: int
    ldaps: bool  # else StartTLS on ldap://
    ca_file: Path | None  # None: the system's CAs

    @property
    def url(self) -> str:
        return f"{'ldaps' if self.ldaps else 'ldap'}://{self.host}:{self.port}"


def directory_server(url: str, starttls: bool, ca_file: Path | None) -> DirectoryServer:
    """Where the directory is, checked: TLS from the start (ldaps://) or by StartTLS
    (ldap:// with `starttls`), nothing in clear."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadInput(f"--ldap {url!r}: {exc}") from None
    if parts.scheme not in ("ldaps", "ldap") or not parts.hostname or parts.path not in ("", "/"):
        raise BadInput(
            f"--ldap {url!r}: give ldaps://HOST[:PORT] (or ldap://HOST[:PORT] --starttls)"
        )
    ldaps = parts.scheme == "ldaps"
    if ldaps and starttls:
        raise BadInput("--starttls is for ldap://; ldaps:// is TLS from the start")
    if not ldaps and not starttls:
        raise BadInput(f"{url} would send the password in clear: use ldaps://, or add --starttls")
    if ca_file is not None:
        try:
            ssl.create_default_context(cafile=str(ca_file))
        except (ssl.SSLError, OSError) as exc:
            raise BadInput(f"--ca-file {ca_file}: no CA certificate in it ({exc})") from None
    return DirectoryServer(parts.hostname, port or (636 if ldaps else 389), ldaps, ca_file)


@dataclass(frozen=True, slots=True)
class Bind:
    """Who reads the directory: a DN and its password, or anonymous (dn None)."""

    dn: str | None
    password: str | None = field(default=None, repr=False)
    from_keyring: bool = False  # named in a refusal: the stored password may be stale


def stored_password(bind_dn: str) -> str | None:
    """The bind password kept in the keyring (service workbench-ldap, account the bind DN);
    None when there is none or no keyring to ask (then the password is asked for)."""
    return secrets.get_secret(
        KEYRING_SERVICE, bind_dn, "read the LDAP bind password", no_keyring_is_none=True
    )


@dataclass(frozen=True, slots=True)
class DirectorySearch:
    base: str
    filter: str = DEFAULT_FILTER
    attributes: AttributeMap = field(default_factory=lambda: DEFAULT_MAP)
    technicians_group: str | None = None
    page_size: int = PAGE_SIZE


@dataclass(frozen=True, slots=True)
class Skipped:
    dn: str
    reason: str


@dataclass(frozen=True, slots=True)
class DirectoryListing:
    """What the directory holds: the people as requesters (`line` = their entry's place in
    `dns`, from 1), the technicians to enrol if they are not yet, the entries left out."""

    dns: tuple[str, ...]  # of every entry the search returned, in its order
    requesters: tuple[RequesterRecord, ...]
    technicians: tuple[Technician, ...]
    skipped: tuple[Skipped, ...]


def read_directory(
    server: DirectoryServer, search: DirectorySearch, bind: Bind
) -> DirectoryListing:
    if bind.dn and not bind.password:
        # LDAP takes a DN with an empty password as an unauthenticated bind, which servers
        # may let through without checking anything.
        raise BadInput(f"no password for {bind.dn}: an empty one would bind unauthenticated")
    connection = _connection(server, bind)
    try:
        _open(connection, server, bind)
        members = _group_members(connection, server, search) if search.technicians_group else []
        entries = _people(connection, server, search)
    finally:
        # After a failed handshake the socket is gone and even the unbind would fail.
        with suppress(ldap_errors.LDAPException):
            connection.unbind()
    return _listing(entries, members, search)


# --- talking to the directory -------------------------------------------------------------


def _connection(server: DirectoryServer, bind: Bind) -> Connection:
    tls = Tls(
        validate=ssl.CERT_REQUIRED,
        ca_certs_file=str(server.ca_file) if server.ca_file else None,
    )
    return Connection(
        Server(
            server.host,
            port=server.port,
            use_ssl=server.ldaps,
            tls=tls,
            get_info=NONE,  # no schema read: AD's is large, and nothing here needs it
            connect_timeout=CONNECT_TIMEOUT_S,
        ),
        user=bind.dn,
        password=bind.password,
        authentication=SIMPLE if bind.dn else ANONYMOUS,
        read_only=True,
        raise_exceptions=True,
        auto_referrals=False,  # AD's continuation references point at other domains
        receive_timeout=RECEIVE_TIMEOUT_S,
    )


def _open(connection: Connection, server: DirectoryServer, bind: Bind) -> None:
    with _talking(server, "connect"):
        connection.open()
    if not server.ldaps:
        with _talking(server, "StartTLS"):
            connection.start_tls()
    who = f"bind as {bind.dn}" if bind.dn else "anonymous bind"
    with _talking(server, who + (" (password from the keyring)" if bind.from_keyring else "")):
        connection.bind()


def _group_members(
    connection: Connection, server: DirectoryServer, search: DirectorySearch
) -> list[str]:
    """The member DNs of a groupOfNames or an AD group (ldap3 follows AD's ranged values)."""
    group = search.technicians_group
    with _talking(server, f"read --technicians-group {group}"):
        connection.search(group, "(objectClass=*)", BASE, attributes=["member"])
    found = [e for e in connection.response or () if e.get("type") == "searchResEntry"]
    return [str(m) for e in found for m in e["attributes"].get("member", ())]


def _people(
    connection: Connection, server: DirectoryServer, search: DirectorySearch
) -> list[tuple[str, Mapping[str, list[object]]]]:
    wanted = sorted(
        {a for sources in search.attributes.values() for s in sources for a in s}
        | {"userAccountControl"}
    )
    entries: list[tuple[str, Mapping[str, list[object]]]] = []
    with _talking(server, f"search under --base {search.base} with {search.filter}"):
        for entry in connection.extend.standard.paged_search(
            search.base,
            search.filter,
            SUBTREE,
            attributes=wanted,
            paged_size=search.page_size,
            generator=True,
        ):
            if entry.get("type") == "searchResEntry":  # not AD's references elsewhere
                entries.append((entry["dn"], entry["attributes"]))
    # ldap3 raises for neither limit: the last page's result says whether the server stopped.
    result = connection.result or {}
    if result.get("result") in (RESULT_SIZE_LIMIT_EXCEEDED, RESULT_TIME_LIMIT_EXCEEDED):
        raise DirectoryError(
            f"directory {server.url} stopped the search after {len(entries)} entries "
            f"({result.get('description')}), even paged; allow this account more "
            "(OpenLDAP: olcLimits size.prtotal) or narrow --base; nothing changed"
        )
    return entries


@contextmanager
def _talking(server: DirectoryServer, doing: str) -> Iterator[None]:
    """LDAP failures as one line naming the server and what it was asked (ldap3's texts and
    ours never hold the password)."""
    try:
        yield
    except ldap_errors.LDAPInvalidCredentialsResult:
        raise BadInput(
            f"directory {server.url}: {doing}: wrong password or no such account"
        ) from None
    except ldap_errors.LDAPNoSuchObjectResult:
        raise BadInput(f"directory {server.url}: {doing}: no such entry") from None
    except (ldap_errors.LDAPInvalidDNSyntaxResult, ldap_errors.LDAPInvalidDnError):
        raise BadInput(f"directory {server.url}: {doing}: not a valid DN") from None
    except ldap_errors.LDAPInvalidFilterError:
        raise BadInput(f"directory {server.url}: {doing}: not a valid LDAP filter") from None
    except ldap_errors.LDAPAdminLimitExceededResult:
        raise BadInput(
            f"directory {server.url}: {doing}: the server refuses pages this big; "
            "give a smaller --page-size"
        ) from None
    except ldap_errors.LDAPOperationResult as exc:
        said = f"{exc.description}{f' ({exc.message})' if exc.message else ''}"
        raise BadInput(f"directory {server.url}: {doing}: {said}") from None
    except (
        ldap_errors.LDAPCommunicationError,
        ldap_errors.LDAPStartTLSError,
        ldap_errors.LDAPCertificateError,
    ) as exc:
        raise DirectoryError(f"directory {server.url}: {doing}: {_transport_reason(exc)}") from None
    except ldap_errors.LDAPException as exc:
        raise DirectoryError(f"directory {server.url}: {doing}: {exc}") from None


def _transport_reason(exc: Exception) -> str:
    text = str(exc)
    untrusted = re.search(r"certificate verify failed: ([^('\"]+)", text)
    if untrusted:
        return (
            f"its certificate is not trusted ({untrusted.group(1).strip()}); "
            "give --ca-file with the CA that signed it"
        )
    if "doesn't match" in text:
        return "its certificate is not issued for this host name"
    refused = re.search(r"\[Errno -?\d+\] ([^'\"\]]+)", text)
    return refused.group(1).strip() if refused else text.strip("()',")


# --- entries to records -------------------------------------------------------------------


def _first(attributes: Mapping[str, list[object]], name: str) -> str:
    for value in attributes.get(name, ()):
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if text.strip():
            return text.strip()
    return ""


def _field(attributes: Mapping[str, list[object]], sources: Sequence[tuple[str, ...]]) -> str:
    for source in sources:
        joined = " ".join(v for v in (_first(attributes, a) for a in source) if v)
        if joined:
            return joined
    return ""


def _disabled(attributes: Mapping[str, list[object]]) -> bool:
    control = _first(attributes, "userAccountControl")
    return control.isascii() and control.isdigit() and bool(int(control) & ACCOUNT_DISABLED)


_DN_SEPARATOR = re.compile(r"\s*([,=+])\s*")


def _dn_key(dn: str) -> str:
    """A DN compared as LDAP does: case and spaces around separators do not count."""
    return _DN_SEPARATOR.sub(r"\1", dn.strip()).casefold()


def _listing(
    entries: Sequence[tuple[str, Mapping[str, list[object]]]],
    members: Sequence[str],
    search: DirectorySearch,
) -> DirectoryListing:
    wanted = {_dn_key(m): m for m in members}
    requesters: dict[str, RequesterRecord] = {}
    first_with: dict[str, str] = {}
    technicians: dict[str, tuple[str, Technician]] = {}  # login: (dn, technician)
    skipped: list[Skipped] = []
    for line, (dn, attributes) in enumerate(entries, start=1):
        email = _field(attributes, search.attributes["email"])
        name = _field(attributes, search.attributes["name"]) or email
        active = not _disabled(attributes)
        if wanted and _dn_key(dn) in wanted:
            del wanted[_dn_key(dn)]
            tech = _technician(dn, attributes, search.attributes, name, email, active)
            if isinstance(tech, Skipped):
                skipped.append(tech)
            elif tech.login in technicians:
                skipped.append(Skipped(dn, f"the same login as {technicians[tech.login][0]}"))
            else:
                technicians[tech.login] = (dn, tech)
        if not email:
            skipped.append(Skipped(dn, "no e-mail address: not a requester"))
            continue
        try:
            check_email(email)
        except BadInput as exc:
            skipped.append(Skipped(dn, str(exc)))
            continue
        key = email.casefold()
        if key in requesters:
            skipped.append(Skipped(dn, f"the same e-mail address as {first_with[key]}"))
            continue
        first_with[key] = dn
        requesters[key] = RequesterRecord(
            email=email,
            name=name,
            phone=_field(attributes, search.attributes["phone"]),
            department=_field(attributes, search.attributes["department"]),
            site=_field(attributes, search.attributes["site"]),
            active=active,
            line=line,
        )
    skipped += (
        Skipped(m, "in --technicians-group but not found by the search (--base, --filter)")
        for m in wanted.values()
    )
    return DirectoryListing(
        tuple(dn for dn, _ in entries),
        tuple(requesters.values()),
        tuple(sorted((t for _, t in technicians.values()), key=lambda t: t.login)),
        tuple(skipped),
    )


def _technician(
    dn: str,
    attributes: Mapping[str, list[object]],
    mapping: AttributeMap,
    name: str,
    email: str,
    active: bool,
) -> Technician | Skipped:
    if not active:
        return Skipped(dn, "in --technicians-group but disabled in the directory")
    login = _field(attributes, mapping["login"]).casefold()
    try:
        check_login(login)
    except BadInput as exc:
        return Skipped(dn, f"in --technicians-group, but {exc}")
    return Technician(login, name, 1, Role.AGENT, (), email)


# --- into the central database ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirectoryImport:
    directory: str  # the server's URL
    base: str
    entries: int
    requesters: ImportReport
    enrolled: tuple[str, ...]  # technicians' logins
    already_enrolled: tuple[str, ...]  # left as they are
    skipped: tuple[Skipped, ...]
    dry_run: bool


def import_directory(
    central_url: str,
    server: DirectoryServer,
    search: DirectorySearch,
    listing: DirectoryListing,
    dry_run: bool = False,
) -> DirectoryImport:
    """Upsert the requesters (those no longer listed become inactive, never deleted) and enrol
    the technicians not enrolled yet, in one transaction (rolled back for `dry_run`); a
    refused entry (a site the central lacks, …) refuses all of it."""
    if not listing.requesters:
        # Everyone on the central would be marked inactive.
        raise BadInput(
            f"the search under {search.base} found nobody with an e-mail address "
            f"({len(listing.dns)} entries); nothing changed"
        )
    with admin_session(central_url, Role.ADMIN, "import the directory") as session:
        session.dry_run = dry_run
        try:
            report = upsert_requesters(
                session,
                listing.requesters,
                deactivate_missing=True,
                fields=_given_fields(search.attributes),
                source=f"directory {server.url} ({search.base})",
            )
        except ImportRefused as refused:
            lines = [f"{listing.dns[r.line - 1]}: {r.reason}" for r in refused.report.refused]
            refused_count = plural(len(lines), "entry", "entries")
            raise Problems(f"nothing imported: {refused_count} refused", lines) from None
        known = {t.login for t in enrolled_technicians(session.db)}
        for tech in listing.technicians:
            if tech.login not in known:
                add_technician(session, tech, password=None)
    return DirectoryImport(
        server.url,
        search.base,
        len(listing.dns),
        report,
        tuple(t.login for t in listing.technicians if t.login not in known),
        tuple(t.login for t in listing.technicians if t.login in known),
        listing.skipped,
        dry_run,
    )
