"""Shared by the window tests: a cache of TICKETS tickets and a window opened on it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from tests.support.workbench import ASSET, REQUESTER, Clock
from workbench.core.lifecycle import Lifecycle
from workbench.core.policy import SlaPolicy
from workbench.core.refs import format_number
from workbench.gui.main_window import MainWindow
from workbench.gui.ticket_model import PAGE_SIZE
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store

TICKETS = 2 * PAGE_SIZE + 50


def fill(store: Store, policy: SlaPolicy, clock: Clock) -> Store:
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


def open_window(
    qtbot: QtBot, service: TicketService, worker: DbWorker, settings: QSettings
) -> MainWindow:
    if settings.value("view") is None:
        settings.setValue("view", "All tickets")  # "My tickets" starts empty in this cache
    window = MainWindow(service, worker, settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.detail_shown, timeout=10_000):
        window.start()
    return window


def status_text(window: MainWindow) -> str:
    return " ".join(label.text() for label in window.statusBar().findChildren(QLabel))
