"""The first run: an empty, unconnected cache offers to connect or to load the demo data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel
from pytestqt.qtbot import QtBot

from tests.gui.window import status_text
from tests.integration.sync.conftest import prepare_central
from tests.support.workbench import Clock
from workbench.core.policy import SlaPolicy
from workbench.gui.first_run import DEMO_TICKETS, needs_first_run
from workbench.gui.login_dialog import LoginDialog
from workbench.gui.main_window import MainWindow
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state
from workbench.store.database import DB_FILENAME

TIMEOUT_MS = 30_000


@pytest.fixture
def empty(
    tmp_path: Path, migrated_cache: Path, policy: SlaPolicy, clock: Clock
) -> Iterator[TicketService]:
    """A cache as a first start makes it: no tickets, no people, no central."""
    data_dir = tmp_path / "first-start"
    data_dir.mkdir()
    shutil.copyfile(migrated_cache, data_dir / DB_FILENAME)
    store = Store.open(data_dir)
    yield TicketService(store, policy, None, clock)
    store.close()


def open_window(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> MainWindow:
    window = MainWindow(service, worker, settings)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.model.total_known, timeout=TIMEOUT_MS):
        window.start()
    qtbot.waitUntil(lambda: worker.pending == 0)
    return window


def texts(window: MainWindow) -> list[str]:
    return [label.text() for label in window.first_run.panel.findChildren(QLabel)]


def test_an_empty_cache_offers_both_ways_in(
    qtbot: QtBot, empty: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    window = open_window(qtbot, empty, worker, settings)
    first = window.first_run
    qtbot.waitUntil(lambda: first.shown)
    panel = first.panel
    assert panel.isVisible() and not window.table.isVisible() and not window.search.isVisible()
    assert not [d for d in window.docks.values() if d.isVisible()]  # no ticket to follow yet
    assert panel.connect_button.text() == "Connect to your help desk"
    assert panel.demo_button.text() == "Try the demo data"
    assert panel.connect_button.isVisible() and panel.demo_button.isVisible()
    assert panel.connect_button.isEnabled() and panel.demo_button.isEnabled()
    assert any("not connected to a help desk" in t for t in texts(window))
    assert not panel.progress.isVisible()
    assert "local only" in status_text(window)
    assert window.grab().save(str(artifacts / "first_run.png"))


def test_the_demo_choice_fills_the_list(
    qtbot: QtBot, empty: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    window = open_window(qtbot, empty, worker, settings)
    panel = window.first_run.panel
    qtbot.waitUntil(lambda: window.first_run.shown)
    with qtbot.waitSignal(panel.demo_loaded, timeout=TIMEOUT_MS) as loaded:
        panel.demo_button.click()
        assert panel.progress.isVisible()  # while the cache is being filled
        assert not panel.demo_button.isEnabled() and not panel.connect_button.isEnabled()
        assert f"{DEMO_TICKETS:,} tickets" in panel.status.text()
        assert window.grab().save(str(artifacts / "first_run_loading.png"))
    assert loaded.args[0].summary.tickets == DEMO_TICKETS
    technician = loaded.args[0].technician
    assert technician  # the demo cache works as one of its technicians
    assert not window.first_run.shown
    qtbot.waitUntil(lambda: window.table.isVisible() and window.search.isVisible())
    tree, console = window.docks["Troubleshooting tree"], window.docks["Remote console"]
    # Back as they were: the tree in front, the console open behind its tab.
    qtbot.waitUntil(lambda: not tree.visibleRegion().isEmpty())
    assert console.toggleViewAction().isChecked() and console.visibleRegion().isEmpty()
    # Their own queue first, as for anyone who signs in; the other views are all there.
    qtbot.waitUntil(lambda: window.navigation.currentItem().text(0) == "My tickets")
    views = [window.navigation.topLevelItem(i).text(0) for i in range(3)]
    assert views[0] == "My tickets" and views[1].startswith("Tier 1")
    assert window.navigation.findItems("All tickets", Qt.MatchFlag.MatchExactly)
    qtbot.waitUntil(lambda: window.detail.detail is not None)  # the first ticket is shown
    # The demo's people can be assigned, and the ticket shows whom it is assigned to.
    fields = window.detail.fields
    qtbot.waitUntil(lambda: fields.assignee.count() > 1)
    shown = window.detail.detail
    assert shown is not None and fields.assignee.currentData() == shown.ticket.assignee
    assert not fields.save.isEnabled()  # nothing changed by the reload
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert not needs_first_run(empty.store)
    assert window.statusBar().currentMessage().startswith("Demo data loaded: 3,000 tickets")
    assert window.grab().save(str(artifacts / "first_run_demo_loaded.png"))


@pytest.mark.services
@pytest.mark.usefixtures("profile_keyring")  # the OS keyring is never touched
def test_connect_opens_the_connect_dialog_and_a_login_puts_the_list_back(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, pg_database: str
) -> None:
    url = prepare_central(pg_database)
    window = open_window(qtbot, service, worker, settings)
    qtbot.waitUntil(lambda: window.first_run.shown)
    # This cache holds people from somewhere already: the demo would collide with them.
    panel = window.first_run.panel
    assert not panel.demo_button.isEnabled() and "only into an empty cache" in panel.status.text()
    assert panel.connect_button.isEnabled()
    window.first_run.panel.connect_button.click()
    (dialog,) = window.findChildren(LoginDialog)
    assert dialog.isVisible()
    dialog.reject()
    window.first_run.panel.connect_button.click()  # the same dialog again, connected once
    assert window.findChildren(LoginDialog) == [dialog] and dialog.isVisible()
    qtbot.waitUntil(lambda: worker.pending == 0)  # the dialog has read what it shows
    dialog.url.setText(url)
    dialog.technician.setText("ana.lopez")
    with qtbot.waitSignal(window.sync_status.synced, timeout=TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        qtbot.waitUntil(lambda: not window.first_run.shown)
    assert window.table.isVisible() and window.search.isVisible()
    assert not dialog.isVisible()
    assert window.sync_status.view.online is True


def test_tickets_or_a_central_mean_no_first_run(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    filled: Store,
) -> None:
    assert not needs_first_run(filled)
    window = open_window(qtbot, service, worker, settings)
    qtbot.wait(50)
    assert not window.first_run.shown and window.table.isVisible()


def test_a_connected_cache_without_tickets_is_no_first_run(store: Store) -> None:
    assert needs_first_run(store)
    with store.write() as tx:
        sync_state.set_login(tx, "postgresql://ana@db.example/central", "ana.lopez")
    assert not needs_first_run(store)


def test_a_ticket_made_on_the_empty_cache_puts_the_list_back(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    settings.setValue("view", "All tickets")
    window = open_window(qtbot, service, worker, settings)
    qtbot.waitUntil(lambda: window.first_run.shown)
    service.create(title="Printer jams", category="printing", impact=3, urgency=3)
    window.refresh()
    qtbot.waitUntil(lambda: not window.first_run.shown)
    assert window.table.isVisible()
