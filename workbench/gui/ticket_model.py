"""The ticket list model: counts first, then fetches pages lazily through the DbWorker; change
sets from the change hub update the loaded rows in place."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QTableView

from workbench.core.changes import ChangeSet
from workbench.core.display import visible
from workbench.core.labels import label
from workbench.core.models import Priority
from workbench.core.query import TicketQuery, TicketSummary
from workbench.core.sla import SlaClock, remaining_fraction
from workbench.gui.worker import DbWorker
from workbench.services.policy import sla_clock
from workbench.services.tickets import TicketService

PAGE_SIZE = 200
Index = QModelIndex | QPersistentModelIndex

# header, sort key of TicketQuery, cell text (from the row, the time shown and the SLA clock)
COLUMNS: tuple[tuple[str, str, Callable[[TicketSummary, datetime, SlaClock], str]], ...] = (
    ("Ref", "number", lambda s, _now, _clock: s.ticket.ref),
    ("Pri", "priority", lambda s, _now, _clock: s.ticket.priority.value),
    ("Status", "status", lambda s, _now, _clock: label(s.ticket.status)),
    ("Title", "title", lambda s, _now, _clock: s.ticket.title),
    ("Requester", "requester", lambda s, _now, _clock: s.requester_name or ""),
    ("Asset", "asset", lambda s, _now, _clock: s.asset_tag or ""),
    ("Assignee", "assignee", lambda s, _now, _clock: s.ticket.assignee or ""),
    ("SLA", "sla_due", lambda s, now, clock: clock.left(s.ticket, now)),
)
# What each column is sized for (the title takes the rest): a ref made offline is the longest
# ("P-" + eight hex digits + a number), and a ref is never elided; the others fit their usual
# text and say the rest in the tooltip.
_FIT_SAMPLES = ("P-2B2A36AA-0001", "P4", "In progress", "", "Firstname Lastname", "OLY-ACC-LT0421",
                "Firstname L.", "4 business hours left")  # fmt: skip
_CELL_PADDING = 16  # the cell's padding (4 px a side) and the sort arrow's room
_GIVE_WAY = (4, 5, 6, 7)  # requester, asset, assignee, SLA: narrowed before the title is
# How narrow a column that gives way may get: a name's first letters; an SLA's span.
_LEAST_SAMPLES = {7: "12 h 30 min"}
TITLE_SHARE = 0.4
# The asset and the assignee: the detail pane shows them, the views sort by assignee (mine,
# unassigned), and the title needs the room at 1400 px; the header's menu brings them back.
DEFAULT_HIDDEN = (5, 6)
PRIORITY_COLUMN, SLA_COLUMN = 1, 7
TINTED_COLUMNS = (PRIORITY_COLUMN, SLA_COLUMN)
TITLE_COLUMN = 3
# Qt asks data() about ten roles per painted cell; plain ints compare much faster than enums.
_DISPLAY = Qt.ItemDataRole.DisplayRole.value
_TOOLTIP = Qt.ItemDataRole.ToolTipRole.value
_BACKGROUND = Qt.ItemDataRole.BackgroundRole.value
_ID = Qt.ItemDataRole.UserRole.value
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _BACKGROUND, _ID})
_Cells = tuple[tuple[str, ...], tuple[QColor | None, ...]]  # a row's texts and tints
SEARCH_LIMIT = 200
# The tables a list row is read from: a change set naming none of them leaves the list alone.
ROW_TABLES = frozenset({"tickets", "requesters", "assets", "sites"})

# Translucent tints read on light and dark themes alike: the text keeps the theme's colour.
PRIORITY_TINT = {
    Priority.P1: QColor(229, 57, 53, 110),
    Priority.P2: QColor(251, 140, 0, 100),
    Priority.P3: QColor(30, 136, 229, 70),
    Priority.P4: QColor(120, 144, 156, 60),
}
BREACHED_TINT = QColor(229, 57, 53, 120)
WARNING_TINT = QColor(255, 179, 0, 110)


def fit_columns(table: QTableView, longest_ref: str = _FIT_SAMPLES[0]) -> None:
    """Size every column but the title to its usual text in the table's font (which a theme
    sets); the ref column to the longest ref listed (`ColumnFitter` follows the rows): never
    elided. The title keeps at least
    TITLE_SHARE of the width: the requester, asset, assignee and SLA give way first (elided,
    their tooltip says the rest)."""
    table.ensurePolished()
    metrics = table.fontMetrics()
    wanted, least = {}, {}
    for column, sample in enumerate((longest_ref, *_FIT_SAMPLES[1:])):
        if column != TITLE_COLUMN and not table.isColumnHidden(column):
            header = metrics.horizontalAdvance(COLUMNS[column][0]) + _CELL_PADDING
            wanted[column] = max(metrics.horizontalAdvance(sample) + _CELL_PADDING, header)
            floor = metrics.horizontalAdvance(_LEAST_SAMPLES.get(column, "Dana W…"))
            least[column] = wanted[column] if column not in _GIVE_WAY else floor + _CELL_PADDING
    room = table.viewport().width() * (1 - TITLE_SHARE)
    fixed = sum(width for column, width in wanted.items() if column not in _GIVE_WAY)
    flexible = sum(width for column, width in wanted.items() if column in _GIVE_WAY)
    scale = min(1.0, max(room - fixed, 0) / flexible) if flexible else 1.0
    for column, width in wanted.items():
        shrunk = width if column not in _GIVE_WAY else int(width * scale)
        table.setColumnWidth(column, max(shrunk, least[column]))


class ColumnFitter(QObject):
    """Fits the columns again when the list's width changes (a window or splitter resize) or
    a listed ref is longer than any before (one made offline, "P-2B2A36AA-0001")."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        self._longest = "HD-000000"
        table.viewport().installEventFilter(self)
        model = table.model()
        model.rowsInserted.connect(self._rows_listed)
        model.modelReset.connect(self.fit)

    def fit(self) -> None:
        fit_columns(self._table, self._longest)

    def _rows_listed(self, _parent: QModelIndex, first: int, last: int) -> None:
        metrics, model = self._table.fontMetrics(), self._table.model()
        refs = (str(model.index(row, 0).data() or "") for row in range(first, last + 1))
        longest = max((self._longest, *refs), key=metrics.horizontalAdvance)
        if longest != self._longest:
            self._longest = longest
            self.fit()

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False


