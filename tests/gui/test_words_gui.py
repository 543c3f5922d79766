"""The window in words: no stored code reaches a visible text; escalation picks queue and person."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QTreeWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from tests.gui.test_window_actions import select_rows
from tests.gui.window import open_window
from tests.support.workbench import AGENT, FIELD, LEAD
from workbench.core.labels import impact_label, urgency_label
from workbench.core.models import Status
from workbench.gui import bulk as bulk_module
from workbench.gui import main_window as main_window_module
from workbench.gui import theme
from workbench.gui.bulk import BULK_ACTIONS, BulkResult
from workbench.gui.detail import EscalateDialog, Escalation
from workbench.gui.main_window import MainWindow
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # in_progress, walk_in, status_change, …


def visible_texts(root: QWidget) -> list[str]:
    """Every text a person can read in `root`: labels, buttons, combo items, tree items, the
    visible cells and headers of the ticket list, and the detail pane's page."""
    texts: list[str] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QLabel | QAbstractButton):
            texts.append(widget.text())
        if isinstance(widget, QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QTreeWidget):
            texts += [widget.topLevelItem(i).text(0) for i in range(widget.topLevelItemCount())]
        texts.append(widget.toolTip())
    if isinstance(root, MainWindow):
        model = root.model
        for row in range(min(model.rowCount(), 40)):
            texts += [str(model.index(row, col).data()) for col in range(model.columnCount())]
        texts += [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in
                  range(model.columnCount())]  # fmt: skip
        texts.append(root.detail.view.toPlainText())
    return texts


def worked_ticket(service: TicketService) -> str:
    """A walk-in ticket through every kind of worklog entry a technician writes."""
    made = service.create(title="Docking station drops both monitors", category="hardware",
                          impact=3, urgency=2, channel="walk_in")  # fmt: skip
    ref = made.ticket.id
    service.assign(ref)
    service.start(ref)
    service.update(ref, {"channel": "email", "impact": 2})
    for n in range(12):
        service.note(ref, f"Call {n + 1}: reseated the dock cable, screen flickered again",
                     kind="call" if n % 2 else "note", minutes=5)  # fmt: skip
    service.log_time(ref, 15, "bench test of the dock")
    service.wait(ref, "vendor", "replacement dock ordered")
    return ref


@pytest.mark.usefixtures("filled")
def test_no_code_reaches_the_window(
    qtbot: QtBot,
    qapp: QApplication,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    artifacts: Path,
) -> None:
    ref = worked_ticket(service)
    service.start(service.create(title="VPN drops", category="vpn-remote", impact=2,
                                 urgency=2, channel="walk-in").ticket.id)  # fmt: skip
    window = open_window(qtbot, service, worker, settings)
    with qtbot.waitSignal(window.detail_shown):
        window.detail.load(ref)
    qtbot.waitUntil(lambda: worker.pending == 0)
    page = window.detail.view.toPlainText()
    for words in (
        "Waiting (for vendor)",
        "came in by e-mail",
        "Status change",
        "Field change",
        "Call",
        "Time spent",
        "channel: walk-in → e-mail",
        "opened via walk-in",
    ):
        assert words in page, words  # fmt: skip
    statuses = {window.model.index(r, 2).data() for r in range(window.model.rowCount())}
    assert {"In progress", "Waiting", "New"} <= statuses
    assert window.grab().save(str(artifacts / "words_long_worklog.png"))
    try:
        for name in ("light", "dark"):
            theme.apply(qapp, name, theme.DEFAULT_FONT_SIZE)
            qtbot.wait(200)
            found = [c for text in visible_texts(window) for c in CODE.findall(text)]
            assert not found, found
            assert window.grab().save(str(artifacts / f"words_main_window_{name}.png"))
    finally:
        theme.apply(qapp, "system", theme.DEFAULT_FONT_SIZE)
    intake = window.open_intake()
    assert not [c for text in visible_texts(intake) for c in CODE.findall(text)]
    assert "Walk-in" in [intake.channel.itemText(i) for i in range(intake.channel.count())]
    intake.reject()


