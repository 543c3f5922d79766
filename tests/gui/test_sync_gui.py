"""Background sync in the window against a real PostgreSQL: F9, the timer, offline, conflicts."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Fleet, Laptop, prepare_central
from tests.support.keyrings import JsonFileKeyring
from tests.support.workbench import Clock
from workbench.core.policy import SlaPolicy
from workbench.gui.conflicts import ConflictsDialog
from workbench.gui.login_dialog import LoginDialog
from workbench.gui.main_window import MainWindow
from workbench.gui.sync_status import CONNECT_ACTION, INTERVAL_KEY, SyncView, describe
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state
from workbench.sync import central

pytestmark = pytest.mark.usefixtures("profile_keyring")  # the OS keyring is never touched
SYNC_TIMEOUT_MS = 20_000
UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def central_url(pg_database: str) -> str:
    return prepare_central(pg_database)


@pytest.fixture
def fleet(
    tmp_path: Path, migrated_cache: Path, central_url: str, policy: SlaPolicy, clock: Clock
) -> Iterator[Fleet]:
    made = Fleet(tmp_path, migrated_cache, central_url, policy, clock)
    yield made
    made.close()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    stored = QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)
    stored.setValue("view", "All tickets")
    stored.setValue(INTERVAL_KEY, 3600)  # only F9 syncs, unless a test wants the timer
    return stored


def log_in(store: Store, url: str, technician: str) -> None:
    with store.write() as tx:
        sync_state.set_login(tx, url, technician)


def open_window(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    synced: bool = False,
) -> MainWindow:
    window = MainWindow(service, worker, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    started = window.sync_status.synced if synced else window.model.total_known
    with qtbot.waitSignal(started, timeout=SYNC_TIMEOUT_MS):
        window.start()  # a configured window syncs as it starts
    return window


def start_synced(qtbot: QtBot, laptop: Laptop, worker: DbWorker, settings: QSettings) -> MainWindow:
    log_in(laptop.store, laptop.sync_with.url, laptop.service.technician or "")
    window = open_window(qtbot, laptop.service, worker, settings, synced=True)
    assert window.sync_status.view.online is True
    return window


def central_rows(url: str, table: str) -> list[dict[str, object]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        found = [dict(r) for r in db.execute(select(central.metadata.tables[table])).mappings()]
    engine.dispose()
    return found


def silent_server() -> socket.socket:
    """A server on loopback that accepts connections and never answers."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    return silent


@pytest.mark.services
def press_f9(window: MainWindow) -> None:
    """The menu action bound to F9 (a key press needs the window active, which Xvfb without a
    window manager does not promise)."""
    (action,) = [a for a in window.findChildren(QAction) if QKeySequence("F9") in a.shortcuts()]
    action.trigger()


