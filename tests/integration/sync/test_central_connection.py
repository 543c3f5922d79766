"""How the sync talks to PostgreSQL: bounded waits, so a stalled server cannot hang a sync."""

from __future__ import annotations

import pytest
from sqlalchemy import text

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
