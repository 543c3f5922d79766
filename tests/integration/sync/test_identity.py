"""Each technician's own identity, enforced by the central PostgreSQL (DESIGN.md §11): real
login roles with SCRAM passwords over TCP on loopback, row-level security checked with SQL
through a technician's own connection, refused work as conflicts naming the rule."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.keyrings import JsonFileKeyring
from tests.support.recipes import HELLO_ID, HELLO_RECIPE, sh_output
from tests.support.sshd import SshServer
from workbench.cli import run
from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.models import Role, Technician
from workbench.resources import RESOURCES
from workbench.services.recipes import RecipeService, library_for
from workbench.services.sync import connect_central
from workbench.store import sync_state
from workbench.sync import admin, central
from workbench.sync.client import Synchronizer
from workbench.sync.identity import IdentityRefused
from workbench.trees.recipes import catalog_of
from workbench.trees.service import UNAPPROVED, TreeService

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]
PASSWORDS = {"ana.lopez": "ana-Pa55-word", "ben.okafor": "ben-Pa55-word", "cara.nguyen": "c-Pa55"}


def as_login(url: str, login: str, password: str | None = None) -> str:
    """The central URL signed in as a technician's own login role."""
    return (
        make_url(url)
        .set(username=login, password=password or PASSWORDS[login])
        .render_as_string(hide_password=False)
    )


def enrol(url: str, *logins: str) -> None:
    """Give the fixture's technicians (rows made by prepare_central) their login roles."""
    with admin.admin_session(url, Role.ADMIN, "enrol") as session:
        for login in logins:
            admin.edit_technician(session, login, {}, PASSWORDS[login])


@contextmanager
def connection(url: str) -> Iterator[Connection]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            yield db
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    with connection(url) as db:
        return {
            t.name: int(db.scalar(select(func.count()).select_from(t)) or 0)
            for t in (
                central.tickets,
                central.worklog,
                central.recipes,
                central.mutation_log,
                central.conflicts,
                central.audit_events,
            )
        }


def signed_in(laptop: Laptop, url: str, login: str) -> Laptop:
    """The laptop signs in with `url` from now on, as `login` (a cache that did `login`)."""
    with laptop.store.write() as tx:
        sync_state.set_login(tx, make_url(url).set(password=None).render_as_string(), login)
    laptop.sync_with = Synchronizer(laptop.store, url, login)
    return laptop


def new_ticket(laptop: Laptop, title: str) -> None:
    laptop.service.create(title=title, category="hardware", impact=3, urgency=3)


def refused(db: Connection, statement: str, **params: object) -> str:
    """The error PostgreSQL gives a technician's own connection for this statement."""
    if db.in_transaction():
        db.rollback()
    with pytest.raises(DBAPIError) as caught, db.begin():
        db.execute(text(statement), params)
    return str(caught.value.orig)


def test_a_connection_pushing_work_recorded_as_another_technician_is_refused(
    laptops: Laptops, central_url: str
) -> None:
    enrol(central_url, "ana.lopez", "ben.okafor")
    ben = laptops("ben.okafor")
    new_ticket(ben, "Laptop dock dead")
    before, pending = counts(central_url), ben.pending
    # Ben's cache, given Ana's database login: the central sees Ana and refuses Ben's work.
    signed_in(ben, as_login(central_url, "ana.lopez"), "ben.okafor")
    with pytest.raises(IdentityRefused, match="signs in to the central database as 'ana.lopez'"):
        ben.sync()
    assert counts(central_url) == before and ben.pending == pending

    # A cache whose code skipped that check meets row-level security: the same rows, written
    # by hand through Ana's connection, are refused by PostgreSQL itself.
    with connection(as_login(central_url, "ana.lopez")) as db:
        ticket = db.scalar(select(central.tickets.c.id).limit(1))
        message = refused(
            db,
            "INSERT INTO worklog (id, ticket_id, kind, author, text, minutes, created_at, "
            "version, changed_by) VALUES ('w-forged', :t, 'note', 'ben.okafor', 'x', 0, now(), "
            "999, 'ben.okafor')",
            t=ticket,
        )
        assert "row-level security" in message
        assert "row-level security" in refused(
            db,
            "INSERT INTO mutation_log VALUES ('c', 1, 'h', 'ben.okafor', now())",
        )
        assert "sync clock only moves forward" in refused(db, "UPDATE sync_clock SET clock = 0")
        assert "permission denied" in refused(db, "DELETE FROM tickets")
    assert counts(central_url) == before


