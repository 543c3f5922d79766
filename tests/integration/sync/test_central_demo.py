"""`central demo seed` against a real PostgreSQL: the demo set centrally, each demo technician
signing in with the password printed once, a laptop pulling its scope, a second seed refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.support.postgres import PgServer
from workbench.cli import run
from workbench.core.errors import BadInput
from workbench.core.models import Role, Technician
from workbench.core.query import TicketQuery
from workbench.resources import load_policy
from workbench.services.demo import DemoSummary, seed_demo
from workbench.services.sync import connect_central
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state
from workbench.sync import central, demo_central, server
from workbench.sync.admin import add_technician, admin_session
from workbench.sync.client import Synchronizer
from workbench.sync.identity import IdentityRefused

pytestmark = pytest.mark.services

TICKETS = 50
NOW = datetime(2026, 11, 16, 18, 0, tzinfo=UTC)
COPIED = ("sites", "technicians", "requesters", "assets", "tickets", "worklog")


@pytest.fixture
def central_url(pg_database: str) -> str:
    """An empty central database at the head revision (the test cluster's superuser owns it)."""
    central.init_central(pg_database)
    return pg_database


def _as(url: str, login: str, password: str | None = None) -> str:
    """The database URL signed in as this login (over TCP: only the superuser is trusted)."""
    parsed = make_url(url).set(username=login)
    if password is not None:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def _query(url: str, statement: str) -> list[Any]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            return list(db.execute(text(statement)))
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    return {
        name: _query(url, f"SELECT count(*) FROM {name}")[0][0]
        for name in (*COPIED, "audit_events")
    }


def _wb(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    code = run(["--data-dir", str(tmp_path / "admin"), "central", "demo", "seed", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_central_holds_what_a_seeded_cache_holds(central_url: str) -> None:
    summaries: list[DemoSummary] = []
    demo = demo_central.seed_central(
        central_url,
        lambda store: summaries.append(seed_demo(store, load_policy(), TICKETS, now=NOW)),
    )
    [summary] = summaries
    expected = {name: getattr(summary, name) for name in COPIED}
    assert demo.counts == expected
    counts = _counts(central_url)
    assert {name: counts[name] for name in COPIED} == expected
    # One audit line per enrolment and one for the seed.
    assert counts["audit_events"] == summary.technicians + 1
    assert {d.technician.role for d in demo.logins} == set(Role)

    # Every row at a version of its own, the highest the clock, written by the owner's account.
    rows = _query(
        central_url,
        " UNION ALL ".join(f"SELECT version, changed_by FROM {name}" for name in COPIED),
    )
    versions = [r.version for r in rows]
    assert len(set(versions)) == len(versions) == sum(expected.values())
    [(clock,)] = _query(central_url, "SELECT clock FROM sync_clock")
    assert max(versions) == clock
    assert {r.changed_by for r in rows} == {make_url(central_url).username}
    # The central's next ticket number comes after the demo's highest.
    [(highest,)] = _query(central_url, "SELECT max(number) FROM tickets")
    assert highest == f"HD-{TICKETS:06d}"
    [(taken,)] = _query(central_url, "SELECT nextval('ticket_numbers')")
    assert taken == TICKETS + 1

    # A second seed is refused before anything is made, and changes nothing.
    def never(_store: Store) -> None:
        raise AssertionError("a refused seed makes no demo data")

    with pytest.raises(BadInput, match=f"already holds {TICKETS} tickets"):
        demo_central.seed_central(central_url, never)
    assert _counts(central_url) == counts
    assert _query(central_url, "SELECT clock FROM sync_clock") == [(clock,)]


def test_printed_passwords_sign_in_and_a_laptop_pulls_its_scope(
    central_url: str, pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _wb(
        capsys, tmp_path, "--url", central_url, "--tickets", str(TICKETS), "--json"
    )
    assert code == 0, err
    seeded = json.loads(out)
    assert seeded["seeded"]["tickets"] == TICKETS
    technicians = seeded["technicians"]
    assert {t["role"] for t in technicians} == {r.value for r in Role}
    assert all(t["tier"] in (1, 2, 3) and t["name"] for t in technicians)
    assert len({t["password"] for t in technicians}) == len(technicians)
    assert f":{pg_server.port}/" in central_url  # the logins below sign in over TCP
    for tech in technicians:
        signed_in = _as(central_url, tech["login"], tech["password"])
        assert _query(signed_in, "SELECT session_user::text") == [(tech["login"],)]

    # A laptop of a tier-1 agent, logged in as `workbench login` does, pulls its scope only.
    agent = next(t for t in technicians if t["role"] == "agent")
    laptop = Store.open(tmp_path / "laptop")
    try:
        connect_central(
            laptop, _as(central_url, agent["login"], agent["password"]), agent["login"], None, None
        )
        with laptop.read() as db:
            stored_url = sync_state.state(db).central_url
        assert stored_url is not None and agent["password"] not in stored_url
        report = Synchronizer(laptop, stored_url, agent["login"]).sync()
        assert (report.resynced, report.mismatched) == (False, ())
        engine = central.connect(central_url)
        with engine.connect() as db:
            scope = server.scope_of(db, agent["login"], "mine", datetime.now(UTC))
            in_scope = server.counts(db, {}, scope)
        engine.dispose()
        service = TicketService(laptop, load_policy(), agent["login"])
        pulled = service.find(TicketQuery(), limit=TICKETS)
        assert 0 < len(pulled) == in_scope["tickets"] < TICKETS
        assert all(s.ticket.tier == 1 or s.ticket.assignee == agent["login"] for s in pulled)

        # Her new ticket takes the central's next number.
        made = service.create(title="Dock not detected", category="hardware", impact=3, urgency=3)
        Synchronizer(laptop, stored_url, agent["login"]).sync()
        assert service.detail(made.ticket.id).ticket.number == f"HD-{TICKETS + 1:06d}"
    finally:
        laptop.close()


def test_the_table_names_every_login_once_and_a_second_seed_is_refused(
    central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _wb(capsys, tmp_path, "--url", central_url, "--tickets", "20")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Seeded ") and "20 tickets" in lines[0]
    table = lines[2:]
    assert table[0].split() == ["LOGIN", "ROLE", "PASSWORD"]
    logins = [row.split() for row in table[1:]]
    assert len({login for login, _, _ in logins}) == len(logins)
    assert {role for _, role, _ in logins} == {r.value for r in Role}
    for login, _, password in logins:
        assert _query(_as(central_url, login, password), "SELECT 1") == [(1,)]

    before = _counts(central_url)
    code, out, err = _wb(capsys, tmp_path, "--url", central_url, "--tickets", "20")
    assert code == 2 and out == ""
    assert err.startswith("workbench: error: the central database ") and "20 tickets" in err
    assert "nothing was changed" in err and len(err.splitlines()) == 1
    assert _counts(central_url) == before


def test_only_the_owner_seeds_the_demo(central_url: str) -> None:
    """An admin's own login may not: the demo writes work in other technicians' names."""
    admin = Technician("desk.admin", "Desk Admin", 3, Role.ADMIN)
    with admin_session(central_url, Role.ADMIN, "enrol technicians") as session:
        add_technician(session, admin, "Adm1n-passw0rd")
    before = _counts(central_url)
    with pytest.raises(IdentityRefused, match="owner's account"):
        demo_central.seed_central(
            _as(central_url, admin.login, "Adm1n-passw0rd"),
            lambda store: seed_demo(store, load_policy(), TICKETS, now=NOW),
        )
    assert _counts(central_url) == before
