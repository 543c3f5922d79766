"""Smoke tests proving the service fixtures start real servers that behave like real ones."""

from __future__ import annotations

import base64
import hashlib

import paramiko
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.support.postgres import PgServer
from tests.support.sshd import SshServer

pytestmark = pytest.mark.services


# --- PostgreSQL ---------------------------------------------------------------------------


def test_pg_server_is_a_real_postgresql(pg_server: PgServer) -> None:
    url = make_url(pg_server.url)
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == (pg_server.host, pg_server.port)
    engine = create_engine(pg_server.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("select version()")).scalar_one()
    finally:
        engine.dispose()
    assert version.startswith("PostgreSQL ")


def test_pg_database_round_trip(pg_database: str) -> None:
    engine = create_engine(pg_database, poolclass=NullPool)
    try:
        assert inspect(engine).get_table_names() == []  # fresh and empty
        with engine.begin() as conn:
            conn.execute(text("create table ticket (id serial primary key, title text not null)"))
            conn.execute(
                text("insert into ticket (title) values (:a), (:b)"),
                {"a": "Printer offline", "b": "VPN drops"},
            )
        with engine.connect() as conn:
            titles = conn.execute(text("select title from ticket order by id")).scalars().all()
    finally:
        engine.dispose()
    assert titles == ["Printer offline", "VPN drops"]


def _table_names(url: str) -> list[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_pg_databases_are_isolated(pg_server: PgServer, pg_database: str) -> None:
    other = pg_server.create_database()
    try:
        assert make_url(other).database != make_url(pg_database).database
        engine = create_engine(pg_database, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text("create table only_here (id int)"))
        finally:
            engine.dispose()
        assert _table_names(pg_database) == ["only_here"]
        assert _table_names(other) == []
    finally:
        pg_server.drop_database(other)
    engine = create_engine(pg_server.url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("select count(*) from pg_database where datname = :n"),
                {"n": make_url(other).database},
            ).scalar_one()
    finally:
        engine.dispose()
    assert exists == 0


# --- sshd ---------------------------------------------------------------------------------


def _trusting_client(server: SshServer) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    entry = paramiko.hostkeys.HostKeyEntry.from_line(server.known_hosts_line)
    assert entry is not None and entry.key is not None
    for hostname in entry.hostnames:
        client.get_host_keys().add(hostname, entry.key.get_name(), entry.key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return client


def _connect(
    client: paramiko.SSHClient, server: SshServer, pkey: paramiko.PKey | None = None
) -> None:
    client.connect(
        server.host,
        port=server.port,
        username=server.username,
        # pkey for other keys: with key_filename paramiko reports the last key-class parse
        # error instead of the authentication failure.
        pkey=pkey,
        key_filename=None if pkey else str(server.client_key_path),
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )


def test_sshd_runs_a_command(sshd_server: SshServer) -> None:
    with _trusting_client(sshd_server) as client:
        _connect(client, sshd_server)
        _stdin, stdout, stderr = client.exec_command("echo hello; echo err >&2; exit 3", timeout=10)
        out = stdout.read().decode()
        err = stderr.read().decode()
        status = stdout.channel.recv_exit_status()
    assert (out, err, status) == ("hello\n", "err\n", 3)


def test_sshd_unknown_host_key_is_rejected(sshd_server: SshServer) -> None:
    with paramiko.SSHClient() as client:
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
            _connect(client, sshd_server)


def test_sshd_rejects_a_key_it_does_not_know(sshd_server: SshServer) -> None:
    stranger = paramiko.RSAKey.generate(2048)
    with _trusting_client(sshd_server) as client:
        with pytest.raises(paramiko.AuthenticationException):
            _connect(client, sshd_server, pkey=stranger)


def test_sshd_fingerprint_matches_the_key_the_server_presents(sshd_server: SshServer) -> None:
    with _trusting_client(sshd_server) as client:
        _connect(client, sshd_server)
        transport = client.get_transport()
        assert transport is not None
        presented = transport.get_remote_server_key()
    digest = base64.b64encode(hashlib.sha256(presented.asbytes()).digest()).decode().rstrip("=")
    assert sshd_server.host_key_fingerprint == f"SHA256:{digest}"
    assert sshd_server.host_key_fingerprint == presented.fingerprint
    assert presented == sshd_server.host_pkey()
    assert sshd_server.known_hosts_line == (
        f"[{sshd_server.host}]:{sshd_server.port} {sshd_server.host_public_key}"
    )