def test_an_agents_recipe_is_refused_as_a_conflict_and_never_reaches_another_cache(
    laptops: Laptops, central_url: str, tmp_path: Path
) -> None:
    enrol(central_url, "ana.lopez", "cara.nguyen")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    cara = signed_in(laptops("cara.nguyen"), as_login(central_url, "cara.nguyen"), "cara.nguyen")
    recipe = tmp_path / "hello.yaml"
    recipe.write_text(HELLO_RECIPE, encoding="utf-8")

    RecipeService(ana.store).import_files([recipe])
    # Stored on Ana's laptop, but not approved by a lead: listed as such, never run.
    (info,) = [i for i in RecipeService(ana.store).infos() if i.id == HELLO_ID]
    assert info.recipe is None and "unapproved" in info.origin
    with pytest.raises(WorkbenchError):
        library_for(ana.store).get(HELLO_ID)

    report = ana.sync()
    assert report.new_conflicts == 1
    with ana.store.read() as db:
        (conflict,) = sync_state.conflicts(db, False)
    assert (conflict.entity, conflict.entity_id) == ("recipe", HELLO_ID)
    assert conflict.their_author == "only a lead may change recipes"
    with connection(central_url) as db:
        assert db.scalar(select(func.count()).select_from(central.recipes)) == 0

    cara.sync()
    with cara.store.read() as db:
        assert db._db.scalar(text("SELECT count(*) FROM recipes")) == 0

    # The lead's import is approved by her, centrally, and runs on another laptop.
    RecipeService(cara.store).import_files([recipe])
    assert cara.sync().new_conflicts == 0
    with connection(central_url) as db:
        assert db.scalar(select(central.recipes.c.approved_by)) == "cara.nguyen"
    ana.sync()
    rendered = library_for(ana.store).get(HELLO_ID).render({"name": "ana"})
    assert sh_output(rendered.command) == "hello ana\n"


def test_audit_rows_cannot_be_changed_or_removed_by_any_role_even_their_author(
    laptops: Laptops, central_url: str
) -> None:
    enrol(central_url, "ana.lopez", "cara.nguyen")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    event = {
        "kind": "remote_job",
        "technician": "ana.lopez",
        "at": datetime.now(UTC),
        "host": "pc-042",
        "port": 22,
        "recipe_id": "linux.diagnostics",
        "params": json.dumps({"password": "********"}),
        "outcome": "ok",
        "exit_code": 0,
        "ticket_id": None,
        "ticket_ref": None,
        "detail": "ana@pc-042:22: done",
    }
    with ana.store.write() as tx:
        tx.queue_audit("audit-1", event)
    ana.sync()
    with connection(central_url) as db:
        a = central.audit_events
        row = db.execute(select(a).where(a.c.kind == "remote_job")).mappings().one()
    assert (row["technician"], row["host"], row["outcome"]) == ("ana.lopez", "pc-042", "ok")

    for login in ("ana.lopez", "cara.nguyen"):
        with connection(as_login(central_url, login)) as db:
            assert "permission denied" in refused(db, "UPDATE audit_events SET outcome = 'x'")
            assert "permission denied" in refused(db, "DELETE FROM audit_events")
            assert "permission denied" in refused(db, "TRUNCATE audit_events")
    with connection(as_login(central_url, "ana.lopez")) as db:  # nor forge another's
        assert "row-level security" in refused(
            db,
            "INSERT INTO audit_events (id, kind, technician, at, detail) "
            "VALUES ('x', 'remote_job', 'cara.nguyen', now(), '')",
        )
    with connection(central_url) as db:  # the owner's account cannot either
        assert "append-only" in refused(db, "DELETE FROM audit_events")
        assert "append-only" in refused(db, "TRUNCATE audit_events")
        assert db.scalar(select(a.c.outcome).where(a.c.kind == "remote_job")) == "ok"

    # Leads read the audit; an agent may not.
    lead = admin.reader(as_login(central_url, "cara.nguyen"), Role.LEAD, "read the audit")
    with lead as db:
        (seen,) = admin.audit_events(db, host="PC-042")
    assert seen.params == {"password": "********"}
    with (
        pytest.raises(IdentityRefused, match="only a lead"),
        admin.reader(as_login(central_url, "ana.lopez"), Role.LEAD, "read the audit"),
    ):
        pass


