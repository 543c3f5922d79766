"""How the sync talks to PostgreSQL: bounded waits, so a stalled server cannot hang a sync."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.support.postgres import PgServer
from workbench.cli import run
from workbench.sync import central

pytestmark = pytest.mark.services


def test_sync_connections_have_timeouts_and_init_has_no_statement_limit(
    pg_database: str,
) -> None:
    with central.connect(pg_database).connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "2min"
        libpq = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
        assert libpq["connect_timeout"] == str(central.CONNECT_TIMEOUT_S)
    unlimited = central.connect(pg_database, statement_timeout_ms=None)
    with unlimited.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar_one() == "0"


def test_sslmode_and_sslrootcert_in_the_url_reach_libpq(
    pg_server: PgServer, pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if pg_server.certificate is None:
        pytest.skip("an external server: its TLS set-up is not the tests' to know")
    url = make_url(pg_database)
    verified = url.update_query_dict(
        {"sslmode": "verify-full", "sslrootcert": str(pg_server.certificate)}
    ).render_as_string(hide_password=False)
    with central.connect(verified).connect() as connection:
        encrypted = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        assert connection.execute(text(encrypted)).scalar_one() is True
    assert central.init_central(verified)  # the schema over the verified connection

    # Verification asked for with a root certificate that is not there: refused, and said so.
    refused = url.update_query_dict(
        {"sslmode": "verify-full", "sslrootcert": str(tmp_path / "missing.crt")}
    ).render_as_string(hide_password=False)
    capsys.readouterr()
    assert run(["--data-dir", str(tmp_path / "cache"), "central", "init", "--url", refused]) == 1
    error = capsys.readouterr().err
    assert "missing.crt" in error and "Traceback" not in error
