"""The first window: lazy ticket model, detail pane, status bar, a screenshot to look at."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.support.workbench import ASSET, REQUESTER, Clock
from workbench.core.lifecycle import Lifecycle
from workbench.core.policy import SlaPolicy
from workbench.core.refs import format_number
from workbench.gui.main_window import MainWindow
from workbench.gui.ticket_model import PAGE_SIZE, TicketTableModel
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store

TICKETS = 2 * PAGE_SIZE + 50


@pytest.fixture
def filled(store: Store, policy: SlaPolicy, clock: Clock) -> Store:
    lifecycle = Lifecycle(policy)
    tickets = [
        replace(
            lifecycle.new_ticket(
                ticket_id=f"t{i:04d}",
                provisional_ref=f"P-TEST-{i:04d}",
                title=f"Ticket {i}: monitor flickers on dock",
                description="",
                category="hardware",
                channel="phone",
                impact=1 + i % 3,
                urgency=1 + (i // 3) % 3,
                now=clock.now - timedelta(minutes=i),
                timezone=None,
                requester_id=REQUESTER.id,
                asset_id=ASSET.id,
            ),
            number=format_number(i + 1),
            version=1,
        )
        for i in range(TICKETS)
    ]
    with store.write() as tx:
        tx.load_snapshot(tickets=tickets)
    return store


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
    qtbot: QtBot, service: TicketService, worker: DbWorker, artifacts: Path
) -> None:
    window = MainWindow(service, worker)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.detail_shown, timeout=10_000):
        window.start()
    assert window.model.rowCount() == PAGE_SIZE
    html = window.detail.toPlainText()
    selected = window.model.summary(0).ticket
    assert selected.title in html and ASSET.serial in html and REQUESTER.name in html
    assert "warranty expired" in html
    qtbot.waitUntil(
        lambda: "unsynced" in window.statusBar().findChildren(type(window._count_label))[1].text()
    )  # noqa: SLF001
    assert f"{TICKETS:,} tickets" in window._count_label.text()  # noqa: SLF001
    assert window.grab().save(str(artifacts / "main_window.png"))
