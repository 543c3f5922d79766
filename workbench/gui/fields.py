"""The editable fields of a ticket in the detail pane, with a live priority preview."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from workbench.core.models import Technician, Ticket
from workbench.core.policy import LEVEL_NAMES, SlaPolicy
from workbench.core.sla import span_text


def _levels() -> QComboBox:
    box = QComboBox()
    for level in (1, 2, 3):
        box.addItem(f"{level} — {LEVEL_NAMES[level]}", level)
    return box


class TicketFields(QWidget):
    """Category, impact, urgency, queue and assignee; `save_requested` carries what changed."""

    save_requested = Signal(dict, object)  # field changes for TicketService.update, assignee

    def __init__(self, policy: SlaPolicy) -> None:
        super().__init__()
        self._policy = policy
        self._ticket: Ticket | None = None
        self.category = QComboBox()
        self.category.addItems(list(policy.categories))
        self.impact = _levels()
        self.urgency = _levels()
        self.queue = QComboBox()
        self.queue.addItems(list(policy.queues.values()))
        self.assignee = QComboBox()
        self.preview = QLabel()
        self.save = QPushButton("Save changes")
        self.save.clicked.connect(self._request_save)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        levels = QHBoxLayout()
        levels.addWidget(QLabel("Impact"))
        levels.addWidget(self.impact)
        levels.addWidget(QLabel("Urgency"))
        levels.addWidget(self.urgency)
        form.addRow("Category", self.category)
        form.addRow(levels)
        form.addRow("Priority", self.preview)
        form.addRow("Queue", self.queue)
        form.addRow("Assignee", self.assignee)
        form.addRow(self.save)
        for box in (self.category, self.impact, self.urgency, self.queue, self.assignee):
            box.currentIndexChanged.connect(self._changed)
        self.setEnabled(False)

    def set_technicians(self, technicians: list[Technician]) -> None:
        self.assignee.clear()
        self.assignee.addItem("—", None)
        for technician in technicians:
            self.assignee.addItem(f"{technician.name} (tier {technician.tier})", technician.login)

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
        target = self._policy.target(priority)
        clock = "24x7" if target.calendar.always else "business time"
        self.preview.setText(
            f"<b>{priority.value}</b>{note} · respond {span_text(target.response_minutes)}, "
            f"resolve {span_text(target.resolve_minutes)} ({clock})"
        )
        assignee_changed = self._ticket is not None and (
            self.assignee.currentData() != self._ticket.assignee
        )
        self.save.setEnabled(bool(self.changes()) or assignee_changed)

    def _request_save(self) -> None:
        assignee = self.assignee.currentData()
        changed_assignee = self._ticket is not None and assignee != self._ticket.assignee
        self.save_requested.emit(self.changes(), assignee if changed_assignee else None)