@pytest.mark.usefixtures("filled")
def test_intake_and_detail_pane_say_the_same_of_impact_and_urgency(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> None:
    window = open_window(qtbot, service, worker, settings)
    intake = window.open_intake()
    fields = window.detail.fields
    for name, text in (("impact", impact_label), ("urgency", urgency_label)):
        shown = [getattr(intake, name).itemText(i) for i in range(3)]
        pane = [getattr(fields, name).itemText(i) for i in range(3)]
        assert shown == pane == [text(level) for level in (1, 2, 3)]
    intake.channel.setCurrentText("Walk-in")
    intake.title.setText("Badge reader")
    with qtbot.waitSignal(intake.created) as created:
        intake.save()
    assert created.args[0].ticket.channel.value == "walk_in"


def _choose(dialog: EscalateDialog, queue: str, login: str | None, reason: str) -> None:
    dialog.queue.setCurrentIndex(dialog.queue.findData(queue))
    dialog.assignee.setCurrentIndex(dialog.assignee.findData(login))
    dialog.reason.setPlainText(reason)


@pytest.mark.usefixtures("filled")
def test_escalate_dialog_offers_higher_queues_and_their_technicians(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
    artifacts: Path,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    pane = window.detail
    ticket = window.model.summary(0).ticket
    service.assign(ticket.id)
    with qtbot.waitSignal(window.detail_shown):
        pane.load(ticket.id)
    qtbot.waitUntil(lambda: worker.pending == 0)
    seen: list[EscalateDialog] = []

    def run(dialog: EscalateDialog) -> int:
        seen.append(dialog)
        queues = [dialog.queue.itemData(i) for i in range(dialog.queue.count())]
        assert queues == ["field-support", "engineering"]
        takers = [dialog.assignee.itemData(i) for i in range(dialog.assignee.count())]
        assert takers == [None, FIELD.login, LEAD.login]  # tier 2 and above, never tier 1
        ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
        assert not ok.isEnabled()  # no reason yet
        _choose(dialog, "engineering", LEAD.login, "firmware bug")
        assert ok.isEnabled()
        assert [dialog.assignee.itemData(i) for i in range(dialog.assignee.count())] == [
            None, LEAD.login]  # fmt: skip
        dialog.assignee.setCurrentIndex(1)
        dialog.show()
        assert dialog.grab().save(str(artifacts / "escalate_dialog.png"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EscalateDialog, "exec", run)
    with qtbot.waitSignal(pane.ticket_changed):
        pane.buttons["escalate"].click()
    assert seen and pane.detail is not None
    t = pane.detail.ticket
    assert (t.queue, t.tier, t.assignee, t.status) == ("engineering", 3, LEAD.login,
                                                       Status.ASSIGNED)  # fmt: skip
    assert "unassigned from " + AGENT.login in pane.detail.worklog[-1].text


@pytest.mark.usefixtures("filled")
def test_escalate_to_the_queue_releases_the_assignee_and_top_tier_is_refused(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    pane = window.detail
    ticket = window.model.summary(0).ticket
    service.assign(ticket.id)
    service.escalate(ticket.id, "site visit")  # tier 2 now
    with qtbot.waitSignal(window.detail_shown):
        pane.load(ticket.id)
    offered: list[list[str]] = []

    def run(dialog: EscalateDialog) -> int:
        offered.append([dialog.queue.itemData(i) for i in range(dialog.queue.count())])
        _choose(dialog, "engineering", None, "needs the vendor")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EscalateDialog, "exec", run)
    with qtbot.waitSignal(pane.ticket_changed):
        pane.buttons["escalate"].click()
    assert offered == [["engineering"]]  # not its own tier's queue, nor a lower one
    assert pane.detail is not None
    assert (pane.detail.ticket.tier, pane.detail.ticket.assignee) == (3, None)
    shown: list[str] = []
    monkeypatch.setattr(main_window_module.QMessageBox, "warning",
                        lambda _parent, _title, text: shown.append(text))  # fmt: skip
    pane.buttons["escalate"].click()  # at the top tier: refused without asking
    qtbot.waitUntil(lambda: bool(shown))
    assert shown[0] == f"cannot escalate {ticket.ref}: it is already at tier 3, the highest"
    assert len(offered) == 1


@pytest.mark.usefixtures("filled")
def test_bulk_escalate_asks_queue_and_person_once_for_all(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = open_window(qtbot, service, worker, settings)
    tickets = [window.model.summary(row).ticket for row in range(3)]
    service.escalate(tickets[2].id, "already with the field team")
    service.escalate(tickets[2].id, "and then engineering")
    asked: list[Escalation | None] = []

    def answer(
        _parent: QWidget, _action: object, escalation: Escalation | None = None
    ) -> dict[str, str]:
        asked.append(escalation)
        return {"queue": "field-support", "assignee": FIELD.login, "reason": "site visit"}

    monkeypatch.setattr(bulk_module, "ask", answer)
    monkeypatch.setattr(main_window_module.QMessageBox, "information", lambda *_a: None)
    select_rows(window, [0, 1, 2])
    escalate = next(a for a in BULK_ACTIONS if a.name == "escalate")
    with qtbot.waitSignal(window.bulk.finished) as finished:
        window.bulk.perform(escalate)
    escalation = asked[0]
    assert escalation is not None and escalation.queues == ("field-support", "engineering")
    assert [t.login for t in escalation.takers("engineering")] == [LEAD.login]
    result: BulkResult = finished.args[0]
    assert set(result.done) == {tickets[0].ref, tickets[1].ref}
    for done in tickets[:2]:
        after = service.detail(done.id).ticket
        assert (after.queue, after.assignee) == ("field-support", FIELD.login)
    assert [ref for ref, _why in result.refused] == [tickets[2].ref]
    assert "at tier 3, the highest" in result.text()


@pytest.mark.parametrize(
    ("why", "line"),
    [
        ("cannot close HD-000007: it is new; close is allowed from resolved",
         "cannot close HD-000007: it is new; close is allowed from resolved"),
        ("no technician with login 'zed'", "HD-000007: no technician with login 'zed'"),
    ],
)  # fmt: skip
def test_a_bulk_refusal_names_its_ticket_once(why: str, line: str) -> None:
    result = BulkResult("Close", ("HD-000001",), (("HD-000007", why),))
    assert result.text().splitlines() == ["Close: 1 done, 1 refused.", line]
    assert result.text().count("HD-000007") == 1
