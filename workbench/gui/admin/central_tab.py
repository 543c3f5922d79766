"""What the Administration dialog's Imports, Policy and Audit tabs share: their work runs on
the dialog's network lane, one request at a time, and what the central refuses is shown as
its one line in the tab that asked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QWidget,
)

from workbench.gui.admin.forms import problem_line
from workbench.gui.theme import problem_label
from workbench.gui.worker import Lane
from workbench.services.admin import CentralAdmin


def table_of(model: QAbstractItemModel, stretch: int, wrap: bool = False) -> QTableView:
    """A read-only table of rows, its column `stretch` taking the width that is left (its
    text wrapped onto more lines with `wrap`)."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(wrap)
    table.verticalHeader().hide()
    if wrap:
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


class CentralTab(QWidget):
    """A tab asking the central database: `answered` once each answer (or refusal) shows."""

    answered = Signal()
    changed = Signal(str)  # the central has something new, said in one sentence

    def __init__(self, admin: CentralAdmin, lane: Lane, parent: QWidget | None = None):
        super().__init__(parent)
        self.admin = admin
        self.lane = lane
        self.problem = problem_label()
        self.problem.hide()  # until there is one: no empty line in the tab
        self.busy = False

    def ask(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run `work` on the lane; `done` with its result, else the refusal in one line."""
        self.say_problem("")
        self.busy = True
        self.update_buttons()

        def answered(result: Any) -> None:
            self.busy = False
            done(result)
            self.update_buttons()
            self.answered.emit()

        def failed(error: Exception) -> None:
            self.busy = False
            self.refused(error)
            self.update_buttons()
            self.answered.emit()

        self.lane.submit(work, answered, failed)

    def refused(self, error: Exception) -> None:
        self.say_problem(problem_line(error, self.admin.url))

    def say_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def update_buttons(self) -> None:
        """Enable what may be asked now (nothing while a request is out)."""

    def reload(self) -> None:
        """Read again what the tab shows (when it is shown)."""

    @staticmethod
    def note(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        return label
