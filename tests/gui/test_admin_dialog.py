"""File → Administration…: shown to leads and admins, changes reach the real central database,
refusals are one line (DESIGN.md §11)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import prepare_central
from tests.support.workbench import AGENT, FIELD, LEAD, SITE
from workbench.core.errors import BadInput
from workbench.core.models import Role, Site, Technician
from workbench.gui.admin import ADMIN_ACTION
from workbench.gui.admin.dialog import AdminDialog
from workbench.gui.admin.forms import TechnicianDialog
from workbench.gui.admin.models import SiteTableModel, TechnicianTableModel
from workbench.gui.forms import field
from workbench.gui.main_window import MainWindow
from workbench.gui.sync_status import INTERVAL_KEY
from workbench.gui.worker import DbWorker
from workbench.services import admin as admin_service
from workbench.services.admin import CentralAdmin, Directory
from workbench.services.sync import connect_central
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state
from workbench.sync import admin, central

pytestmark = pytest.mark.usefixtures("profile_keyring")  # the OS keyring is never touched
TIMEOUT_MS = 20_000
SAVE = QDialogButtonBox.StandardButton.Save


@pytest.fixture
def central_url(pg_database: str) -> str:
    return prepare_central(pg_database)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    stored = QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)
    stored.setValue("view", "All tickets")
    stored.setValue(INTERVAL_KEY, 3600)  # one round as the window opens, no timer rounds
    return stored


def open_window(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> MainWindow:
    """The window on a connected cache, after its first sync round (reached or not)."""
    window = MainWindow(service, worker, settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.sync_status.synced, timeout=TIMEOUT_MS):
        window.start()
    qtbot.waitUntil(lambda: worker.pending == 0)  # the role check after the round, too
    return window


def open_admin(qtbot: QtBot, window: MainWindow) -> AdminDialog:
    action = window.menu_actions[ADMIN_ACTION]
    qtbot.waitUntil(action.isVisible)
    with qtbot.waitSignal(window.admin.opened, timeout=TIMEOUT_MS) as opened:
        action.trigger()
    dialog = opened.args[0]
    assert isinstance(dialog, AdminDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.technicians.rowCount() > 0, timeout=TIMEOUT_MS)
    return dialog


def central_technicians(url: str) -> dict[str, dict[str, object]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        rows = db.execute(select(central.technicians)).mappings()
        found = {str(r["login"]): dict(r) for r in rows}
    engine.dispose()
    return found


def select_login(dialog: AdminDialog, login: str) -> None:
    row = dialog.technicians.row_of(login)
    assert row is not None, f"{login} is not listed"
    dialog.technician_table.selectRow(row)


def fill_form(form: TechnicianDialog, login: str, name: str, role_label: str) -> None:
    form.login.setText(login)
    form.name.setText(name)
    form.email.setText(f"{login}@agency.example")
    form.tier.setCurrentIndex(1)
    form.role.setCurrentIndex(form.role.findText(role_label))
    assert form.role.currentData() is not None, f"no role shown as {role_label!r}"


def user_url(url: str, login: str, password: str) -> str:
    """A technician's own sign-in over TCP (non-superusers need their password there)."""
    parsed = make_url(url).set(username=login, password=password)
    return parsed.render_as_string(hide_password=False)


# -- the menu entry ------------------------------------------------------------------------


@pytest.mark.parametrize(("login", "shown"), [(AGENT.login, False), (LEAD.login, True)])
def test_the_entry_is_shown_to_leads_only(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    login: str,
    shown: bool,
) -> None:
    # Nothing listens there: the round fails at once, the role is the cache's own knowledge.
    with service.store.write() as tx:
        sync_state.set_login(tx, "postgresql://somebody@127.0.0.1:1/central", login)
    window = open_window(qtbot, service, worker, settings)
    action = window.menu_actions[ADMIN_ACTION]
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    qtbot.waitUntil(lambda: action.isVisible() is shown)
    qtbot.wait(100)
    assert action.isVisible() is shown