def test_a_retired_technician_can_no_longer_sync_and_keeps_their_outbox(
    laptops: Laptops, central_url: str
) -> None:
    enrol(central_url, "ana.lopez")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    new_ticket(ana, "Monitor flickers")
    with admin.admin_session(central_url, Role.ADMIN, "retire") as session:
        retired = admin.retire_technician(session, "ana.lopez")
    assert not retired.active
    pending = ana.pending
    with pytest.raises(WorkbenchError, match="ana.lopez may not sign in") as caught:
        ana.sync()
    assert len(str(caught.value).splitlines()) == 1 and PASSWORDS["ana.lopez"] not in str(
        caught.value
    )
    assert ana.pending == pending
    with connection(central_url) as db:  # history kept
        assert db.scalar(
            select(central.technicians.c.name).where(central.technicians.c.login == "ana.lopez")
        )
    # Back from retirement: she signs in again and her kept work goes out.
    with admin.admin_session(central_url, Role.ADMIN, "reactivate") as session:
        assert admin.edit_technician(session, "ana.lopez", {"active": 1}).active
    assert ana.sync().pushed == pending and ana.pending == 0


def test_a_wrong_password_at_login_is_one_line_and_changes_nothing(
    laptops: Laptops, central_url: str, file_keyring: JsonFileKeyring
) -> None:
    enrol(central_url, "ana.lopez")
    ana = laptops("ana.lopez")
    with ana.store.read() as db:
        before = sync_state.state(db)
    url = make_url(central_url).set(username="ana.lopez").render_as_string()
    with pytest.raises(WorkbenchError) as caught:
        connect_central(ana.store, url, "ana.lopez", "not-her-password", None)
    assert str(caught.value).count("\n") == 0 and "wrong password for ana.lopez" in str(
        caught.value
    )
    assert "not-her-password" not in str(caught.value)
    with ana.store.read() as db:
        assert sync_state.state(db) == before
    assert file_keyring.entries() == {}
    # The right one signs in, and only then is stored.
    connect_central(ana.store, url, "ana.lopez", PASSWORDS["ana.lopez"], None)
    assert len(file_keyring.entries()) == 1


