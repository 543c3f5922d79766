"""Bulk actions on selected tickets, saved searches and logging time from the window."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings
from pytestqt.qtbot import QtBot

from tests.gui.window import open_window
from tests.support.workbench import FIELD
from workbench.core.models import Status, WorklogKind
from workbench.gui import bulk as bulk_module
from workbench.gui import main_window as main_window_module
from workbench.gui.bulk import BULK_ACTIONS
from workbench.gui.main_window import MainWindow
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

pytestmark = pytest.mark.usefixtures("filled")


def select_rows(window: MainWindow, rows: list[int]) -> None:
    window.table.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in rows:
        window.table.selectionModel().select(window.model.index(row, 0), flags)


def test_bulk_action_applies_to_each_and_reports_refusals(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    tickets = [window.model.summary(row).ticket for row in range(3)]
    service.resolve(service.assign(tickets[1].id).ticket.id, "fixed")
    service.close(tickets[1].id)  # a closed ticket cannot be started: refused, others go on
    refusals: list[str] = []
    monkeypatch.setattr(
        main_window_module.QMessageBox, "information", lambda _p, _t, text: refusals.append(text)
    )
    select_rows(window, [0, 1, 2])
    assert [ref for _id, ref in window.selected_tickets()] == [t.ref for t in tickets]
    start = next(a for a in BULK_ACTIONS if a.name == "start")
    with qtbot.waitSignal(window.bulk.finished) as finished:
        window.bulk.perform(start, {})
    result = finished.args[0]
    assert set(result.done) == {tickets[0].ref, tickets[2].ref}
    assert [ref for ref, _why in result.refused] == [tickets[1].ref]
    qtbot.waitUntil(lambda: bool(refusals))
    assert tickets[1].ref in refusals[0] and "closed" in refusals[0].lower()
    for ticket, expected in zip(tickets, (Status.IN_PROGRESS, Status.CLOSED, Status.IN_PROGRESS),
                                strict=True):  # fmt: skip
        assert service.detail(ticket.id).ticket.status is expected


def test_bulk_assign_to_a_technician_asks_whom(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    chosen: list[list[str]] = []

    def pick(_parent: object, _title: str, _label: str, items: list[str], *_a: object) -> tuple:
        chosen.append(items)
        return next(i for i in items if "(ben.okafor," in i), True

    monkeypatch.setattr(bulk_module.QInputDialog, "getItem", pick)
    select_rows(window, [3, 4])
    ids = [ticket_id for ticket_id, _ref in window.selected_tickets()]
    with qtbot.waitSignal(window.bulk.finished, timeout=5_000):
        window.bulk.assign_to()
    assert chosen and len(chosen[0]) >= 1
    for ticket_id in ids:
        detail = service.detail(ticket_id)
        assert detail.ticket.assignee == FIELD.login
        assert {op.entity for op in detail.pending} >= {"ticket", "worklog"}


def test_saved_search_persists_and_can_be_removed(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service.update("HD-000100", {"title": "Scanner jams on tray 2"})
    window = open_window(qtbot, service, worker, settings)
    monkeypatch.setattr(
        main_window_module.QInputDialog, "getText", lambda *_a, **_k: ("Jammed scanners", True)
    )
    with qtbot.waitSignal(window.model.total_known, timeout=5_000):
        window.search.setText("scann jam")
    window.save_search()
    assert window.navigation.saved() == [("Jammed scanners", "scann jam")]
    window.navigation.choose("All tickets")
    window.close()

    again = open_window(qtbot, service, worker, settings)
    assert again.navigation.saved() == [("Jammed scanners", "scann jam")]
    with qtbot.waitSignal(again.model.total_known, timeout=5_000) as found:
        again.navigation.choose("Jammed scanners")
    assert found.args == [1] and again.search.text() == "scann jam"
    assert again.model.summary(0).ticket.title == "Scanner jams on tray 2"
    saved_item = again.navigation.currentItem()
    assert again.navigation.remove_saved(saved_item)
    again._store_saved_searches()  # what the context menu's Remove does after removing
    assert again.navigation.saved() == []
    assert settings.value("saved_searches") == "[]"


def test_log_time_and_note_with_minutes(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        main_window_module.QMessageBox, "warning", lambda _p, _t, text: shown.append(text)
    )
    window = open_window(qtbot, service, worker, settings)
    pane = window.detail
    assert pane.detail is not None
    ticket_id = pane.detail.ticket.id
    before = service.detail(ticket_id).minutes_spent
    pane.minutes.setValue(25)
    pane.note.setPlainText("Drove to site B and swapped the dock")
    with qtbot.waitSignal(pane.ticket_changed):
        pane.log_time_button.click()
    entry = service.detail(ticket_id).worklog[-1]
    assert (entry.kind, entry.minutes) == (WorklogKind.TIME_SPENT, 25)
    assert entry.text == "Drove to site B and swapped the dock"
    assert pane.minutes.value() == 0 and pane.note.toPlainText() == ""
    pane.minutes.setValue(10)
    pane.note.setPlainText("Called the requester back")
    with qtbot.waitSignal(pane.ticket_changed):
        pane.add_note()
    detail = service.detail(ticket_id)
    assert (detail.worklog[-1].kind, detail.worklog[-1].minutes) == (WorklogKind.NOTE, 10)
    assert detail.minutes_spent == before + 35
    assert f"{before + 35} min spent" in pane.view.toPlainText()
    errors: list[object] = []
    pane.failed.connect(errors.append)
    pane.log_time()  # no minutes set: refused in words, nothing stored
    assert errors and "minutes" in str(errors[0]) and shown == [str(errors[0])]
    assert service.detail(ticket_id).minutes_spent == before + 35


def test_slow_work_shows_progress_and_the_window_stays_responsive(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    release = threading.Event()
    worker.submit(lambda: release.wait(10), lambda _result: None)  # a query that takes a while
    qtbot.waitUntil(window.busy.isVisible, timeout=3_000)
    window.search.setText("monitor")  # typing goes on while the worker is busy
    assert window.search.text() == "monitor"
    release.set()
    qtbot.waitUntil(lambda: not window.busy.isVisible(), timeout=5_000)
    qtbot.waitUntil(lambda: "Search “monitor”" in window._count_label.text(), timeout=5_000)


def test_a_dock_pane_is_built_when_first_shown_and_starts_from_the_ticket_on_screen(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    assert "Troubleshooting tree" in window.panes  # the tab in front
    assert "Remote console" not in window.panes  # the tab behind it costs the start nothing
    detail = window.detail.detail
    assert detail is not None and detail.asset is not None and detail.asset.hostname
    window.docks["Remote console"].raise_()
    qtbot.waitUntil(lambda: "Remote console" in window.panes)
    console = window.panes["Remote console"]
    assert window.docks["Remote console"].widget().widget() is console  # in its scroll area
    assert console.ui.targets.toPlainText() == detail.asset.hostname
    assert window.pane("Remote console") is console  # built once
    assert window.pane("No such dock") is None
    qtbot.waitUntil(lambda: worker.pending == 0)