class TintDelegate(QStyledItemDelegate):
    """Paints the model's background tint first: a theme's style sheet would hide it otherwise.

    Set it only on TINTED_COLUMNS: every other cell is painted by Qt without calling Python.
    """

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        tint = index.data(Qt.ItemDataRole.BackgroundRole)
        if isinstance(tint, QColor):
            painter.fillRect(option.rect, tint)  # type: ignore[attr-defined]
        super().paint(painter, option, index)


class TicketTableModel(QAbstractTableModel):
    """Rows arrive a page at a time; `rows_fetched` says how many were ever asked of the store."""

    load_failed = Signal(str)
    total_known = Signal(int)

    def __init__(self, service: TicketService, worker: DbWorker, parent: Any = None) -> None:
        super().__init__(parent)
        self._service = service
        self._worker = worker
        self._query = TicketQuery()
        self._search = ""  # when set, the list shows the best search hits instead of pages
        # The time SLA cells are shown against: one value per repaint, not a clock call per
        # cell; refreshed by the clock tick and on every load.
        self._now = datetime.now(UTC)
        # The sites' time zones, read again with every load (a sync may have brought sites).
        self._sla_clock = SlaClock(service.policy)
        self._rows: list[TicketSummary] = []
        # Row -> (texts, tints), made on first paint and dropped when `_now` moves on: scrolling
        # back and forth repaints from here instead of formatting every cell again.
        self._cells: dict[int, _Cells] = {}
        self._total = 0
        self._loading = False
        self._generation = 0  # results of an older query are dropped
        self._refreshing = False  # a re-read of the loaded rows is on the worker
        self._stale = False  # changes arrived while it was: read once more when it is back
        self.rows_fetched = 0

    # -- loading -------------------------------------------------------------------------
    def set_query(self, query: TicketQuery) -> None:
        self._query = query
        self._search = ""
        self.reload()

    def set_search(self, text: str) -> None:
        self._search = text.strip()
        self.reload()

    @property
    def query(self) -> TicketQuery:
        return self._query

    def start_clock(self, interval_ms: int = 30_000) -> None:
        """Repaint the SLA column as time passes (the rows themselves do not change)."""
        self._clock = QTimer(self)
        self._clock.timeout.connect(self._tick)
        self._clock.start(interval_ms)

    def _tick(self) -> None:
        self._now = datetime.now(UTC)
        self._cells.clear()
        if self._rows:
            self.dataChanged.emit(
                self.index(0, SLA_COLUMN), self.index(len(self._rows) - 1, SLA_COLUMN)
            )

    def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        self._now = datetime.now(UTC)
        gc.unfreeze()  # what was frozen may be cyclic garbage by now: let the collector see it
        self.beginResetModel()
        self._rows = []
        self._cells.clear()
        self._total = 0
        self._loading = True
        self.endResetModel()
        query, search = self._query, self._search

        def first_page() -> tuple[int, list[TicketSummary], SlaClock]:
            clock = sla_clock(self._service.store, self._service.policy)
            if search:
                hits = [hit.summary for hit in self._service.search(search, SEARCH_LIMIT)]
                return len(hits), hits, clock
            return self._service.count(query), self._service.find(query, 0, PAGE_SIZE), clock

        self._worker.submit(
            first_page,
            lambda result: self._first_page(generation, result),
            self._failed,
        )

    # -- following changes -----------------------------------------------------------------
    def apply_changes(self, changes: ChangeSet) -> None:
        """Bring the loaded rows up to date in place (no reset: the selection and the scroll
        position stay): rows that changed are repainted, rows that left the view are removed,
        rows that entered it within the loaded pages are inserted."""
        if not changes.touches(ROW_TABLES) or not self._generation:
            return
        if self._refreshing or self._loading:
            self._stale = True
            return
        self._refreshing = True
        generation, query, search = self._generation, self._query, self._search
        loaded = len(self._rows)
        # All loaded rows again, and room for rows entering a view that was shown whole.
        limit = max(loaded, PAGE_SIZE)

        def fresh_rows() -> tuple[int, list[TicketSummary]]:
            if search:
                hits = [hit.summary for hit in self._service.search(search, SEARCH_LIMIT)]
                return len(hits), hits
            return self._service.count(query), self._service.find(query, 0, limit)

        def done(result: tuple[int, list[TicketSummary]]) -> None:
            self._refreshing = False
            if generation == self._generation:
                self._merge(*result)
            self._read_again_if_stale()

        def failed(error: Exception) -> None:
            self._refreshing = False
            self._failed(error)

        self._worker.submit(fresh_rows, done, failed)

    def _read_again_if_stale(self) -> None:
        if self._stale:
            self._stale = False
            self.apply_changes(ChangeSet.anything())

    def _merge(self, total: int, fresh: list[TicketSummary]) -> None:
        """Turn the loaded rows into `fresh` by removals, moves, inserts and repaints."""
        self._now = datetime.now(UTC)
        wanted = {summary.ticket.id for summary in fresh}
        # Cached cells are by row: dropped after each change of the rows, before Qt is told.
        for row in reversed(range(len(self._rows))):
            if self._rows[row].ticket.id not in wanted:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self._cells.clear()
                self.endRemoveRows()
        ids = [summary.ticket.id for summary in self._rows]
        last_column = len(COLUMNS) - 1
        for row, summary in enumerate(fresh):
            ticket_id = summary.ticket.id
            if row < len(ids) and ids[row] == ticket_id:
                if self._rows[row] != summary:
                    self._rows[row] = summary
                    self._cells.pop(row, None)
                    self.dataChanged.emit(self.index(row, 0), self.index(row, last_column))
                continue
            if ticket_id in ids[row:]:  # sorted elsewhere now: moved, keeping its selection
                source = ids.index(ticket_id, row)
                self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), row)
                ids.insert(row, ids.pop(source))
                self._rows.insert(row, summary)
                del self._rows[source + 1]
                self._cells.clear()
                self.endMoveRows()
                self.dataChanged.emit(self.index(row, 0), self.index(row, last_column))
            else:
                self.beginInsertRows(QModelIndex(), row, row)
                ids.insert(row, ticket_id)
                self._rows.insert(row, summary)
                self._cells.clear()
                self.endInsertRows()
        if self._total != total:
            self._total = total
            self.total_known.emit(total)

    def _first_page(
        self, generation: int, result: tuple[int, list[TicketSummary], SlaClock]
    ) -> None:
        if generation != self._generation:
            return
        total, rows, self._sla_clock = result
        self._total = total
        self._loading = False
        self._append(rows)
        self.total_known.emit(total)
        self._read_again_if_stale()

    def _append(self, rows: list[TicketSummary]) -> None:
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.rows_fetched += len(rows)
        self.endInsertRows()
        # Loaded rows live as long as the list: move them out of the cyclic collector's reach,
        # or each full collection rescans all of them (pauses of most of a second while
        # scrolling 100,000 rows). Refcounting still frees them; reload() unfreezes.
        gc.freeze()

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
                if len(self._rows) == offset:  # else a change re-read the rows meanwhile
                    self._append(rows)
                self._read_again_if_stale()

        self._worker.submit(
            lambda: self._service.find(query, offset, PAGE_SIZE), done, self._failed
        )

    # -- Qt model interface ----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if role not in _ANSWERED:
            return None
        cells = self._row_cells(index)
        return None if cells is None else self._value(cells, index, role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan) -> None:  # noqa: N802, N803
        """What a delegate asks for a cell, about ten roles, in one call instead of ten."""
        cells = self._row_cells(index)
        for role_data in roleDataSpan:
            role = role_data.role()
            value = None if cells is None or role not in _ANSWERED else (
                self._value(cells, index, role)
            )  # fmt: skip
            if value is None:
                role_data.clearData()
            else:
                role_data.setData(value)

    def _row_cells(self, index: Index) -> _Cells | None:
        row = index.row()
        cells = self._cells.get(row)
        if cells is None:
            if not index.isValid() or not 0 <= row < len(self._rows):
                return None
            cells = self._cells[row] = self._cells_of(self._rows[row])
        return cells

    def _value(self, cells: _Cells, index: Index, role: int) -> Any:
        if role == _DISPLAY:
            return cells[0][index.column()]
        if role == _BACKGROUND:
            return cells[1][index.column()]
        if role == _ID:
            return self._rows[index.row()].ticket.id
        column = index.column()  # the tooltip: the text of a column that may be elided
        return cells[0][column] if column == TITLE_COLUMN or column in _GIVE_WAY else None

    def _cells_of(self, summary: TicketSummary) -> _Cells:
        now = self._now
        clock = self._sla_clock
        texts = tuple(visible(text(summary, now, clock)) for _header, _key, text in COLUMNS)
        return texts, tuple(self._tint(summary, column) for column in range(len(COLUMNS)))

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

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS) or self._search or not self._generation:
            # Search hits stay in rank order; before the first query (the view sets up its
            # header) there is nothing to sort, and the first query brings its own order.
            return
        descending = order == Qt.SortOrder.DescendingOrder
        self._query = replace(self._query, sort=COLUMNS[column][1], descending=descending)
        self.reload()

    def sort_column(self) -> int:
        """The column the list is sorted by; -1 when by something not shown (e.g. created)."""
        keys = [key for _header, key, _text in COLUMNS]
        return keys.index(self._query.sort) if self._query.sort in keys else -1

    def _tint(self, summary: TicketSummary, column: int) -> QColor | None:
        ticket = summary.ticket
        if column == PRIORITY_COLUMN:
            return PRIORITY_TINT[ticket.priority]
        if column != SLA_COLUMN or ticket.sla_due is None:
            return None
        if ticket.sla_due < self._now:
            return BREACHED_TINT
        left = remaining_fraction(ticket.created_at, ticket.sla_due, self._now)
        return WARNING_TINT if left < self._service.policy.warn_fraction else None

    def summary(self, row: int) -> TicketSummary:
        return self._rows[row]
