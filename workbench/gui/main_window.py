"""The main window: ticket list beside the selected ticket's detail, status bar below.

A first window over the store; the ticket pane, intake, trees and remote console grow here.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

from PySide6.QtCore import QItemSelection, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableView,
    QTextBrowser,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import TicketDetail
from workbench.core.sla import sla_text
from workbench.gui.ticket_model import TicketTableModel
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService


class MainWindow(QMainWindow):
    detail_shown = Signal(str)  # ticket id, once its detail is on screen

    def __init__(self, service: TicketService, worker: DbWorker) -> None:
        super().__init__()
        self.setWindowTitle("Workbench")
        self._service = service
        self._worker = worker
        self.model = TicketTableModel(service, worker, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((95, 40, 90, 0, 140, 85, 100, 90)):
            if width:
                self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # the title takes the rest
        self.detail = QTextBrowser()
        self.detail.setOpenExternalLinks(False)
        self.detail.setPlaceholderText("Select a ticket to see its detail and worklog.")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([880, 400])
        self.setCentralWidget(splitter)
        self._count_label = QLabel("Loading tickets…")
        self._place_label = QLabel()
        self._place_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.statusBar().addWidget(self._count_label, 1)
        self.statusBar().addPermanentWidget(self._place_label, 1)
        self.statusBar().addPermanentWidget(QLabel("local only"))
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.total_known.connect(self._on_total)
        self.model.load_failed.connect(self._show_error)
        self.resize(1280, 760)

    def start(self) -> None:
        self.model.reload()
        store = self._service.store
        self._worker.submit(
            lambda: (self._service.technician, _pending(self._service)),
            lambda result: self._place_label.setText(
                f"{store.path.parent} · {result[0] or 'no technician'} · {result[1]} unsynced"
            ),
            self._show_error,
        )

    def _on_total(self, total: int) -> None:
        self._count_label.setText(f"{total:,} tickets")
        if total and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        ticket_id = self.model.summary(indexes[0].row()).ticket.id
        self._worker.submit(
            lambda: self._service.detail(ticket_id), self._show_detail, self._show_error
        )

    def _show_detail(self, detail: TicketDetail) -> None:
        self.detail.setHtml(detail_html(detail, datetime.now(UTC)))
        self.detail_shown.emit(detail.ticket.id)

    def _show_error(self, error: Exception | str) -> None:
        if isinstance(error, Exception) and not isinstance(error, WorkbenchError):
            error = "internal error; details in the log"
        self.statusBar().showMessage(str(error), 10_000)
        QMessageBox.warning(self, "Workbench", str(error))


def _pending(service: TicketService) -> int:
    with service.store.read() as db:
        return db.outbox_count()


def detail_html(detail: TicketDetail, now: datetime) -> str:
    t = detail.ticket
    e = html.escape
    rows = [
        ("Status", t.status.label + (f" ({t.wait_reason.value})" if t.wait_reason else "")),
        ("Priority", f"{t.priority.value} — impact {t.impact} × urgency {t.urgency}"),
        ("Queue", f"{t.queue} (tier {t.tier})"),
        ("Assignee", t.assignee or "—"),
        ("SLA", sla_text(t, now)),
    ]
    if detail.requester:
        r = detail.requester
        rows.append(("Requester", f"{r.name} · {r.email} · {r.phone}"))
    if detail.asset:
        a = detail.asset
        warranty = "expired" if a.warranty_expired(now.date()) else "until"
        rows.append(
            (
                "Asset",
                f"{a.tag} · {a.hostname} · s/n {a.serial} · {a.model} · "
                f"warranty {warranty} {a.warranty_end or '—'}",
            )
        )
    table = "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
    log = "".join(
        f"<p><small>{w.created_at.astimezone():%Y-%m-%d %H:%M} · {e(w.author)} · "
        f"{e(w.kind.value)}</small><br>{e(w.text)}</p>"
        for w in detail.worklog
    )
    return (
        f"<h3>{e(t.ref)} — {e(t.title)}</h3><table cellspacing=4>{table}</table>"
        f"<p>{e(t.description)}</p><h4>Worklog</h4>{log}"
    )