def test_only_admins_manage_people_and_an_admin_does_it_with_their_own_login(
    central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    enrol(central_url, "ana.lopez", "cara.nguyen")
    agent, lead = as_login(central_url, "ana.lopez"), as_login(central_url, "cara.nguyen")
    for url in (agent, lead):
        with (
            pytest.raises(IdentityRefused, match="only an admin may enrol"),
            admin.admin_session(url, Role.ADMIN, "enrol technicians"),
        ):
            pass
        with connection(url) as db:  # nor past the client's check
            assert "only an admin may manage technicians" in refused(
                db, "SELECT wb_enrol_login('mallory', NULL, true)"
            )
            db.rollback()
            with db.begin():  # no policy lets them: the row is out of their reach
                changed = db.execute(
                    text("UPDATE technicians SET role = 'admin' WHERE login = 'ana.lopez'")
                )
            assert changed.rowcount == 0
    with connection(central_url) as db:
        role = db.scalar(
            select(central.technicians.c.role).where(central.technicians.c.login == "ana.lopez")
        )
    assert role == "agent"

    # An admin, enrolled by the owner, enrols a new technician through their own login.
    with admin.admin_session(central_url, Role.ADMIN, "enrol") as session:
        admin.add_technician(
            session,
            Technician("dev.admin", "Dev Admin", 3, Role.ADMIN, (), "dev@agency.example"),
            "admin-Pa55-word",
        )
    by_admin = as_login(central_url, "dev.admin", "admin-Pa55-word")
    code = run(
        [
            "--data-dir", str(tmp_path / "admin"),
            "central", "technician", "add", "eve.park", "--url", by_admin,
            "--name", "Eve Park", "--email", "eve@agency.example", "--tier", "1",
            "--role", "agent", "--json",
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    added = json.loads(out)["technician"]
    assert added["login"] == "eve.park" and len(added["password"]) >= 12
    with connection(as_login(central_url, "eve.park", added["password"])) as db:
        assert db.scalar(text("SELECT wb_technician()")) == "eve.park"
    with connection(central_url) as db:
        kinds = db.execute(
            select(central.audit_events.c.technician, central.audit_events.c.detail)
        ).all()
    assert ("dev.admin", "enrolled eve.park (Eve Park), tier 1, agent") in kinds


def test_a_tree_runs_on_a_signed_in_cache_only_once_a_lead_approved_it(
    laptops: Laptops, central_url: str, tmp_path: Path
) -> None:
    enrol(central_url, "ana.lopez", "cara.nguyen")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    cara = signed_in(laptops("cara.nguyen"), as_login(central_url, "cara.nguyen"), "cara.nguyen")
    source = (RESOURCES / "trees" / "password-reset.yaml").read_text(encoding="utf-8")
    path = tmp_path / "desk-password.yaml"
    path.write_text(source.replace("id: password-reset", "id: desk-password", 1), encoding="utf-8")

    def trees(laptop: Laptop) -> TreeService:
        return TreeService(
            laptop.service, catalog_of(library_for(laptop.store)), RESOURCES / "trees"
        )

    trees(ana).import_files([path])
    (info,) = [i for i in trees(ana).infos() if i.id == "desk-password"]
    assert info.origin == UNAPPROVED
    with pytest.raises(BadInput, match="not approved by a lead"):
        trees(ana).tree("desk-password")
    assert ana.sync().new_conflicts == 1  # "only a lead may change troubleshooting trees"

    trees(cara).import_files([path])
    cara.sync()
    ana.sync()
    assert trees(ana).tree("desk-password").id == "desk-password"


def test_a_technician_settles_only_their_own_conflicts_unless_a_lead(
    laptops: Laptops, central_url: str
) -> None:
    enrol(central_url, "ana.lopez", "ben.okafor", "cara.nguyen")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    ben = signed_in(laptops("ben.okafor"), as_login(central_url, "ben.okafor"), "ben.okafor")
    cara = signed_in(laptops("cara.nguyen"), as_login(central_url, "cara.nguyen"), "cara.nguyen")
    ticket = ana.service.create(title="Dock", category="hardware", impact=3, urgency=3).ticket
    ana.sync()
    ben.sync()
    ana.service.update(ticket.id, {"title": "Dock: no power"})
    ben.service.update(ticket.id, {"title": "Dock: USB dead"})
    ana.sync()
    assert ben.sync().new_conflicts == 1  # between ben (mine) and ana (theirs)
    cara.sync()
    with cara.store.read() as db:
        (conflict,) = sync_state.conflicts(db, False)
    # A lead settles anyone's; the central takes it.
    with cara.store.write() as tx:
        sync_state.resolve_conflict(tx, conflict.id, "theirs", "cara.nguyen")
    cara.sync()
    with connection(central_url) as db:
        resolution = db.execute(
            select(central.conflicts.c.resolution, central.conflicts.c.resolved_by)
        ).one()
    assert tuple(resolution) == ("theirs", "cara.nguyen")
    # An agent is refused before anything is queued; PostgreSQL refuses it too.
    with connection(central_url) as db, db.begin():  # a conflict between ben and cara
        db.execute(
            text(
                "INSERT INTO conflicts (entity, entity_id, field, their_value, their_author, "
                "mine_value, my_author, created_at, version) VALUES ('ticket', 'x', 'title', "
                "'\"a\"', 'cara.nguyen', '\"b\"', 'ben.okafor', now(), 9999)"
            )
        )
        db.execute(text("UPDATE sync_clock SET clock = 9999"))
    ana.sync()
    with ana.store.read() as db:
        others = [c for c in sync_state.conflicts(db, False) if c.entity_id == "x"]
    (other,) = others
    with pytest.raises(WorkbenchError, match="only they or a lead may settle it"):
        with ana.store.write() as tx:
            sync_state.resolve_conflict(tx, other.id, "theirs", "ana.lopez")
    with connection(as_login(central_url, "ana.lopez")) as db:
        db.rollback()
        with db.begin():
            settled = db.execute(
                text("UPDATE conflicts SET resolution = 'theirs' WHERE entity_id = 'x'")
            )
        assert settled.rowcount == 0  # not hers to see for writing


def test_a_remote_job_reaches_the_central_audit_with_its_secrets_masked(
    laptops: Laptops,
    central_url: str,
    sshd_server: SshServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    enrol(central_url, "ana.lopez")
    ana = signed_in(laptops("ana.lopez"), as_login(central_url, "ana.lopez"), "ana.lopez")
    ref = ana.service.create(title="Slow PC", category="hardware", impact=2, urgency=2).ticket.ref
    code = run(
        [
            "--data-dir", str(ana.data_dir), "remote", "run", "linux.diagnostics",
            "--host", sshd_server.host, "--port", str(sshd_server.port),
            "--user", sshd_server.username, "--identity", str(sshd_server.client_key_path),
            "--accept-host-key", sshd_server.host_key_fingerprint, "--ticket", ref,
        ]
    )  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, out + err
    ana.sync()
    with admin.reader(central_url, Role.LEAD, "read the audit") as db:
        (event,) = admin.audit_events(db, technician="ana.lopez", host=sshd_server.host)
    assert (event.kind, event.recipe_id, event.outcome, event.exit_code) == (
        "remote_job",
        "linux.diagnostics",
        "ok",
        0,
    )
    assert event.ticket_ref == ref and event.port == sshd_server.port
    code = run(["--data-dir", str(ana.data_dir), "central", "audit", "--url", central_url,
                "--host", sshd_server.host, "--json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [e["recipe_id"] for e in json.loads(out)["events"]] == ["linux.diagnostics"]


def test_a_technicians_connection_cannot_hide_rows_or_break_other_laptops_sync(
    laptops: Laptops, central_url: str
) -> None:
    enrol(central_url, "ana.lopez", "ben.okafor")
    ben = signed_in(laptops("ben.okafor"), as_login(central_url, "ben.okafor"), "ben.okafor")
    new_ticket(ben, "Scanner jams")
    ben.sync()
    with ben.store.read() as db:
        bens_client = db.client_id
    with connection(as_login(central_url, "ana.lopez")) as db:
        # Log rows under Ben's client id would make his laptop think it was restored.
        assert "row-level security" in refused(
            db,
            "INSERT INTO mutation_log VALUES (:c, 999, 'h', 'ana.lopez', now())",
            c=bens_client,
        )
        # A row behind the clock would never reach a cache whose cursor passed it.
        assert "behind the sync clock" in refused(
            db,
            "INSERT INTO requesters (id, name, email, phone, department, version, active, "
            "changed_by) VALUES ('r-x', 'X', 'x@x.example', '', '', 1, 1, 'ana.lopez')",
        )
        # Nor may the clock leap so far that it runs out.
        assert "more than a push does" in refused(
            db, "UPDATE sync_clock SET clock = clock + 1000000000"
        )
    assert ben.sync().pulled >= 0 and not ben.sync().renumbered
