"""The ticket list model: counts first, then fetches pages lazily through the DbWorker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from workbench.core.query import TicketQuery, TicketSummary
from workbench.core.sla import sla_text
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, Callable[[TicketSummary, datetime], str]], ...] = (
    ("Ref", lambda s, _now: s.ticket.ref),
    ("Pri", lambda s, _now: s.ticket.priority.value),
    ("Status", lambda s, _now: s.ticket.status.label),
    ("Title", lambda s, _now: s.ticket.title),
    ("Requester", lambda s, _now: s.requester_name or ""),
    ("Asset", lambda s, _now: s.asset_tag or ""),
    ("Assignee", lambda s, _now: s.ticket.assignee or ""),
    ("SLA", lambda s, now: sla_text(s.ticket, now)),
)


class TicketTableModel(QAbstractTableModel):
    """Rows arrive a page at a time; `rows_fetched` says how many were ever asked of the store."""

    load_failed = Signal(str)
    total_known = Signal(int)

    def __init__(self, service: TicketService, worker: DbWorker, parent: Any = None) -> None:
        super().__init__(parent)
        self._service = service
        self._worker = worker
        self._query = TicketQuery()
        self._rows: list[TicketSummary] = []
        self._total = 0
        self._loading = False
        self._generation = 0  # results of an older query are dropped
        self.rows_fetched = 0

    # -- loading -------------------------------------------------------------------------
    def set_query(self, query: TicketQuery) -> None:
        self._query = query
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        self.beginResetModel()
        self._rows = []
        self._total = 0
        self._loading = True
        self.endResetModel()
        query = self._query
        self._worker.submit(
            lambda: (self._service.count(query), self._service.find(query, 0, PAGE_SIZE)),
            lambda result: self._first_page(generation, result),
            self._failed,
        )

    def _first_page(self, generation: int, result: tuple[int, list[TicketSummary]]) -> None:
        if generation != self._generation:
            return
        total, rows = result
        self._total = total
        self._loading = False
        self._append(rows)
        self.total_known.emit(total)

    def _append(self, rows: list[TicketSummary]) -> None:
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.rows_fetched += len(rows)
        self.endInsertRows()

    def _failed(self, error: Exception) -> None:
        self._loading = False
        self.load_failed.emit(str(error))

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and not self._loading and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if not self.canFetchMore(parent):
            return
        self._loading = True
        generation, query, offset = self._generation, self._query, len(self._rows)

        def done(rows: list[TicketSummary]) -> None:
            if generation == self._generation:
                self._loading = False
                self._append(rows)

        self._worker.submit(
            lambda: self._service.find(query, offset, PAGE_SIZE), done, self._failed
        )

    # -- Qt model interface ----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()][1](summary, datetime.now(UTC))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return summary.ticket.title
        if role == Qt.ItemDataRole.UserRole:
            return summary.ticket.id
        return None

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][0]
        return None

    def summary(self, row: int) -> TicketSummary:
        return self._rows[row]
