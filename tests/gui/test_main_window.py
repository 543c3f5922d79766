"""The first window: lazy ticket model, detail pane, status bar, a screenshot to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from tests.gui.window import TICKETS, open_window, status_text
from tests.support.workbench import ASSET, REQUESTER
from workbench.core.models import Priority
from workbench.core.query import TicketQuery, TicketSummary
from workbench.core.sla import SlaClock
from workbench.gui import detail as detail_module
from workbench.gui import main_window as main_window_module
from workbench.gui import theme
from workbench.gui.ticket_model import PAGE_SIZE, SLA_COLUMN, TicketTableModel, TintDelegate
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService


@pytest.mark.usefixtures("filled")
def test_model_passes_qtmodeltester(
    qtbot: QtBot, qtmodeltester: object, service: TicketService, worker: DbWorker
) -> None:
    model = TicketTableModel(service, worker)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE)
    qtmodeltester.check(model)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("filled")
def test_list_fetches_pages_lazily(qtbot: QtBot, service: TicketService, worker: DbWorker) -> None:
    model = TicketTableModel(service, worker)
    with qtbot.waitSignal(model.total_known) as total:
        model.reload()
    assert total.args == [TICKETS]
    qtbot.waitUntil(lambda: model.rowCount() == PAGE_SIZE)
    assert model.rows_fetched == PAGE_SIZE
    assert model.canFetchMore()
    while model.canFetchMore() or worker.pending:
        model.fetchMore()
        qtbot.waitUntil(lambda: worker.pending == 0)
    assert model.rowCount() == TICKETS == model.rows_fetched
    first = model.index(0, 0).data()
    assert first.startswith("HD-")


@pytest.mark.usefixtures("filled")
def test_window_shows_list_detail_and_status(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    window = open_window(qtbot, service, worker, settings)
    assert window.model.rowCount() == PAGE_SIZE  # the first page only, of 450
    text = window.detail.view.toPlainText()
    selected = window.model.summary(0).ticket
    assert selected.title in text and ASSET.serial in text and REQUESTER.name in text
    assert "warranty expired" in text
    qtbot.waitUntil(lambda: "local only · 0 pending" in status_text(window))
    assert f"{TICKETS:,} tickets" in status_text(window)
    assert "local only" in status_text(window)
    qtbot.waitUntil(lambda: worker.pending == 0)  # the tree pane's list too
    assert window.grab().save(str(artifacts / "main_window.png"))


@pytest.mark.usefixtures("filled")
def test_a_long_worklog_keeps_its_room_in_the_detail(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    window = open_window(qtbot, service, worker, settings)
    ticket = window.model.summary(0).ticket
    service.start(service.assign(ticket.id).ticket.id)
    for n in range(14):
        service.note(ticket.id, f"Call {n + 1}: asked the requester to re-seat the dock cable "
                     f"and try another monitor port; screen flickered again after {n + 2} min",
                     minutes=5)  # fmt: skip
    with qtbot.waitSignal(window.detail_shown):
        window.detail.load(ticket.id)
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert "Call 14:" in window.detail.view.toPlainText()
    # The fields take four rows: the worklog view keeps most of the pane's height.
    assert window.detail.view.height() > window.detail.fields.height() * 1.5
    assert window.grab().save(str(artifacts / "ticket_long_worklog.png"))


@pytest.mark.usefixtures("filled")
def test_navigation_search_and_sorting_narrow_the_list(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    first = window.model.summary(0).ticket
    service.wait(service.assign(first.ref).ticket.ref, "parts", "new dock on order")
    service.update("HD-000100", {"title": "Scanner jams on tray 2"})
    with qtbot.waitSignal(window.model.total_known) as waiting:
        window.navigation.choose("Waiting")
    assert waiting.args == [1] and window.model.summary(0).ticket.id == first.id
    with qtbot.waitSignal(window.model.total_known) as mine:
        window.navigation.choose("My tickets")
    assert mine.args == [1]
    with qtbot.waitSignal(window.model.total_known, timeout=5_000) as found:
        window.search.setText("scann jam")
    assert found.args == [1]
    assert window.model.summary(0).ticket.title == "Scanner jams on tray 2"
    with qtbot.waitSignal(window.model.total_known) as cleared:
        window.search.clear()
    assert cleared.args == [1]  # back to the chosen view
    window.navigation.choose("All tickets")
    qtbot.waitUntil(lambda: window.model.rowCount() == PAGE_SIZE)
    with qtbot.waitSignal(window.model.total_known):
        window.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    assert window.model.query.sort == "title" and window.model.query.descending
    titles = [window.model.summary(row).ticket.title for row in range(20)]
    assert titles == sorted(titles, reverse=True)


@pytest.mark.usefixtures("filled")
def test_escalate_and_resolve_through_the_buttons(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    answers = {"reason": "Needs a new fuser on site", "resolution": "Replaced the fuser",
               "queue": "field-support", "assignee": ""}  # fmt: skip
    monkeypatch.setattr(
        detail_module,
        "ask",
        lambda _parent, action, _escalation=None: {q: answers[q] for q in action.questions},
    )
    pane = window.detail
    assert pane.buttons["escalate"].isEnabled() and not pane.buttons["close"].isEnabled()
    with qtbot.waitSignal(pane.ticket_changed):
        pane.buttons["escalate"].click()
    assert pane.detail is not None and pane.detail.ticket.tier == 2
    with qtbot.waitSignal(pane.ticket_changed):
        pane.buttons["resolve"].click()
    detail = pane.detail
    assert detail is not None and detail.ticket.resolution == "Replaced the fuser"
    texts = [w.text for w in detail.worklog]
    assert any("escalated to tier 2" in t and "fuser on site" in t for t in texts)
    assert any(t.endswith("resolved: Replaced the fuser") for t in texts)
    assert {op.entity for op in detail.pending} == {"ticket", "worklog"}
    assert pane.buttons["close"].isEnabled() and not pane.buttons["resolve"].isEnabled()
    assert "Replaced the fuser" in pane.view.toPlainText()
    pane.note.setPlainText("Told the requester by phone")
    with qtbot.waitSignal(pane.ticket_changed):
        qtbot.keyClick(pane.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert pane.note.toPlainText() == ""
    assert pane.detail is not None
    assert pane.detail.worklog[-1].text == "Told the requester by phone"


@pytest.mark.usefixtures("filled")
def test_refused_action_shows_its_message(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    shown: list[str] = []
    monkeypatch.setattr(
        main_window_module.QMessageBox, "warning", lambda _parent, _title, text: shown.append(text)
    )
    monkeypatch.setattr(detail_module, "ask", lambda _parent, _action: {"resolution": "  "})
    before = window.detail.detail
    window.detail.buttons["resolve"].click()
    qtbot.waitUntil(lambda: bool(shown))
    assert "needs a resolution: what fixed it" in shown[0]
    assert before is not None
    assert service.detail(before.ticket.id).ticket.status is before.ticket.status


@pytest.mark.usefixtures("filled")
def test_view_and_layout_persist(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    window.navigation.choose("Unassigned")
    window.resize(780, 560)  # inside the offscreen screen (800x600), which clamps geometry
    window.splitter.setSizes([150, 330, 250])
    sizes = window.splitter.sizes()
    window.close()
    again = open_window(qtbot, service, worker, settings)
    assert again.navigation.currentItem().text(0) == "Unassigned"
    assert again.size() == window.size()
    assert again.splitter.sizes() == sizes


@pytest.mark.usefixtures("filled")
def test_intake_dialog_creates_a_ticket_in_list_and_store(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    window = open_window(qtbot, service, worker, settings)
    dialog = window.open_intake()
    qtbot.keyClicks(dialog.requester, "Dana")
    qtbot.waitUntil(lambda: dialog.requester.completer().model().rowCount() == 1)
    choice = dialog.requester.completer().model().index(0, 0).data()
    assert choice == f"{REQUESTER.name} <{REQUESTER.email}>"
    dialog.requester.setText(choice)
    qtbot.keyClicks(dialog.asset, "5cd21")
    qtbot.waitUntil(lambda: dialog.asset.completer().model().rowCount() == 1)
    dialog.asset.setText(dialog.asset.completer().model().index(0, 0).data())
    dialog.title.setText("Laptop fan loud, machine hot")
    dialog.category.setCurrentText("hardware")
    dialog.impact.setCurrentIndex(0)
    dialog.urgency.setCurrentIndex(1)
    assert dialog.preview.text().startswith("<b>P2</b> — respond by")
    assert dialog.grab().save(str(artifacts / "intake_dialog.png"))
    with qtbot.waitSignal(dialog.created) as created:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    detail = created.args[0]
    assert (detail.ticket.priority.value, detail.requester, detail.asset) == (
        "P2",
        REQUESTER,
        ASSET,
    )
    assert service.detail(detail.ticket.ref).ticket.title == "Laptop fan loud, machine hot"
    window.navigation.choose("Unassigned")
    with qtbot.waitSignal(window.search.textChanged):
        window.search.setText("fan loud")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.summary(0).ticket.id == detail.ticket.id


@pytest.mark.usefixtures("filled")
def test_intake_refusal_keeps_the_dialog_open(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    dialog = window.open_intake()
    dialog.asset.setText("NO-SUCH-ASSET")
    dialog.title.setText("Something")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: bool(dialog.problem.text()))
    assert "no asset with tag, serial number or hostname 'NO-SUCH-ASSET'" in dialog.problem.text()
    assert dialog.isVisible()


@pytest.mark.usefixtures("filled")
def test_theme_switch_applies_and_persists(
    qtbot: QtBot,
    qapp: QApplication,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    artifacts: Path,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    sla = window.model.index(0, SLA_COLUMN)
    assert window.table.itemDelegateForIndex(sla) is window.table.itemDelegate()  # Qt paints it
    text_colour = qapp.palette().color(QPalette.ColorRole.Text)
    try:
        for name in ("light", "dark"):
            dialog = window.open_settings()
            dialog.theme.setCurrentText(name)
            dialog.font_size.setValue(11)
            dialog.accept()
            assert theme.current(settings) == (name, 11)
            assert qapp.font().pointSize() == 11
            background = window.table.palette().color(QPalette.ColorRole.Base).lightness()
            assert qapp.styleSheet() and (background > 128) == (name == "light")
            # Under a style sheet only the tint delegate keeps the priority and SLA colours.
            assert isinstance(window.table.itemDelegateForIndex(sla), TintDelegate)
            assert not isinstance(window.table.itemDelegateForIndex(sla.siblingAtColumn(3)),
                                  TintDelegate)  # fmt: skip
            qtbot.wait(300)  # let the restyled widgets lay out again
            assert window.grab().save(str(artifacts / f"main_window_{name}.png"))
        dialog = window.open_settings()
        dialog.theme.setCurrentText("system")
        dialog.accept()
        # Back to the system look: no style sheet, Qt paints the tints, and the text colour
        # qt-material put into the palette is gone again.
        assert not qapp.styleSheet()
        assert window.table.itemDelegateForIndex(sla) is window.table.itemDelegate()
        assert qapp.palette().color(QPalette.ColorRole.Text) == text_colour
    finally:
        theme.apply(qapp, "system", theme.DEFAULT_FONT_SIZE)


@pytest.mark.usefixtures("filled")
def test_editing_fields_recomputes_priority_and_assigns(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    fields = window.detail.fields
    qtbot.waitUntil(lambda: fields.assignee.count() == 4)  # "—" and the three technicians
    ticket = window.detail.detail.ticket  # type: ignore[union-attr]
    assert not fields.save.isEnabled()
    fields.impact.setCurrentIndex(2)
    fields.urgency.setCurrentIndex(2)
    assert fields.preview.text().startswith("<b>P4</b>") and fields.save.isEnabled()
    # The targets in business terms: "respond 1 business day, resolve 5 business days".
    assert SlaClock(service.policy).targets(Priority.P4) in fields.preview.text()
    assert "business day" in fields.preview.text()
    fields.assignee.setCurrentIndex(fields.assignee.findData("ben.okafor"))
    with qtbot.waitSignal(window.detail.ticket_changed):
        fields.save.click()
    stored = service.detail(ticket.id)
    assert (stored.ticket.priority.value, stored.ticket.assignee) == ("P4", "ben.okafor")
    assert any("priority:" in w.text for w in stored.worklog)
    assert not fields.save.isEnabled()


@pytest.mark.usefixtures("filled")
def test_the_list_loads_once_at_start_and_its_header_shows_the_views_order(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    first_pages: list[TicketQuery] = []
    find = service.find

    def counted(query: TicketQuery, offset: int, limit: int) -> list[TicketSummary]:
        if offset == 0:
            first_pages.append(query)
        return find(query, offset, limit)

    monkeypatch.setattr(service, "find", counted)
    window = open_window(qtbot, service, worker, settings)
    assert len(first_pages) == 1  # not once more for each sort the header was set up with
    header = window.table.horizontalHeader()
    assert first_pages[0].sort == "created_at"  # "All tickets": newest first, not a column
    assert header.sortIndicatorSection() == -1
    with qtbot.waitSignal(window.model.total_known):
        window.navigation.choose("Breaching SLA")
    assert header.sortIndicatorSection() == SLA_COLUMN
    assert header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
    assert len(first_pages) == 2
