"""The window on a 100,000-ticket cache: it shows the first page without loading every row."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.gui.window import open_window
from tests.support.workbench import AGENT, ASSET, FIELD, LEAD, REQUESTER, SITE, Clock
from workbench.core.lifecycle import Lifecycle
from workbench.core.policy import SlaPolicy
from workbench.core.refs import format_number
from workbench.gui.ticket_model import PAGE_SIZE
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService
from workbench.store import Store

TICKETS = 100_000


@pytest.fixture
def big_store(tmp_path: Path, policy: SlaPolicy, clock: Clock) -> Iterator[Store]:
    lifecycle = Lifecycle(policy)
    kinds = [
        lifecycle.new_ticket(
            ticket_id="template", provisional_ref="P-TEMPLATE", title="template", description="",
            category="hardware", channel="phone", impact=1 + k % 3, urgency=1 + k // 3 % 3,
            now=clock.now, timezone=None, requester_id=REQUESTER.id, asset_id=ASSET.id,
        )
        for k in range(9)
    ]  # fmt: skip
    tickets = [
        replace(
            kinds[i % 9],
            id=f"t{i:06d}",
            provisional_ref=f"P-BIG-{i:06d}",
            version=1,
            number=format_number(i + 1),
            title=f"Ticket {i}: toner light blinks",
            created_at=clock.now - timedelta(minutes=i),
        )  # fmt: skip
        for i in range(TICKETS)
    ]
    store = Store.open(tmp_path / "big")
    with store.write() as tx:
        tx.load_snapshot(sites=[SITE], technicians=[AGENT, FIELD, LEAD], requesters=[REQUESTER],
                         assets=[ASSET], tickets=tickets)  # fmt: skip
    yield store
    store.close()


def test_window_on_100k_tickets_fetches_pages_not_rows(
    qtbot: QtBot,
    big_store: Store,
    policy: SlaPolicy,
    clock: Clock,
    worker: DbWorker,
    settings: QSettings,
) -> None:
    service = TicketService(big_store, policy, AGENT.login, clock)
    window = open_window(qtbot, service, worker, settings)
    assert window.model.rowCount() == window.model.rows_fetched == PAGE_SIZE
    # Loaded rows are kept out of the cyclic collector's full scans (they are long-lived)...
    assert gc.get_freeze_count() > PAGE_SIZE
    assert f"{TICKETS:,} tickets" in window._count_label.text()
    # Scrolling to the end of what is loaded asks for one more page, not for the rest.
    window.table.scrollToBottom()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2 * PAGE_SIZE)
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert window.model.rows_fetched <= 3 * PAGE_SIZE
    window.model.reload()  # ...until the list is reloaded: the old rows may be garbage now
    assert gc.get_freeze_count() == 0
    qtbot.waitUntil(lambda: window.model.rowCount() == PAGE_SIZE)
    # Search answers from the index, not from the loaded rows.
    with qtbot.waitSignal(window.model.total_known, timeout=10_000) as found:
        window.search.setText("99999")
    numbers = {window.model.summary(row).ticket.number for row in range(window.model.rowCount())}
    # HD-099999 by its number, HD-100000 by its title "Ticket 99999: …"
    assert found.args == [2] and numbers == {format_number(99_999), format_number(100_000)}
