"""The editable fields of a ticket in the detail pane, with a live priority preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QWidget

from workbench.core.labels import impact_label, urgency_label
from workbench.core.models import Technician, Ticket
from workbench.core.policy import LEVELS, SlaPolicy
from workbench.core.sla import SlaClock


def _levels(text: Callable[[int], str]) -> QComboBox:
    box = QComboBox()
    for level in LEVELS:
        box.addItem(text(level), level)
    return box


class TicketFields(QWidget):
    """Category, impact, urgency, queue and assignee; `save_requested` carries what changed."""

    save_requested = Signal(dict, object)  # field changes for TicketService.update, assignee

    def __init__(self, policy: SlaPolicy) -> None:
        super().__init__()
        self._policy = policy
        self._clock = SlaClock(policy)  # targets only: their length is the same in every zone
        self._ticket: Ticket | None = None
        self.category = QComboBox()
        self.category.addItems(list(policy.categories))
        self.impact = _levels(impact_label)
        self.urgency = _levels(urgency_label)
        self.queue = QComboBox()
        self.queue.addItems(list(policy.queues.values()))
        self.assignee = QComboBox()
        self.preview = QLabel()
        self.save = QPushButton("Save changes")
        self.save.clicked.connect(self._request_save)
        # Four rows in two columns: the worklog below gets the height (a form of six rows
        # left it a few lines on a laptop screen).
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for row, pairs in enumerate(
            (
                (("Category", self.category), ("Queue", self.queue)),
                (("Impact", self.impact), ("Urgency", self.urgency)),
            )
        ):
            for number, (label, box) in enumerate(pairs):
                grid.addWidget(QLabel(label), row, 2 * number)
                grid.addWidget(box, row, 2 * number + 1)
        grid.addWidget(QLabel("Priority"), 2, 0)
        grid.addWidget(self.preview, 2, 1, 1, 3)
        grid.addWidget(QLabel("Assignee"), 3, 0)
        grid.addWidget(self.assignee, 3, 1, 1, 2)
        grid.addWidget(self.save, 3, 3)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for box in (self.category, self.impact, self.urgency, self.queue, self.assignee):
            box.currentIndexChanged.connect(self._changed)
        self.setEnabled(False)

    def set_technicians(self, technicians: list[Technician]) -> None:
        """The people one may assign to (again after a sync or the demo brought others);
        the ticket shown keeps its assignee, and an edit in progress its choice."""
        chosen = self.assignee.currentData()
        self.assignee.blockSignals(True)
        self.assignee.clear()
        self.assignee.addItem("—", None)
        for technician in technicians:
            state = f"tier {technician.tier}" if technician.active else "retired"
            self.assignee.addItem(f"{technician.name} ({state})", technician.login)
        keep = chosen or (self._ticket.assignee if self._ticket else None)
        self.assignee.setCurrentIndex(max(0, self.assignee.findData(keep)))
        self.assignee.blockSignals(False)

    def show_ticket(self, ticket: Ticket) -> None:
        self._ticket = ticket
        for box in (self.category, self.impact, self.urgency, self.queue, self.assignee):
            box.blockSignals(True)
        self.category.setCurrentText(ticket.category)
        self.impact.setCurrentIndex(ticket.impact - 1)
        self.urgency.setCurrentIndex(ticket.urgency - 1)
        self.queue.setCurrentText(ticket.queue)
        self.assignee.setCurrentIndex(max(0, self.assignee.findData(ticket.assignee)))
        for box in (self.category, self.impact, self.urgency, self.queue, self.assignee):
            box.blockSignals(False)
        self.setEnabled(ticket.status.value not in ("closed",))
        self._changed()

    def changes(self) -> dict[str, Any]:
        if self._ticket is None:
            return {}
        wanted = {
            "category": self.category.currentText(),
            "impact": self.impact.currentData(),
            "urgency": self.urgency.currentData(),
            "queue": self.queue.currentText(),
        }
        return {k: v for k, v in wanted.items() if getattr(self._ticket, k) != v}

    def _changed(self) -> None:
        priority = self._policy.priority_for(self.impact.currentData(), self.urgency.currentData())
        current = self._ticket.priority.value if self._ticket else priority.value
        note = "" if priority.value == current else f" (now {current})"
        self.preview.setText(f"<b>{priority.value}</b>{note} · {self._clock.targets(priority)}")
        assignee_changed = self._ticket is not None and (
            self.assignee.currentData() != self._ticket.assignee
        )
        self.save.setEnabled(bool(self.changes()) or assignee_changed)

    def _request_save(self) -> None:
        assignee = self.assignee.currentData()
        changed_assignee = self._ticket is not None and assignee != self._ticket.assignee
        self.save_requested.emit(self.changes(), assignee if changed_assignee else None)