def test_without_a_central_nobody_is_offered_administration(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    service.set_technician(LEAD.login)  # a lead, but of no help desk this cache knows
    window = MainWindow(service, worker, settings)
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert not window.menu_actions[ADMIN_ACTION].isVisible()


# -- the dialog against the central --------------------------------------------------------


@pytest.mark.services
def test_an_admin_adds_edits_and_retires_a_technician_and_adds_a_site(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    central_url: str,
    artifacts: Path,
) -> None:
    # The schema owner signs this cache in for the lead Cara: it may administer.
    connect_central(service.store, central_url, LEAD.login, None, None)
    window = open_window(qtbot, service, worker, settings)
    dialog = open_admin(qtbot, window)
    assert {dialog.technicians.technician(r).login for r in range(3)} == {
        AGENT.login,
        FIELD.login,
        LEAD.login,
    }
    shown = {
        dialog.technicians.index(r, c).data()
        for r in range(dialog.technicians.rowCount())
        for c in range(dialog.technicians.columnCount())
    }
    assert {"Agent", "Field technician", "Lead", "Olympia HQ", "Active"} <= shown
    assert not {"agent", "field", "lead", SITE.id} & shown  # no internal values
    dialog.resize(1100, 480)
    assert dialog.grab().save(str(artifacts / "admin_technicians.png"))

    _add_eve(qtbot, dialog, central_url, artifacts)
    _edit_and_retire_eve(qtbot, dialog, central_url)
    _add_a_site(qtbot, dialog, central_url, artifacts)
    dialog.tabs.setCurrentIndex(0)
    assert dialog.grab().save(str(artifacts / "admin_after_changes.png"))


def _add_eve(qtbot: QtBot, dialog: AdminDialog, central_url: str, artifacts: Path) -> None:
    """Add, with a generated password shown once."""
    form = dialog.add_technician()
    fill_form(form, "eve.field", "Eve Fielding", "Field technician")
    (site,) = [form.sites.item(r) for r in range(form.sites.count())]
    assert site.text() == SITE.name
    site.setCheckState(Qt.CheckState.Checked)
    assert not form.generated_box.isVisible()
    password = form.generate_password()
    assert form.generated_box.isVisible() and form.generated.isReadOnly()
    assert form.generated.text() == password and len(password) >= admin_service.GENERATED_LENGTH
    assert form.password.text() == form.password_again.text() == password
    assert "not shown again" in field(form.form, QLabel, "generated_note").text()
    assert form.grab().save(str(artifacts / "admin_add_technician.png"))
    with qtbot.waitSignal(form.saved, timeout=TIMEOUT_MS) as saved:
        form.buttons.button(SAVE).click()
    assert saved.args[0].login == "eve.field"
    row = central_technicians(central_url)["eve.field"]
    assert (row["name"], row["tier"], row["role"], row["active"]) == ("Eve Fielding", 2, "field", 1)
    assert row["sites"] == f'["{SITE.id}"]' and row["email"] == "eve.field@agency.example"
    # The password shown is the one the login was given: Eve signs in with it.
    engine = create_engine(user_url(central_url, "eve.field", password), poolclass=NullPool)
    with engine.connect() as db:
        assert db.scalar(text("SELECT session_user")) == "eve.field"
    engine.dispose()
    qtbot.waitUntil(lambda: dialog.technicians.row_of("eve.field") is not None)
    assert "Enrolled Eve Fielding (eve.field)." in dialog.summary.text()
    assert dialog.problem.text() == ""


def _edit_and_retire_eve(qtbot: QtBot, dialog: AdminDialog, central_url: str) -> None:
    """Edit: the form comes filled in, only what changed is sent; retire: asked first."""
    select_login(dialog, "eve.field")
    edit = dialog.edit_technician()
    assert edit is not None and edit.login.isReadOnly() and edit.login.text() == "eve.field"
    assert edit.role.currentText() == "Field technician" and edit.tier.currentIndex() == 1
    assert edit.chosen_sites() == (SITE.id,)
    edit.tier.setCurrentIndex(2)
    edit.role.setCurrentIndex(edit.role.findText("Lead"))
    with qtbot.waitSignal(edit.saved, timeout=TIMEOUT_MS):
        edit.buttons.button(SAVE).click()
    row = central_technicians(central_url)["eve.field"]
    assert (row["name"], row["tier"], row["role"]) == ("Eve Fielding", 3, "lead")

    # Retire: asked first, naming the person.
    qtbot.waitUntil(lambda: dialog.technicians.row_of("eve.field") is not None)
    select_login(dialog, "eve.field")
    box = dialog.retire_technician()
    assert isinstance(box, QMessageBox)
    assert "Eve Fielding (eve.field)" in box.text()
    (retire,) = [b for b in box.buttons() if b.text() == "Retire"]
    retire.click()
    qtbot.waitUntil(lambda: central_technicians(central_url)["eve.field"]["active"] == 0)
    qtbot.waitUntil(lambda: "Retired Eve Fielding" in dialog.summary.text())
    qtbot.waitUntil(lambda: "Retired" in _row_texts(dialog, "eve.field"))
    select_login(dialog, "eve.field")
    assert not dialog.retire_button.isEnabled()  # retired already


def _add_a_site(qtbot: QtBot, dialog: AdminDialog, central_url: str, artifacts: Path) -> None:
    dialog.tabs.setCurrentIndex(1)
    site_form = dialog.add_site()
    site_form.name.setText("Tumwater Warehouse")
    site_form.address.setText("7273 Linderson Way SW, Tumwater, WA")
    site_form.timezone.setCurrentText("America/Los_Angeles")
    with qtbot.waitSignal(site_form.saved, timeout=TIMEOUT_MS):
        site_form.buttons.button(SAVE).click()
    qtbot.waitUntil(lambda: dialog.sites.rowCount() == 2)
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        names = set(db.scalars(select(central.sites.c.name)))
    engine.dispose()
    assert names == {SITE.name, "Tumwater Warehouse"}
    assert dialog.grab().save(str(artifacts / "admin_sites.png"))


def _row_texts(dialog: AdminDialog, login: str) -> list[str]:
    row = dialog.technicians.row_of(login)
    if row is None:
        return []
    model = dialog.technicians
    return [model.index(row, c).data() for c in range(model.columnCount())]


@pytest.mark.services
def test_a_lead_may_look_but_adding_someone_is_refused_in_one_line(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    central_url: str,
    artifacts: Path,
) -> None:
    login, password = f"lea.{uuid.uuid4().hex[:8]}", "lead-Pa55word"
    with admin.admin_session(central_url, Role.ADMIN, "enrol technicians") as session:
        admin.add_technician(session, Technician(login, "Lea Lead", 3, Role.LEAD), password)
    # Her own login over TCP; the password goes to the (test) keyring, not into the cache.
    connect_central(service.store, user_url(central_url, login, password), login, None, None)
    with service.store.read() as db:
        assert password not in (sync_state.state(db).central_url or "")
    window = open_window(qtbot, service, worker, settings)  # its sync brings Lea's own row
    assert window.sync_status.view.online is True
    dialog = open_admin(qtbot, window)
    assert dialog.technicians.row_of(login) is not None  # a lead may look

    form = dialog.add_technician()
    fill_form(form, "zed.agent", "Zed Agent", "Agent")
    form.password.setText("agent-Pa55word")
    form.password_again.setText("agent-Pa55word")
    form.buttons.button(SAVE).click()
    qtbot.waitUntil(lambda: form.problem.text() != "", timeout=TIMEOUT_MS)
    said = form.problem.text()
    assert said.startswith("only an admin may manage technicians"), said
    assert "\n" not in said and "Traceback" not in said and "internal error" not in said
    assert form.isVisible() and form.buttons.button(SAVE).isEnabled()  # the input is kept
    assert form.login.text() == "zed.agent"
    assert form.grab().save(str(artifacts / "admin_refused.png"))
    assert "zed.agent" not in central_technicians(central_url)
    form.reject()

    # Retiring someone is refused the same way, in the Administration dialog itself.
    select_login(dialog, AGENT.login)
    box = dialog.retire_technician()
    assert box is not None
    (retire,) = [b for b in box.buttons() if b.text() == "Retire"]
    retire.click()
    qtbot.waitUntil(lambda: dialog.problem.text() != "", timeout=TIMEOUT_MS)
    assert dialog.problem.text().startswith("only an admin may manage technicians")
    assert central_technicians(central_url)[AGENT.login]["active"] == 1


# -- without a server ------------------------------------------------------------------------


def test_the_form_checks_the_passwords_and_names_an_unreachable_server_plainly(
    qtbot: QtBot, artifacts: Path
) -> None:
    lane = DbWorker(name="workbench-network")
    try:
        url = "postgresql://cara.nguyen@127.0.0.1:1/central"  # nothing listens on port 1
        dialog = TechnicianDialog(CentralAdmin(url), lane, (SITE,))
        qtbot.addWidget(dialog)
        dialog.show()
        fill_form(dialog, "max.field", "Max Field", "Admin")
        dialog.password.setText("one-Pa55word")
        dialog.password_again.setText("another-Pa55word")
        dialog.buttons.button(SAVE).click()
        assert dialog.problem.text().startswith("The two passwords differ")
        assert lane.pending == 0  # nothing was sent

        dialog.generate_password()
        dialog.password_again.setText("typed over")  # the shown one is no longer the one
        assert not dialog.generated_box.isVisible() and dialog.generated.text() == ""

        dialog.password.setText("one-Pa55word")
        dialog.password_again.setText("one-Pa55word")
        dialog.buttons.button(SAVE).click()
        qtbot.waitUntil(lambda: dialog.problem.text() != "", timeout=TIMEOUT_MS)
        said = dialog.problem.text()
        assert "127.0.0.1:1/central" in said, said
        assert "cara.nguyen@" not in said and "\n" not in said and "Traceback" not in said
        assert dialog.isVisible()
        dialog.resize(1366 // 2, dialog.sizeHint().height())
        assert dialog.grab().save(str(artifacts / "admin_unreachable.png"))
    finally:
        lane.stop()


def test_the_edit_form_shows_labels_and_sends_nothing_unchanged(qtbot: QtBot) -> None:
    lane = DbWorker(name="workbench-network")
    try:
        tech = Technician("ben.okafor", "Ben Okafor", 2, Role.FIELD, (SITE.id,), "b@x.example")
        dialog = TechnicianDialog(CentralAdmin("postgresql://x@127.0.0.1:1/c"), lane, (SITE,), tech)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.role.currentText() == "Field technician"
        assert [dialog.role.itemText(i) for i in range(dialog.role.count())] == [
            "Agent",
            "Field technician",
            "Lead",
            "Admin",
        ]
        assert dialog.tier.currentText().startswith("Tier 2")
        with qtbot.waitSignal(dialog.finished, timeout=1000):
            dialog.buttons.button(SAVE).click()
        assert lane.pending == 0
    finally:
        lane.stop()


# -- the models ------------------------------------------------------------------------------


def test_the_models_pass_the_model_tester(qtmodeltester: object) -> None:
    depot = Site("site-dep", "Tumwater Depot", "", "America/Los_Angeles")
    retired = Technician("old.timer", "Old Timer", 1, Role.AGENT, ("site-gone",), "", False)
    directory = Directory((AGENT, FIELD, LEAD, retired), (SITE, depot))
    technicians = TechnicianTableModel()
    technicians.set_directory(directory)
    qtmodeltester.check(technicians)  # type: ignore[attr-defined]
    assert technicians.rowCount() == 4 and technicians.columnCount() == 7
    assert technicians.index(1, 5).data() == "Olympia HQ"
    assert technicians.index(3, 6).data() == "Retired"
    assert technicians.index(3, 5).data() == "site-gone"  # unknown to the central: as stored
    assert technicians.index(3, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    sites = SiteTableModel()
    sites.set_sites(directory.sites)
    qtmodeltester.check(sites)  # type: ignore[attr-defined]
    assert sites.index(1, 1).data() == "—"
    empty = TechnicianTableModel()
    qtmodeltester.check(empty)  # type: ignore[attr-defined]


def test_generated_passwords_are_long_random_and_unambiguous() -> None:
    made = {admin_service.generate_password() for _ in range(50)}
    assert len(made) == 50
    assert all(len(p) == admin_service.GENERATED_LENGTH for p in made)
    assert not set("".join(made)) & set("0O1lI")


def test_the_service_checks_input_before_it_connects() -> None:
    service = CentralAdmin("postgresql://x@127.0.0.1:1/c")
    for kwargs, said in (
        ({"login": "Bad Login"}, "login 'Bad Login'"),
        ({"name": "  "}, "needs a name"),
        ({"email": "nope"}, "not an e-mail"),
        ({"tier": 4}, "the tier is 1, 2 or 3"),
        ({"password": "short"}, "at least 8"),
    ):
        given = {"login": "ok.login", "name": "Ok", "email": "", "tier": 1, "password": None}
        given.update(kwargs)
        login = str(given.pop("login"))
        with pytest.raises(BadInput, match=said):
            service.add_technician(login, role=Role.AGENT, **given)  # type: ignore[arg-type]
    with pytest.raises(BadInput, match="nothing to change"):
        service.edit_technician("ok.login")


def test_may_administer_follows_the_cache(store: Store) -> None:
    assert not admin_service.may_administer(store)  # not connected
    for login, may in ((AGENT.login, False), (FIELD.login, False), (LEAD.login, True)):
        with store.write() as tx:
            sync_state.set_login(tx, "postgresql://x@db.example/c", login)
        assert admin_service.may_administer(store) is may
    with store.write() as tx:
        sync_state.set_login(tx, "postgresql://x@db.example/c", "somebody.unknown")
    assert not admin_service.may_administer(store)
