"""A real OpenLDAP slapd on loopback ports for tests (DESIGN.md section 8).

``slapd_server`` (session) runs ``slapd`` from a throw-away ``slapd.d`` (made with
``slapadd -n0`` from a generated cn=config LDIF) with an mdb database in a temp dir, suffix
``dc=example,dc=test``, both ``ldap://`` (StartTLS) and ``ldaps://`` on 127.0.0.1, and a server
certificate signed by a throw-away CA (``ca_file``, for ``--ca-file``). It holds ``STAFF``
(OpenLDAP-style inetOrgPersons and Active Directory-style users, from OpenLDAP's own msuser
schema), an AD computer object, and the groupOfNames ``TECHNICIANS_GROUP``.

Imports bind as ``reader_dn``, a plain account: the size limit (``size_limit``, 50 by default)
applies to it, not to the admin (the rootdn is never limited). As in Active Directory, a paged
search may return more than the limit in total (``size.prtotal=unlimited``), except for
``LIMITED_READER_DN`` (same password), whose paged searches stop at the limit as well.

Online changes go through ldap-utils (``ldapadd``, ``ldapdelete``) as the admin; ``branch``
makes a subtree of its own for a test that changes people, removed at its end.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.certificates import ca_signed_server
from tests.support.services import ServiceStartError, log_tail, require_or_skip, stop_process

APT_PACKAGES = "slapd ldap-utils"
HOST = "127.0.0.1"
SUFFIX = "dc=example,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICES = f"ou=services,{SUFFIX}"
ADMIN_DN = f"cn=admin,{SUFFIX}"
READER_DN = f"cn=workbench-reader,{SERVICES}"
# Like OpenLDAP's default for everyone: its paged searches stop at the size limit too.
LIMITED_READER_DN = f"cn=limited-reader,{SERVICES}"
TECHNICIANS_GROUP = f"cn=technicians,{GROUPS}"
SCHEMA_DIR = Path("/etc/ldap/schema")
# nis is there because msuser's classes name its attributes (homeDirectory, …).
SCHEMAS = ("core", "cosine", "nis", "inetorgperson", "msuser")

_READY_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class Person:
    """One person of the test directory: an inetOrgPerson, or with ``active_directory`` an AD
    user (objectClass user, sAMAccountName, department, physicalDeliveryOfficeName,
    userAccountControl)."""

    login: str  # uid, or an AD user's sAMAccountName
    given_name: str
    surname: str
    mail: str = ""  # "" for an entry without one, such as a service account
    display_name: str = ""
    phone: str = ""
    department: str = ""  # departmentNumber of an inetOrgPerson, department in AD
    office: str = ""  # l of an inetOrgPerson, physicalDeliveryOfficeName in AD
    active_directory: bool = False
    disabled: bool = False  # AD's ACCOUNTDISABLE bit in userAccountControl

    @property
    def cn(self) -> str:
        return f"{self.given_name} {self.surname}"

    def dn(self, parent: str = PEOPLE) -> str:
        # AD names users by cn, OpenLDAP directories mostly by uid.
        return f"cn={self.cn},{parent}" if self.active_directory else f"uid={self.login},{parent}"

    def ldif(self, parent: str = PEOPLE) -> str:
        if self.active_directory:
            attributes = [
                *_ad_object("user"),
                ("sAMAccountName", self.login),
                ("userAccountControl", "514" if self.disabled else "512"),
                ("department", self.department),
                ("physicalDeliveryOfficeName", self.office),
            ]
        else:
            attributes = [
                ("objectClass", "inetOrgPerson"),
                ("uid", self.login),
                ("departmentNumber", self.department),
                ("l", self.office),
            ]
        attributes += [
            ("cn", self.cn),
            ("givenName", self.given_name),
            ("sn", self.surname),
            ("mail", self.mail),
            ("displayName", self.display_name),
            ("telephoneNumber", self.phone),
        ]
        return _entry(self.dn(parent), attributes)


def _ad_object(structural: str) -> list[tuple[str, str]]:
    """What msuser's AD classes must have (mstop's MUST attributes), plus the AD attributes
    msuser leaves out of them (in ``adAccountExtras``, our auxiliary class)."""
    return [
        ("objectClass", structural),
        ("objectClass", "adAccountExtras"),
        ("instanceType", "4"),
        ("nTSecurityDescriptor", "test"),
        ("objectCategory", f"cn={structural},cn=Schema,cn=Configuration,{SUFFIX}"),
    ]


STAFF = (
    Person("ana.lopez", "Ana", "López", "ana.lopez@example.test", "Ana López",
           "+1 360 555 0101", "Accounting", "Olympia HQ"),
    # No displayName: the name comes from cn.
    Person("ben.okafor", "Ben", "Okafor", "ben.okafor@example.test", "",
           "+1 360 555 0102", "Facilities", "Olympia HQ"),
    Person("CWei", "Chen", "Wei", "chen.wei@example.test", "Chen Wei (IT)",
           "+1 360 555 0103", "IT", "Olympia HQ", active_directory=True),
    Person("DKim", "Dana", "Kim", "dana.kim@example.test", "Dana Kim",
           "+1 360 555 0104", "Legal", "Olympia HQ", active_directory=True, disabled=True),
    Person("eve.martin", "Eve", "Martin", "eve.martin@example.test", "Eve Martin",
           "+1 360 555 0105", "IT", "Olympia HQ"),
    Person("svc-backup", "Backup", "Service"),  # a service account: no mail, not a requester
)  # fmt: skip
# An AD computer account (objectClass computer, a subclass of user): not a person to import.
COMPUTER_DN = f"cn=OLY-ACC-LT0421,{PEOPLE}"
# Two to enrol (Chen, Eve), one enrolled already in tests/support/workbench's cast (Ben), one
# disabled (Dana) and one outside the people (the reader account).
TECHNICIAN_MEMBERS = tuple(
    p.dn() for p in STAFF if p.login in ("CWei", "eve.martin", "ben.okafor", "DKim")
) + (READER_DN,)


def numbered_people(count: int, prefix: str = "person") -> Iterator[Person]:
    """``count`` inetOrgPersons with every default attribute, for bulk loads."""
    for n in range(1, count + 1):
        yield Person(
            f"{prefix}{n:05d}", "Person", f"{prefix.title()} {n:05d}",
            f"{prefix}{n:05d}@example.test", f"Person {n:05d}", f"+1 360 555 {n % 10000:04d}",
            f"Department {n % 40}", "Olympia HQ",
        )  # fmt: skip


def _ldif_line(attribute: str, value: str) -> str:
    # LDIF (RFC 2849) takes only plain ASCII as it is; anything else goes base64-encoded.
    safe = value.isascii() and value.isprintable() and not value.startswith((" ", ":", "<"))
    if safe and not value.endswith(" "):
        return f"{attribute}: {value}"
    return f"{attribute}:: {base64.b64encode(value.encode()).decode('ascii')}"


def _entry(dn: str, attributes: Iterable[tuple[str, str]]) -> str:
    lines = [_ldif_line("dn", dn), *(_ldif_line(a, v) for a, v in attributes if v)]
    return "\n".join(lines) + "\n\n"


def _rdn_value(dn: str) -> str:
    return dn.split(",", maxsplit=1)[0].split("=", maxsplit=1)[1]


def _unit(dn: str) -> str:
    return _entry(dn, [("objectClass", "organizationalUnit"), ("ou", _rdn_value(dn))])


def group_ldif(dn: str, members: Sequence[str]) -> str:
    member_attributes = [("member", m) for m in members]
    return _entry(dn, [("objectClass", "groupOfNames"), ("cn", _rdn_value(dn)), *member_attributes])


def _data_ldif(reader_password: str, people: Iterable[Person], members: Sequence[str]) -> str:
    suffix = _entry(
        SUFFIX, [("objectClass", "dcObject"), ("objectClass", "organization"), ("dc", "example"),
                 ("o", "Example Agency")],
    )  # fmt: skip
    readers = "".join(
        _entry(dn, [("objectClass", "person"), ("cn", _rdn_value(dn)), ("sn", "reader"),
                    ("userPassword", reader_password)])
        for dn in (READER_DN, LIMITED_READER_DN)
    )  # fmt: skip
    computer = _entry(
        COMPUTER_DN, [*_ad_object("computer"), ("cn", "OLY-ACC-LT0421"), ("sn", "OLY-ACC-LT0421"),
                      ("sAMAccountName", "OLY-ACC-LT0421$")],
    )  # fmt: skip
    parts = [suffix, _unit(SERVICES), readers, _unit(PEOPLE), computer, _unit(GROUPS)]
    parts += (p.ldif() for p in people)
    if members:  # groupOfNames needs a member
        parts.append(group_ldif(TECHNICIANS_GROUP, members))
    return "".join(parts)


def _config_ldif(base: Path, size_limit: int, admin_password: str) -> str:
    schemas = "".join(f"include: file://{SCHEMA_DIR / name}.ldif\n" for name in SCHEMAS)
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {base / "slapd.pid"}
olcTLSCertificateFile: {base / "server.pem"}
olcTLSCertificateKeyFile: {base / "server.key"}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}
# AD has sAMAccountName and department on users; msuser defines them but no class of it
# allows them, so AD-style test entries carry this auxiliary class too.
dn: cn=adextras,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adextras
olcObjectClasses: ( 1.3.6.1.4.1.4203.666.11.77.1 NAME 'adAccountExtras' SUP top AUXILIARY
  MAY ( sAMAccountName $ department ) )

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcDbDirectory: {base / "db"}
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {admin_password}
olcDbMaxSize: 1073741824
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,mail,cn eq
olcDbIndex: member eq
# Like Active Directory's MaxPageSize: a plain search stops at the limit, a paged one goes on.
olcSizeLimit: size.soft={size_limit} size.hard={size_limit} size.prtotal=unlimited
olcLimits: dn.exact="{LIMITED_READER_DN}" size.soft={size_limit} size.hard={size_limit}
  size.prtotal={size_limit}
olcAccess: {{0}}to attrs=userPassword by anonymous auth by * none
olcAccess: {{1}}to * by users read by * none
"""


