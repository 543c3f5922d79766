"""A real PostgreSQL server for tests (DESIGN.md section 8).

``pg_server`` (session) is either the server named by ``WORKBENCH_TEST_PG_URL``
or a throw-away cluster made with ``initdb``/``pg_ctl`` in a temp dir, listening
on 127.0.0.1 with trust auth for the superuser (SCRAM-SHA-256 for every other role),
stopped and deleted at the end of the session.
``pg_database`` (function) is a freshly created, empty database on it, dropped
after the test.

The external server must be PostgreSQL 13+ (``DROP DATABASE ... WITH (FORCE)``)
and the URL's role needs CREATEDB.
"""

from __future__ import annotations

import contextlib
import importlib.util
import ipaddress
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tests.support.services import ServiceStartError, log_tail, require_or_skip

PG_URL_ENV = "WORKBENCH_TEST_PG_URL"
APT_PACKAGE = "postgresql"
DEFAULT_DATABASE = "workbench_test"
SUPERUSER = "postgres"
HOST = "127.0.0.1"

_START_TIMEOUT_S = 30
_PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class PgServer:
    """A reachable PostgreSQL server; ``url`` is a SQLAlchemy URL (psycopg 3 driver)."""

    url: str
    host: str
    port: int
    # The throw-away cluster's self-signed TLS certificate (None: an external server).
    certificate: Path | None = None

    def database_url(self, name: str) -> str:
        """URL of database ``name`` on this server, same credentials."""
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create_database(self, prefix: str = "wb_test") -> str:
        """CREATE a new, uniquely named empty database and return its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        _admin_execute(self.url, f'CREATE DATABASE "{name}"')
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """DROP the database named by ``url``, even if a test left connections open."""
        name = make_url(url).database
        if not name:
            raise ValueError(f"URL names no database: {url!r}")
        if name == make_url(self.url).database:
            raise ValueError("refusing to drop the server's own database")
        _admin_execute(self.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_execute(url: str, statement: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def _with_psycopg_driver(url: URL) -> URL:
    # A plain postgresql:// URL would make SQLAlchemy look for psycopg2.
    if url.drivername in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+psycopg")
    return url


def _version_key(bindir: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin: sort "15" above "9.6" numerically.
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


def find_pg_bindir() -> Path | None:
    """Directory with ``initdb`` and ``pg_ctl``: Debian's versioned dirs newest first, else PATH.

    The PATH ``pg_ctl`` may be a wrapper (Debian's pg_wrapper, a symlink), so the
    real binaries are preferred and the PATH one is resolved before use.
    """
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _run(cmd: Sequence[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(cmd),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _describe(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"$ {' '.join(result.args)}\nexit status {result.returncode}\n"
        f"stdout:\n{result.stdout.strip()}\nstderr:\n{result.stderr.strip()}"
    )


class TempPgCluster:
    """A PostgreSQL cluster in a temp dir; ``start()`` then ``stop()`` (which deletes it)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # PostgreSQL refuses to run as root, so as root everything runs as `postgres`.
        self._as_root = os.geteuid() == 0
        self._prefix: list[str] = ["runuser", "-u", SUPERUSER, "--"] if self._as_root else []
        # /tmp is world-traversable; pytest's basetemp (/tmp/pytest-of-root, 0700) is not.
        self.base = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
        self.datadir = self.base / "data"
        self.logfile = self.base / "server.log"
        self.certificate = self.base / "root.crt"
        self.port = 0

    def _cmd(self, tool: str, *args: str) -> list[str]:
        return [*self._prefix, str(self.bindir / tool), *args]

    def _check_can_run(self) -> None:
        if not self._as_root:
            return
        if shutil.which("runuser") is None:
            raise ServiceStartError("running as root but `runuser` (util-linux) is missing")
        try:
            pw = pwd.getpwnam(SUPERUSER)
        except KeyError as exc:
            raise ServiceStartError(
                f"running as root and there is no `{SUPERUSER}` system user to run PostgreSQL as "
                f"(apt install {APT_PACKAGE})"
            ) from exc
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        probe = _run([*self._prefix, "test", "-w", str(self.base)], self.base, 10)
        if probe.returncode != 0:
            raise ServiceStartError(
                f"user `{SUPERUSER}` cannot write {self.base}: is a parent of "
                f"{tempfile.gettempdir()} not traversable? Set TMPDIR=/tmp.\n{_describe(probe)}"
            )

    def _initdb(self) -> None:
        # C.UTF-8 (built into glibc) sorts by code point like C, deterministically, yet
        # upper()/lower() work on non-ASCII text; plain C is the fallback elsewhere.
        locale = "C.UTF-8" if Path("/usr/lib/locale/C.utf8").exists() else "C"
        result = _run(
            self._cmd(
                "initdb",
                "-D", str(self.datadir),
                "-U", SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                f"--locale={locale}",
                "--no-sync",  # a throw-away cluster needs no durability
            ),
            self.base,
            120,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServiceStartError(f"initdb failed\n{_describe(result)}")
        # Replace initdb's pg_hba.conf: only loopback and our private socket. The superuser
        # (the tests' admin account) is trusted; every other role, such as a technician's
        # own login, signs in with its SCRAM-SHA-256 password over TCP.
        (self.datadir / "pg_hba.conf").write_text(
            f"local all all trust\n"
            f"host all {SUPERUSER} {HOST}/32 trust\nhost all {SUPERUSER} ::1/128 trust\n"
            f"host all all {HOST}/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n",
            encoding="utf-8",
        )
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# tests/support/postgres.py\n"
                f"listen_addresses = '{HOST}'\n"
                f"unix_socket_directories = '{self.base}'\n"
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
                "logging_collector = off\n"
                "ssl = on\n"
            )
        self._make_certificate()

    def _make_certificate(self) -> None:
        """A self-signed certificate for 127.0.0.1 (server.crt and server.key, PostgreSQL's
        default names): the server offers TLS, and a client can verify it against the copy
        at ``certificate``."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=7))
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), False
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256())
        )
        pem = certificate.public_bytes(serialization.Encoding.PEM)
        self.certificate.write_bytes(pem)
        (self.datadir / "server.crt").write_bytes(pem)
        key_file = self.datadir / "server.key"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        key_file.chmod(0o600)  # PostgreSQL refuses a key others can read
        if self._as_root:
            owner = pwd.getpwnam(SUPERUSER)
            for made in (self.datadir / "server.crt", key_file):
                os.chown(made, owner.pw_uid, owner.pw_gid)

    def _pg_ctl_start(self, port: int) -> subprocess.CompletedProcess[str]:
        # The port goes on the command line so a retry on a port clash needs no config edit.
        return _run(
            self._cmd(
                "pg_ctl", "start", "-D", str(self.datadir), "-l", str(self.logfile),
                "-w", "-t", str(_START_TIMEOUT_S), "-o", f"-p {port}",
            ),
            self.base,
            _START_TIMEOUT_S + 15,
        )  # fmt: skip

    def start(self) -> None:
        self._check_can_run()
        self._initdb()
        for _attempt in range(_PORT_ATTEMPTS):
            port = _free_port()
            result = self._pg_ctl_start(port)
            if result.returncode == 0:
                self.port = port
                return
            # Another process may have grabbed the free port in between: try another.
            if "could not bind" not in log_tail(self.logfile):
                break
        raise ServiceStartError(
            f"pg_ctl start failed\n{_describe(result)}\n"
            f"--- {self.logfile} ---\n{log_tail(self.logfile)}"
        )

    def _kill_postmaster(self) -> None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid_line = (self.datadir / "postmaster.pid").read_text().splitlines()[0]
            os.kill(int(pid_line), signal.SIGKILL)

    def stop(self) -> None:
        """Stop the server (immediate: nothing needs to survive) and delete the cluster."""
        try:
            if (self.datadir / "postmaster.pid").exists():
                result = _run(
                    self._cmd("pg_ctl", "stop", "-D", str(self.datadir), "-m", "immediate", "-w"),
                    self.base,
                    30,
                )
                if result.returncode != 0:
                    self._kill_postmaster()
        except subprocess.TimeoutExpired:
            self._kill_postmaster()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _serve(cluster: TempPgCluster) -> PgServer:
    cluster.start()
    admin_url = URL.create(
        "postgresql+psycopg", username=SUPERUSER, host=HOST, port=cluster.port, database="postgres"
    ).render_as_string(hide_password=False)
    _admin_execute(admin_url, f'CREATE DATABASE "{DEFAULT_DATABASE}"')
    server = PgServer(url=admin_url, host=HOST, port=cluster.port)
    return PgServer(
        server.database_url(DEFAULT_DATABASE), HOST, cluster.port, certificate=cluster.certificate
    )


@contextlib.contextmanager
def temp_pg_server(bindir: Path) -> Iterator[PgServer]:
    """Run a throw-away cluster with a ``workbench_test`` database for the ``with`` block."""
    cluster = TempPgCluster(bindir)
    try:
        yield _serve(cluster)
    finally:
        cluster.stop()


def _external_server(raw_url: str) -> PgServer:
    url = _with_psycopg_driver(make_url(raw_url))
    server = PgServer(
        url=url.render_as_string(hide_password=False),
        host=url.host or "localhost",
        port=url.port or 5432,
    )
    try:
        _admin_execute(server.url, "SELECT 1")
    except Exception as exc:  # any driver/connection error means "no usable server"
        failure = f"{PG_URL_ENV} is set but {url.render_as_string()} is not reachable: {exc}"
    else:
        return server
    require_or_skip(failure)  # str(URL)-style rendering above hides the password


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the whole session (see module docstring)."""
    if importlib.util.find_spec("psycopg") is None:
        require_or_skip("psycopg (3) is not installed: pip install 'psycopg[binary]'")
    raw_url = os.environ.get(PG_URL_ENV, "").strip()
    if raw_url:
        yield _external_server(raw_url)
        return
    bindir = find_pg_bindir()
    if bindir is None:
        require_or_skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin "
            f"or on PATH: apt install {APT_PACKAGE} (or set {PG_URL_ENV})"
        )
    cluster = TempPgCluster(bindir)
    try:
        try:
            server = _serve(cluster)
        except (ServiceStartError, OSError, subprocess.SubprocessError, SQLAlchemyError) as exc:
            failure = f"could not start a throw-away PostgreSQL from {bindir}: {exc}"
        else:
            yield server
            return
        # Outside the except block: the message already holds the cause and the server log.
        require_or_skip(failure)
    finally:
        # Runs on skip/fail too, so a half-started cluster never outlives the session.
        cluster.stop()


@pytest.fixture
def pg_database(pg_server: PgServer) -> Iterator[str]:
    """URL of a new, empty database on ``pg_server``; dropped after the test."""
    url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)
