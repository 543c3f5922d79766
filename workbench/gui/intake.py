"""The intake dialog (Ctrl+N): a phone call or a walk-in becomes a ticket.

Requester and asset are looked up as the technician types (on the worker thread); the
priority and SLA targets the matrix gives are shown before anything is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from workbench.core.labels import impact_label, label, urgency_label
from workbench.core.models import Channel, TicketDetail
from workbench.core.policy import LEVELS
from workbench.core.sla import local_time
from workbench.gui.theme import problem_label
from workbench.gui.worker import DbWorker, error_text
from workbench.services.tickets import TicketService


class LookupEdit(QLineEdit):
    """A line edit whose completions come from a lookup run on the worker thread.

    `key` is what the chosen completion stands for (an e-mail, an asset tag), or the text as
    typed when nothing was chosen.
    """

    def __init__(
        self, worker: DbWorker, lookup: Callable[[str], dict[str, str]], placeholder: str
    ) -> None:
        super().__init__()
        self.setPlaceholderText(placeholder)
        self._worker = worker
        self._lookup = lookup
        self._choices: dict[str, str] = {}
        self._model = QStringListModel(self)
        completer = QCompleter(self._model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        self.textEdited.connect(self._look_up)

    def _look_up(self, text: str) -> None:
        if len(text.strip()) < 2:
            return
        self._worker.submit(lambda: self._lookup(text), self._offer)

    def _offer(self, choices: dict[str, str]) -> None:
        self._choices = choices
        self._model.setStringList(list(choices))
        if choices and self.hasFocus():
            self.completer().complete()

    @property
    def key(self) -> str | None:
        text = self.text().strip()
        return self._choices.get(text, text) or None


class IntakeDialog(QDialog):
    created = Signal(object)  # the TicketDetail of the new ticket

    def __init__(
        self, service: TicketService, worker: DbWorker, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New ticket")
        self.setMinimumWidth(560)
        self._service = service
        self._worker = worker
        policy = service.policy
        self.requester = LookupEdit(worker, self._requesters, "Name or e-mail")
        self.asset = LookupEdit(worker, self._assets, "Asset tag, serial number or hostname")
        self.title = QLineEdit()
        self.title.setPlaceholderText("What is wrong, in a few words")
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("What the requester says, what was tried")
        self.category = QComboBox()
        self.category.addItems(list(policy.categories))
        self.channel = QComboBox()
        for channel in Channel:
            self.channel.addItem(label(channel), channel.value)
        self.impact = _level_box(impact_label)
        self.urgency = _level_box(urgency_label)
        self.preview = QLabel()
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout(self)
        for name, widget in (
            ("Requester", self.requester),
            ("Asset", self.asset),
            ("Title", self.title),
            ("Description", self.description),
            ("Category", self.category),
            ("Channel", self.channel),
            ("Impact", self.impact),
            ("Urgency", self.urgency),
            ("Priority", self.preview),
        ):
            form.addRow(name, widget)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.impact.currentIndexChanged.connect(self._update_preview)
        self.urgency.currentIndexChanged.connect(self._update_preview)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self._update_preview()

    def _requesters(self, text: str) -> dict[str, str]:
        return {f"{r.name} <{r.email}>": r.email for r in self._service.find_requesters(text)}

    def _assets(self, text: str) -> dict[str, str]:
        return {
            f"{a.tag} · {a.hostname} · {a.serial}": a.tag for a in self._service.find_assets(text)
        }

    def _update_preview(self) -> None:
        policy = self._service.policy
        priority = policy.priority_for(self.impact.currentData(), self.urgency.currentData())
        now = datetime.now(UTC)
        # The site is known once the ticket is saved: the policy's zone, named, until then.
        respond, resolve = policy.due_times(priority, now)
        self.preview.setText(
            f"<b>{priority.value}</b> — respond by {local_time(respond, policy.timezone)}, "
            f"resolve by {local_time(resolve, policy.timezone)}"
        )

    def save(self) -> None:
        fields = {
            "title": self.title.text(),
            "description": self.description.toPlainText(),
            "category": self.category.currentText(),
            "channel": self.channel.currentData(),
            "impact": self.impact.currentData(),
            "urgency": self.urgency.currentData(),
            "requester": self.requester.key,
            "asset": self.asset.key,
        }
        self.buttons.setEnabled(False)
        self.problem.clear()
        self._worker.submit(lambda: self._service.create(**fields), self._saved, self._refused)

    def _saved(self, detail: TicketDetail) -> None:
        self.created.emit(detail)
        self.accept()

    def _refused(self, error: Exception) -> None:
        self.buttons.setEnabled(True)
        self.problem.setText(error_text(error))


def _level_box(text: Callable[[int], str]) -> QComboBox:
    box = QComboBox()
    for level in LEVELS:
        box.addItem(text(level), level)
    box.setCurrentIndex(len(LEVELS) - 1)
    return box