@dataclass(frozen=True)
class SlapdServer:
    host: str
    port: int  # ldap:// (StartTLS)
    tls_port: int  # ldaps://
    ca_file: Path  # the CA that signed the server's certificate
    size_limit: int
    admin_password: str
    reader_dn: str
    reader_password: str
    _password_file: Path  # the admin password for ldap-utils' -y, never on a command line

    @property
    def ldap_url(self) -> str:
        return f"ldap://{self.host}:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.host}:{self.tls_port}"

    def _ldap_tool(self, tool: str, *args: str, ldif: str = "") -> None:
        result = subprocess.run(
            [tool, "-x", "-H", self.ldap_url, "-D", ADMIN_DN, "-y", str(self._password_file),
             *args],
            input=ldif, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed: {result.stderr.strip()}")

    def add(self, ldif: str) -> None:
        """Add the entries of ``ldif`` (parents first)."""
        self._ldap_tool("ldapadd", ldif=ldif)

    def add_people(self, people: Iterable[Person], parent: str = PEOPLE) -> None:
        self.add("".join(p.ldif(parent) for p in people))

    def remove(self, dn: str) -> None:
        """Delete ``dn`` and everything under it."""
        self._ldap_tool("ldapdelete", "-r", dn)

    @contextlib.contextmanager
    def branch(self, people: Iterable[Person], members: Sequence[Person] = ()) -> Iterator[str]:
        """A subtree of the test's own (its DN, for --base) holding ``people`` and, with
        ``members``, a groupOfNames ``cn=technicians`` of them; deleted afterwards."""
        dn = f"ou=test-{uuid.uuid4().hex[:8]},{SUFFIX}"
        listed = list(people)
        group = group_ldif(f"cn=technicians,{dn}", [m.dn(dn) for m in members]) if members else ""
        self.add(_unit(dn) + "".join(p.ldif(dn) for p in listed) + group)
        try:
            yield dn
        finally:
            self.remove(dn)


def find_slapd() -> tuple[Path, Path] | None:
    """slapd and slapadd (Debian puts them in /usr/sbin, which a user's PATH may lack)."""
    found = []
    for tool in ("slapd", "slapadd"):
        path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/local/sbin")
        if path is None:
            return None
        found.append(Path(path))
    if shutil.which("ldapadd") is None or shutil.which("ldapdelete") is None:
        return None
    return found[0], found[1]


def _run_checked(cmd: Sequence[str], what: str, timeout: float = 300) -> None:
    result = subprocess.run(
        list(cmd), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise ServiceStartError(
            f"{what} failed: $ {' '.join(cmd)}\n{result.stdout.strip()}\n{result.stderr.strip()}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), 1):
            return True
    except OSError:
        return False


def _wait_ready(proc: subprocess.Popen[bytes], ports: Sequence[int], logfile: Path) -> bool:
    """True once slapd accepts connections on every port; False if it exited."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if all(_accepts(port) for port in ports):
            return True
        time.sleep(0.05)
    raise ServiceStartError(
        f"slapd did not answer on {HOST}:{ports} within {_READY_TIMEOUT_S:.0f}s\n"
        f"--- {logfile} ---\n{log_tail(logfile)}"
    )


@contextlib.contextmanager
def running_slapd(
    slapd: Path,
    slapadd: Path,
    people: Iterable[Person] = STAFF,
    members: Sequence[str] = TECHNICIAN_MEMBERS,
    size_limit: int = 50,
) -> Iterator[SlapdServer]:
    """Run slapd for the ``with`` block with ``people`` under ``PEOPLE`` and ``members`` in
    ``TECHNICIANS_GROUP`` (loaded offline with slapadd, fast for thousands); raises
    ServiceStartError if it cannot start."""
    base = Path(tempfile.mkdtemp(prefix="workbench-slapd-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        (base / "slapd.d").mkdir()
        (base / "db").mkdir()
        ca_file = ca_signed_server(base, "Workbench test LDAP CA").ca
        admin_password = secrets.token_urlsafe(16)
        reader_password = secrets.token_urlsafe(16)
        password_file = base / "admin.password"
        password_file.write_text(admin_password, encoding="ascii")  # -y: no newline
        password_file.chmod(0o600)
        config, data = base / "config.ldif", base / "data.ldif"
        config.write_text(_config_ldif(base, size_limit, admin_password), encoding="utf-8")
        data.write_text(_data_ldif(reader_password, people, members), encoding="utf-8")
        slapd_d = str(base / "slapd.d")
        _run_checked([str(slapadd), "-n0", "-F", slapd_d, "-l", str(config)], "slapadd (config)")
        # -q: no consistency checks, much faster for bulk loads; the data is generated.
        _run_checked([str(slapadd), "-n1", "-q", "-F", slapd_d, "-l", str(data)], "slapadd")
        logfile = base / "slapd.log"
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            ports = (_free_port(), _free_port())
            listen = f"ldap://{HOST}:{ports[0]}/ ldaps://{HOST}:{ports[1]}/"
            with logfile.open("wb") as log:
                # -d keeps slapd in the foreground (so it is this process to stop), logging
                # only what goes wrong.
                proc = subprocess.Popen(
                    [str(slapd), "-F", slapd_d, "-h", listen, "-d", "0"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=base,
                )  # fmt: skip
            procs.append(proc)
            if _wait_ready(proc, ports, logfile):
                break
            # Only a port taken since _free_port() is worth a retry.
            if attempt == _PORT_ATTEMPTS or "Address already in use" not in log_tail(logfile):
                raise ServiceStartError(
                    f"slapd exited with status {proc.returncode}\n"
                    f"--- {logfile} ---\n{log_tail(logfile)}"
                )
        yield SlapdServer(
            host=HOST,
            port=ports[0],
            tls_port=ports[1],
            ca_file=ca_file,
            size_limit=size_limit,
            admin_password=admin_password,
            reader_dn=READER_DN,
            reader_password=reader_password,
            _password_file=password_file,
        )
    finally:
        for proc in procs:
            stop_process(proc)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[SlapdServer]:
    """A real OpenLDAP server on 127.0.0.1 for the whole session (see module docstring)."""
    tools = find_slapd()
    if tools is None:
        require_or_skip(f"OpenLDAP slapd, slapadd or ldapadd not found: apt install {APT_PACKAGES}")
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_slapd(*tools))
        except (ServiceStartError, OSError, subprocess.SubprocessError) as exc:
            failure = f"could not start slapd ({tools[0]}): {exc}"
        else:
            yield server
            return
    # Outside the except block: the message already holds the cause and the server log.
    require_or_skip(failure)