def test_f9_pushes_a_local_ticket_and_shows_the_last_sync(
    qtbot: QtBot, fleet: Fleet, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    ana = fleet("ana.lopez")
    window = start_synced(qtbot, ana, worker, settings)
    status = window.sync_status
    created = ana.service.create(
        title="Dock has no video", category="hardware", impact=3, urgency=3
    )
    window.refresh()
    qtbot.waitUntil(lambda: status.view.pending == 2)  # the ticket and its opening worklog

    rounds: list[None] = []
    status.synced.connect(lambda: rounds.append(None))
    with qtbot.waitSignal(status.synced, timeout=SYNC_TIMEOUT_MS):
        press_f9(window)
        assert status.busy  # F9 started it
        assert status.sync_now() is False  # one sync at a time
    qtbot.wait(300)
    assert len(rounds) == 1

    (row,) = [r for r in central_rows(ana.sync_with.url, "tickets") if r["id"] == created.ticket.id]
    assert row["title"] == "Dock has no video" and str(row["number"]).startswith("HD-")
    # The sync pushed something: the list was reloaded and shows the central number.
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    qtbot.waitUntil(lambda: window.model.summary(0).ticket.number == row["number"])
    qtbot.waitUntil(lambda: "0 pending" in status.text())
    assert "online" in status.text() and "synced just now" in status.text()
    assert datetime.now(UTC) - (status.view.last_sync or UTC_EPOCH) < timedelta(minutes=1)
    assert "conflict" not in status.text() and "clock" not in status.text()
    assert window.grab().save(str(artifacts / "status_online.png"))


@pytest.mark.services
def test_the_timer_syncs_without_f9(
    qtbot: QtBot, fleet: Fleet, worker: DbWorker, settings: QSettings
) -> None:
    settings.setValue(INTERVAL_KEY, 1)
    ana = fleet("ana.lopez")
    window = start_synced(qtbot, ana, worker, settings)
    created = ana.service.create(title="Badge reader", category="hardware", impact=3, urgency=3)
    assert window.sync_status.view.pending == 0  # nobody calls sync_now() from here on
    qtbot.waitUntil(
        lambda: created.ticket.id in {r["id"] for r in central_rows(ana.sync_with.url, "tickets")},
        timeout=SYNC_TIMEOUT_MS,
    )


@pytest.mark.services
def test_an_unreachable_server_leaves_the_window_working_offline(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    artifacts: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    dialogs: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: dialogs.append(text))
    silent = silent_server()  # then goes away
    port = silent.getsockname()[1]
    url = f"postgresql://ana@127.0.0.1:{port}/central"
    secret = "s3cret-Pa55"
    log_in(service.store, url, "ana.lopez")
    with service.store.write() as tx:
        central.keep_cache_key(tx, "gui-test")
    central.store_password(url, "gui-test", secret)
    settings.setValue(INTERVAL_KEY, 1)
    window = open_window(qtbot, service, worker, settings)
    status = window.sync_status
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    qtbot.waitUntil(lambda: status.view.syncing)
    assert "syncing" in status.text()

    # While the sync waits on the network, local work and the list go on.
    created = service.create(title="Printer offline", category="printing", impact=3, urgency=3)
    window.refresh()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.summary(0).ticket.id == created.ticket.id
    assert status.view.syncing

    with qtbot.waitSignal(status.synced, timeout=SYNC_TIMEOUT_MS):
        silent.close()
    assert status.view.online is False
    qtbot.waitUntil(lambda: "2 pending" in status.text())
    assert "offline" in status.text() and "never synced" in status.text()
    tip = status.toolTip()
    assert f"127.0.0.1:{port}/central" in tip and "Work continues offline" in tip
    assert any(m.startswith("Offline — ") for m in messages)

    rounds: list[None] = []
    status.synced.connect(lambda: rounds.append(None))
    qtbot.waitUntil(lambda: len(rounds) >= 2, timeout=SYNC_TIMEOUT_MS)  # the ticks retry
    assert status.view.online is False
    assert len([m for m in messages if m.startswith("Offline")]) == 1  # said once, not per tick
    assert dialogs == []
    shown = [status.text(), tip, *messages, caplog.text]
    assert not [s for s in shown if secret in s or "ana@" in s]
    assert window.grab().save(str(artifacts / "status_offline.png"))


def test_closing_the_window_does_not_wait_for_a_silent_server(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    with silent_server() as silent:
        # Without a stop the sync would wait the whole minute for its connection.
        url = f"postgresql://ana@127.0.0.1:{silent.getsockname()[1]}/central?connect_timeout=60"
        log_in(service.store, url, "ana.lopez")
        window = open_window(qtbot, service, worker, settings)
        status = window.sync_status
        qtbot.waitUntil(lambda: status.view.syncing)
        created = service.create(title="Left offline", category="hardware", impact=3, urgency=3)

        started = time.monotonic()
        window.close()
        qtbot.waitUntil(lambda: worker.network.pending == 0, timeout=10_000)  # the round ended
        assert time.monotonic() - started < 10
    with service.store.read() as db:  # the work done meanwhile waits in the outbox
        assert {op.entity_id for op in db.outbox()} >= {created.ticket.id}
        assert sync_state.state(db).last_sync is None


@pytest.mark.services
def test_conflicts_are_listed_and_resolved_from_the_window(
    qtbot: QtBot, fleet: Fleet, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    ana, ben = fleet("ana.lopez"), fleet("ben.okafor")
    ticket = ben.service.create(title="Scanner", category="hardware", impact=3, urgency=3).ticket
    ben.sync()
    window = start_synced(qtbot, ana, worker, settings)
    status = window.sync_status
    ana.service.update(ticket.id, {"title": "Scanner offline", "description": "no light"})
    ben.service.update(ticket.id, {"title": "Scanner jammed", "description": "paper stuck"})
    ben.sync()
    with qtbot.waitSignal(status.synced, timeout=SYNC_TIMEOUT_MS):
        status.sync_now()
    assert status.view.conflicts == 2
    assert '<a href="conflicts">2 conflicts</a>' in status.text()

    status.linkActivated.emit("conflicts")  # what a click on the badge does
    dialog = window.findChild(ConflictsDialog)
    assert dialog is not None and dialog.isVisible()
    (menu_entry,) = [a for a in window.findChildren(QAction) if a.text() == "Conflicts…"]
    menu_entry.trigger()  # the menu brings the same dialog back, not a second one
    assert window.findChildren(ConflictsDialog) == [dialog]
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    cells = [
        [dialog.table.item(r, c).text() for c in range(dialog.table.columnCount())]
        for r in range(2)
    ]
    number = ana.service.detail(ticket.id).ticket.number
    assert {tuple(row[:6]) for row in cells} == {
        (
            f"ticket {number}",
            "title",
            "Scanner jammed",
            "ben.okafor",
            "Scanner offline",
            "ana.lopez",
        ),
        (f"ticket {number}", "description", "paper stuck", "ben.okafor", "no light", "ana.lopez"),
    }
    summary = dialog.summary  # laid out on the next turn of the event loop
    qtbot.waitUntil(lambda: summary.height() >= summary.heightForWidth(summary.width()))
    assert dialog.grab().save(str(artifacts / "conflicts_dialog.png"))

    by_field = {r.conflict.field: r.conflict.id for r in dialog.rows}
    # Decided elsewhere meanwhile (the CLI): the dialog says so and changes nothing.
    with ana.store.write() as tx:
        sync_state.resolve_conflict(tx, by_field["description"], "theirs", "ana.lopez")
    dialog.select(by_field["description"])
    dialog.apply_mine.click()
    qtbot.waitUntil(lambda: "resolved already" in dialog.problem.text())
    assert ana.service.detail(ticket.id).ticket.description == "paper stuck"
    dialog.reload()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    dialog.select(by_field["title"])
    dialog.apply_mine.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0)
    assert not dialog.keep_theirs.isEnabled() and dialog.summary.text() == "No open conflicts."
    local = ana.service.detail(ticket.id).ticket
    assert (local.title, local.description) == ("Scanner offline", "paper stuck")
    qtbot.waitUntil(lambda: status.view.conflicts == 0 and "conflict" not in status.text())

    with qtbot.waitSignal(status.synced, timeout=SYNC_TIMEOUT_MS):
        assert status.sync_now()  # F9 belongs to the main window, the dialog is in front
    resolutions = {
        r["field"]: r["resolution"] for r in central_rows(ana.sync_with.url, "conflicts")
    }
    assert resolutions == {"title": "mine", "description": "theirs"}
    (row,) = central_rows(ana.sync_with.url, "tickets")
    assert (row["title"], row["description"]) == ("Scanner offline", "paper stuck")
    ben.sync()
    assert ben.service.detail(ticket.id).ticket.title == "Scanner offline"


def test_without_a_central_the_window_stays_local_only(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    status = window.sync_status
    local_only = 'local only · 0 pending · <a href="connect">connect…</a>'
    qtbot.waitUntil(lambda: status.text() == local_only)
    assert CONNECT_ACTION in status.toolTip()
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    press_f9(window)
    qtbot.waitUntil(lambda: any(CONNECT_ACTION in m and "workbench login" in m for m in messages))
    assert status.text() == local_only and status.view.server is None
    assert worker._network is None  # noqa: SLF001  (no network lane without a central)


def test_the_indicator_flags_a_clock_off_by_more_than_five_minutes() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    view = SyncView(server="db:5432/central", pending=3, conflicts=1, clock_skew_s=-420)
    text, tip = describe(replace(view, last_sync=now - timedelta(minutes=2, seconds=5)), now)
    assert "3 pending" in text and "synced 2 min ago" in text and "1 conflict<" in text
    assert "clock 7 min behind server" in text and "clock is off" in tip
    assert "clock" not in describe(replace(view, clock_skew_s=290), now)[0]
    later = describe(replace(view, last_sync=now - timedelta(hours=3)), now)[0]
    assert "synced 3 h ago" in later


def open_login_from_menu(window: MainWindow) -> LoginDialog:
    (action,) = [a for a in window.findChildren(QAction) if a.text() == CONNECT_ACTION]
    action.trigger()
    (dialog,) = window.findChildren(LoginDialog)
    return dialog


@pytest.mark.services
def test_the_login_dialog_connects_the_cache_and_syncs_at_once(
    qtbot: QtBot,
    fleet: Fleet,
    worker: DbWorker,
    settings: QSettings,
    artifacts: Path,
    profile_keyring: JsonFileKeyring,
) -> None:
    ana = fleet("ana.lopez")  # a cache with reference data, its scope "all", not logged in
    created = ana.service.create(title="Laptop fan loud", category="hardware", impact=3, urgency=3)
    window = open_window(qtbot, ana.service, worker, settings)
    status = window.sync_status
    qtbot.waitUntil(lambda: "local only · 2 pending" in status.text())

    dialog = open_login_from_menu(window)
    assert dialog.isVisible() and dialog.password.echoMode() == dialog.password.EchoMode.Password
    qtbot.waitUntil(lambda: dialog.scope.currentData() == "all")  # the cache's scope
    assert dialog.url.text() == "" and dialog.url.placeholderText().startswith("postgresql://")
    secret = "s3cret-Pa55"
    dialog.url.setText(f" {ana.sync_with.url} ")
    dialog.technician.setText("ana.lopez ")
    dialog.password.setText(secret)
    assert dialog.grab().save(str(artifacts / "login_dialog.png"))
    with qtbot.waitSignal(status.synced, timeout=SYNC_TIMEOUT_MS):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert not dialog.isVisible()

    with ana.store.read() as db:
        connected = sync_state.state(db)
    assert (connected.central_url, connected.technician, connected.scope) == (
        ana.sync_with.url,
        "ana.lopez",
        "all",
    )
    with ana.store.read() as db:  # this cache's own entry
        key = central.cache_key(db)
    account = central.keyring_account(central.parse_url(ana.sync_with.url), key)
    assert profile_keyring.entries() == {f"{central.KEYRING_SERVICE}/{account}": secret}
    for written in ana.data_dir.iterdir():  # the cache, its WAL
        assert secret.encode() not in written.read_bytes(), written
    assert status.view.online is True and "online" in status.text()
    assert created.ticket.id in {r["id"] for r in central_rows(ana.sync_with.url, "tickets")}
    qtbot.waitUntil(lambda: "0 pending" in status.text())

    assert open_login_from_menu(window) is dialog  # now with what the cache is connected to
    qtbot.waitUntil(lambda: dialog.url.text() == ana.sync_with.url)
    assert dialog.technician.text() == "ana.lopez" and dialog.password.text() == ""
    assert dialog.scope.currentData() == "all"


@pytest.mark.services
def test_connecting_anew_during_a_round_syncs_with_the_new_server_when_it_ends(
    qtbot: QtBot, fleet: Fleet, worker: DbWorker, settings: QSettings
) -> None:
    ana = fleet("ana.lopez")
    rounds: list[bool | None] = []  # online, as each round ended
    with silent_server() as silent:  # a wrong server: the first round waits on it
        log_in(
            ana.store, f"postgresql://ana@127.0.0.1:{silent.getsockname()[1]}/central", "ana.lopez"
        )
        window = open_window(qtbot, ana.service, worker, settings)
        status = window.sync_status
        status.synced.connect(lambda: rounds.append(status.view.online))
        qtbot.waitUntil(lambda: status.view.syncing)
        dialog = open_login_from_menu(window)
        qtbot.waitUntil(lambda: dialog.technician.text() == "ana.lopez")
        dialog.url.setText(ana.sync_with.url)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
        qtbot.waitUntil(lambda: not dialog.isVisible())
        assert status.busy and rounds == []  # still the round with the wrong server
    qtbot.waitUntil(lambda: len(rounds) == 2, timeout=SYNC_TIMEOUT_MS)
    assert rounds == [False, True]
    assert "online" in status.text()


def test_the_login_dialog_refuses_bad_input_and_changes_nothing(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    artifacts: Path,
    profile_keyring: JsonFileKeyring,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    status = window.sync_status
    qtbot.waitUntil(lambda: "local only" in status.text())
    status.linkActivated.emit("connect")  # what a click on "connect…" does
    (dialog,) = window.findChildren(LoginDialog)
    qtbot.waitUntil(lambda: dialog.scope.currentData() == "mine")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    dialog.password.setText("s3cret-Pa55")
    for url, technician, problem in (
        ("db.example.org/central", "ana.lopez", "not a database URL"),
        ("mysql://ana@db.example.org/central", "ana.lopez", "must be PostgreSQL"),
        ("postgresql://ana@db.example.org/central", "  ", "technician login is empty"),
    ):
        dialog.url.setText(url)
        dialog.technician.setText(technician)
        save.click()
        qtbot.waitUntil(lambda: dialog.problem.text() != "")  # cleared as the save starts
        assert problem in dialog.problem.text()
        assert dialog.isVisible() and save.isEnabled()
    assert dialog.grab().save(str(artifacts / "login_dialog_refused.png"))
    with service.store.read() as db:
        unchanged = sync_state.state(db)
    assert (unchanged.central_url, unchanged.technician) == (None, None)
    assert profile_keyring.entries() == {}
    assert status.view.server is None and not status.busy  # no round
