"""How SLA targets and due times read in the window: the list's SLA column, the detail pane
and the fields' preview, in business terms and in the site's zone (a screenshot to look at)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.gui.window import open_window
from tests.support.workbench import REQUESTER
from workbench.gui.ticket_model import SLA_COLUMN
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService


def test_detail_and_list_say_business_days_and_the_sites_zone(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings, artifacts: Path
) -> None:
    # Opened Mon 16 Nov 2026 08:00 in Los Angeles, the requester's site.
    service.create(
        title="Outlook asks for the password", category="email", impact=3, urgency=1,
        requester=REQUESTER.email,
    )  # fmt: skip
    window = open_window(qtbot, service, worker, settings)
    text = window.detail.view.toPlainText()
    assert (
        "response 2 business hours · due Mon 16 Nov 10:00 PST; "
        "resolve 3 business days · due Wed 18 Nov 17:00 PST"
    ) in text
    assert re.search(r"SLA\s+\d+ business days?( \d+ h)? over · P3", text), text
    assert "Mon 16 Nov 08:00 PST" in text  # the worklog's times in the same zone
    sla_cell = window.model.index(0, SLA_COLUMN).data()
    assert re.fullmatch(r"\d+ business days?( \d+ h)? over", sla_cell), sla_cell
    preview = window.detail.fields.preview.text()
    assert preview == "<b>P3</b> · respond 2 business hours, resolve 3 business days"
    window.detail.fields.impact.setCurrentIndex(0)  # impact 1 x urgency 1: P1, 24x7
    assert "24×7: respond 15 min, resolve 4 h" in window.detail.fields.preview.text()
    window.detail.fields.impact.setCurrentIndex(2)
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert window.detail.grab().save(str(artifacts / "detail_sla.png"))
