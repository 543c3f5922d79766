"""Open sync conflicts with both values and authors; keep theirs or apply mine (DESIGN.md §5).

Resolving goes through `sync_state.resolve_conflict`, as `workbench conflicts resolve` does,
on the window's database worker; the next sync sends the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workbench.core.errors import BadInput
from workbench.core.labels import word
from workbench.gui.theme import problem_label
from workbench.gui.worker import error_text
from workbench.store import Store, sync_state
from workbench.store.store import Reader
from workbench.store.sync_state import Conflict

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

COLUMNS = (
    "What", "Field", "Theirs (kept)", "Their author", "Mine (not applied)", "My author", "When"
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConflictRow:
    conflict: Conflict
    what: str  # "ticket HD-000123": the reference a technician knows, not the id


def _what(db: Reader, conflict: Conflict) -> str:
    if conflict.entity == "ticket":
        ticket = db.find_ticket(conflict.entity_id)
        if ticket is not None:
            return f"ticket {ticket.ref}"
    return f"{conflict.entity} {conflict.entity_id}"


def load_conflicts(store: Store) -> list[ConflictRow]:
    with store.read() as db:
        return [ConflictRow(c, _what(db, c)) for c in sync_state.conflicts(db)]


def resolve(store: Store, conflict_id: int, keep: str, who: str | None) -> Conflict:
    if not who:
        raise BadInput("who resolves? set the technician with `workbench login` or --as")
    with store.write() as tx:
        return sync_state.resolve_conflict(tx, conflict_id, keep, who)


def shown(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return str(value)


class ConflictsDialog(QDialog):
    """Non-modal: the technician can look at the ticket while deciding."""

    resolved = Signal(int)  # conflict id, once the decision is in the cache

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Sync conflicts")
        self.main = window
        self.rows: list[ConflictRow] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        for column in (2, 4):  # the two values share what is left
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel("Loading conflicts…")
        self.summary.setWordWrap(True)
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.keep_theirs = QPushButton("Keep theirs")
        self.apply_mine = QPushButton("Apply mine")
        for button in (self.keep_theirs, self.apply_mine):
            self.buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        for widget in (self.summary, self.table, self.problem, self.buttons):
            layout.addWidget(widget)
        layout.setStretch(1, 1)
        self.keep_theirs.clicked.connect(lambda: self._resolve("theirs"))
        self.apply_mine.clicked.connect(lambda: self._resolve("mine"))
        self.buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()
        self.resize(980, 360)

    def reload(self) -> None:
        store = self.main.service.store
        self.main.worker.submit(lambda: load_conflicts(store), self._show, self._failed)

    def select(self, conflict_id: int) -> None:
        for row, item in enumerate(self.rows):
            if item.conflict.id == conflict_id:
                self.table.selectRow(row)

    def _show(self, rows: list[ConflictRow]) -> None:
        chosen = self._chosen()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for row, item in enumerate(rows):
            c = item.conflict
            values = (
                item.what,
                "whole row" if c.field == "*" else word(c.field),
                shown(c.their_value),
                c.their_author,
                shown(c.mine_value),
                c.my_author,
                c.created_at.astimezone().strftime("%Y-%m-%d %H:%M"),
            )
            for column, text in enumerate(values):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(row, column, cell)
        self.table.resizeRowsToContents()
        plural = "s" if len(rows) > 1 else ""
        self.summary.setText(
            f"{len(rows)} open conflict{plural}: someone else changed the same field before "
            "your change reached the server. Their value stands until you decide; "
            "your decision is sent with the next sync."
            if rows
            else "No open conflicts."
        )
        if chosen is not None:
            self.select(chosen.id)
        if not self.table.selectionModel().hasSelection() and rows:
            self.table.selectRow(0)
        self._update_buttons()

    def _chosen(self) -> Conflict | None:
        selected = self.table.selectionModel().selectedRows()
        if not selected or selected[0].row() >= len(self.rows):
            return None
        return self.rows[selected[0].row()].conflict

    def _update_buttons(self) -> None:
        chosen = self._chosen()
        self.keep_theirs.setEnabled(chosen is not None)
        self.apply_mine.setEnabled(chosen is not None)
        # "Mine" is the pushing technician's side, whoever looks: the buttons say whose value.
        theirs, mine = (chosen.their_author, chosen.my_author) if chosen else ("", "")
        self.keep_theirs.setText(f"Keep theirs ({theirs})" if theirs else "Keep theirs")
        self.apply_mine.setText(f"Apply mine ({mine})" if mine else "Apply mine")

    def _resolve(self, keep: str) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        self.problem.clear()
        self.keep_theirs.setEnabled(False)
        self.apply_mine.setEnabled(False)
        store, who = self.main.service.store, self.main.service.technician
        self.main.worker.submit(
            lambda: resolve(store, chosen.id, keep, who),
            lambda done: self._resolved(done.id),
            self._failed,
        )

    def _resolved(self, conflict_id: int) -> None:
        self.resolved.emit(conflict_id)
        self.reload()

    def _failed(self, error: Exception) -> None:
        self.problem.setText(error_text(error))
        self._update_buttons()
