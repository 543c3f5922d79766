"""The detail pane's Save changes: the edited fields and the new assignee are one commit."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from tests.support.commits import commits
from tests.support.workbench import FIELD
from workbench.gui.detail import DetailPane
from workbench.gui.worker import TaskManager
from workbench.services.tickets import TicketService


def test_save_changes_edits_and_assigns_in_one_commit(
    qtbot: QtBot, service: TicketService, worker: TaskManager
) -> None:
    detail = service.create(title="Dock", category="hardware", impact=3, urgency=3)
    pane = DetailPane(service, worker)
    qtbot.addWidget(pane)
    qtbot.waitUntil(lambda: pane.fields.assignee.findData(FIELD.login) >= 0)
    pane.show_detail(detail)
    fields = pane.fields
    fields.urgency.setCurrentIndex(0)
    fields.assignee.setCurrentIndex(fields.assignee.findData(FIELD.login))
    assert fields.save.isEnabled()
    with commits(service.store) as seen, qtbot.waitSignal(pane.ticket_changed, timeout=10_000):
        fields.save.click()
    assert len(seen) == 1
    saved = service.detail(detail.ticket.id).ticket
    assert (saved.urgency, saved.assignee) == (1, FIELD.login)
