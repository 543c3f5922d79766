"""The change hub: every commit reaches the open window's list, detail and counts in place."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from tests.gui.window import TICKETS, open_window
from tests.support.workbench import AGENT
from workbench.core.changes import ChangeSet
from workbench.core.labels import label
from workbench.core.models import Status
from workbench.gui import detail as detail_module
from workbench.gui.main_window import MainWindow
from workbench.gui.ticket_model import PAGE_SIZE
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store, sync_state

pytestmark = pytest.mark.usefixtures("filled")

STATUS, ASSIGNEE = 2, 6
ANSWERS = {"wait_reason": "customer", "note": "Asked for the serial", "resolution": "New cable",
           "reason": "Came back", "queue": "field-support", "assignee": ""}  # fmt: skip


def count_resets(window: MainWindow) -> list[None]:
    resets: list[None] = []
    window.model.modelAboutToBeReset.connect(lambda: resets.append(None))
    return resets


def selected_ids(window: MainWindow) -> list[str]:
    return [ticket_id for ticket_id, _ref in window.selected_tickets()]


def row_of(window: MainWindow, ticket_id: str) -> int | None:
    rows = range(window.model.rowCount())
    return next((r for r in rows if window.model.summary(r).ticket.id == ticket_id), None)


def test_every_lifecycle_button_and_save_update_the_row_in_place(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        detail_module,
        "ask",
        lambda _parent, action, _escalation=None: {q: ANSWERS[q] for q in action.questions},
    )
    window = open_window(qtbot, service, worker, settings)
    resets = count_resets(window)
    pane, model = window.detail, window.model
    assert pane.detail is not None
    ticket_id = pane.detail.ticket.id
    assert selected_ids(window) == [ticket_id]
    steps = [
        ("assign", Status.ASSIGNED),
        ("start", Status.IN_PROGRESS),
        ("wait", Status.WAITING),
        ("start", Status.IN_PROGRESS),
        ("escalate", Status.NEW),  # to tier 2, unassigned
        ("resolve", Status.RESOLVED),
        ("close", Status.CLOSED),
        ("reopen", Status.REOPENED),
    ]
    for name, status in steps:
        with qtbot.waitSignal(pane.ticket_changed):
            pane.buttons[name].click()
        assert pane.detail is not None and pane.detail.ticket.status is status, name
        qtbot.waitUntil(lambda s=status: model.index(0, STATUS).data() == label(s), timeout=3000)
        assert model.summary(0).ticket.id == ticket_id
        assert model.index(0, ASSIGNEE).data() == (pane.detail.ticket.assignee or "")
        assert name != "assign" or pane.detail.ticket.assignee == AGENT.login
        assert selected_ids(window) == [ticket_id], name
    fields = pane.fields
    fields.impact.setCurrentIndex(2)
    fields.urgency.setCurrentIndex(2)
    with qtbot.waitSignal(pane.ticket_changed):
        fields.save.click()
    expected = service.detail(ticket_id).ticket.priority
    qtbot.waitUntil(lambda: model.summary(0).ticket.priority is expected, timeout=3000)
    assert model.index(0, 1).data() == expected.value
    assert selected_ids(window) == [ticket_id]
    assert resets == []
    assert model.rowCount() == PAGE_SIZE


def test_a_note_from_the_command_line_reaches_the_open_window(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    data_dir: Path,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    resets = count_resets(window)
    pane = window.detail
    assert pane.detail is not None
    ticket, row = pane.detail.ticket, 0
    assert ticket.status is Status.NEW
    for command in (["note", ticket.ref, "Requester says the dock is fine now"],
                    ["start", ticket.ref]):  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-m", "workbench", "--data-dir", str(data_dir),
             "--as", AGENT.login, "ticket", *command],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    qtbot.waitUntil(
        lambda: "Requester says the dock is fine now" in pane.view.toPlainText(), timeout=5000
    )
    in_progress = label(Status.IN_PROGRESS)
    qtbot.waitUntil(lambda: window.model.index(row, STATUS).data() == in_progress, timeout=5000)
    assert window.model.summary(row).ticket.id == ticket.id
    assert selected_ids(window) == [ticket.id]
    assert resets == []


def test_a_change_that_moves_a_ticket_out_of_the_view_removes_its_row(
    qtbot: QtBot,
    qtmodeltester: object,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
) -> None:
    settings.setValue("view", "Unassigned")
    window = open_window(qtbot, service, worker, settings)
    model = window.model
    qtmodeltester.check(model)  # type: ignore[attr-defined]  # and stays attached
    resets = count_resets(window)
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)  # the tester fetched a page
    loaded = model.rowCount()
    kept = model.summary(5).ticket.id
    window.table.selectRow(5)
    taken = [model.summary(row).ticket.id for row in (0, 3)]
    with qtbot.waitSignal(model.total_known, timeout=3000) as total:
        for ticket_id in taken:  # two commits, within the hub's coalescing or not
            service.assign(ticket_id)
    assert total.args == [TICKETS - 2]
    assert all(row_of(window, ticket_id) is None for ticket_id in taken)
    assert model.rowCount() == loaded  # the next page's first rows moved up into view
    assert selected_ids(window) == [kept] and row_of(window, kept) == 3
    assert resets == []
    unassigned = window.navigation.findItems("Unassigned", Qt.MatchFlag.MatchExactly)[0]
    qtbot.waitUntil(lambda: unassigned.text(1) == str(TICKETS - 2), timeout=3000)


def test_changes_that_touch_no_row_leave_the_list_alone(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    reads: list[int] = []
    original = service.find
    service.find = lambda *args, **kwargs: reads.append(1) or original(*args, **kwargs)  # type: ignore[method-assign]
    window.changes.changed.emit(ChangeSet(tables=frozenset({"meta", "outbox"})))
    window.changes.changed.emit(ChangeSet(tables=frozenset({"tickets"})))
    qtbot.waitUntil(lambda: bool(reads), timeout=3000)
    qtbot.wait(200)
    assert reads == [1]  # once, for the tickets; the meta and outbox commit read nothing


def test_a_row_sorted_elsewhere_by_a_change_moves_with_its_selection(
    qtbot: QtBot,
    qtmodeltester: object,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    model = window.model
    with qtbot.waitSignal(model.total_known):
        window.table.sortByColumn(3, Qt.SortOrder.AscendingOrder)  # by title: a reset, once
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE)
    resets = count_resets(window)
    window.table.selectRow(10)
    moved = model.summary(10).ticket
    first = model.summary(0).ticket.id
    service.save_fields(moved.id, {"title": "A dock that flickers"})
    qtbot.waitUntil(lambda: model.summary(0).ticket.id == moved.id, timeout=3000)
    assert model.index(0, 3).data() == "A dock that flickers"
    assert model.summary(1).ticket.id == first
    assert selected_ids(window) == [moved.id]
    assert resets == []


def test_a_pulled_change_updates_its_row_without_a_reset(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, store: Store
) -> None:
    window = open_window(qtbot, service, worker, settings)
    resets = count_resets(window)
    model = window.model
    ticket = model.summary(2).ticket
    server_row = {
        **{name: getattr(ticket, name) for name in ticket.__dataclass_fields__},
        "title": "Changed at the central",
        "sla_pauses": "[]",
        "version": ticket.version + 1,
    }
    with store.write() as tx:  # what a sync round's pull commits
        sync_state.apply_chunk(tx, sync_state.PulledChunk(9, {"tickets": [server_row]}, []))
    qtbot.waitUntil(lambda: model.index(2, 3).data() == "Changed at the central", timeout=3000)
    assert model.summary(2).ticket.id == ticket.id
    assert resets == []
