"""The ticket detail pane: the ticket, its requester and asset, the worklog, and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QInputDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from workbench.core.changes import ChangeSet
from workbench.core.display import visible_html
from workbench.core.errors import BadInput, NotFound
from workbench.core.labels import label, plural, word
from workbench.core.lifecycle import ALLOWED_FROM, allowed_actions
from workbench.core.models import Technician, TicketDetail, WaitReason
from workbench.core.policy import SlaPolicy
from workbench.core.sla import SlaClock
from workbench.gui.fields import TicketFields
from workbench.gui.worker import DbWorker
from workbench.remote.launchers import KIND_LABELS
from workbench.services.tickets import MAX_MINUTES, TicketService, may_take

Answers = dict[str, str]


class Markup(str):
    """Text already escaped for the detail HTML."""


EXPIRED_COLOR = "#e53935"  # red that reads on the light and the dark theme


@dataclass(frozen=True)
class Action:
    name: str  # the lifecycle action it performs
    label: str
    questions: tuple[str, ...]  # what the technician is asked first
    run: Callable[[TicketService, str, Answers], TicketDetail]


ACTIONS = (
    Action("assign", "Assign to me", (), lambda s, ref, _a: s.assign(ref)),
    Action("start", "Start", (), lambda s, ref, _a: s.start(ref)),
    Action(
        "wait",
        "Wait…",
        ("wait_reason", "note"),
        lambda s, ref, a: s.wait(ref, a["wait_reason"], a["note"]),
    ),
    Action(
        "escalate",
        "Escalate…",
        ("queue", "assignee", "reason"),
        lambda s, ref, a: s.escalate(ref, a["reason"], a["assignee"] or None, a["queue"]),
    ),
    Action(
        "resolve", "Resolve…", ("resolution",), lambda s, ref, a: s.resolve(ref, a["resolution"])
    ),
    Action("close", "Close", (), lambda s, ref, _a: s.close(ref)),
    Action("reopen", "Reopen…", ("reason",), lambda s, ref, a: s.reopen(ref, a["reason"])),
)

_PROMPTS = {
    "reason": "Reason:",
    "resolution": "What fixed it (the requester will read this):",
    "note": "What are you waiting for?",
}


@dataclass(frozen=True)
class Escalation:
    """What an escalation may choose from: the queues above the ticket's tier, and who."""

    queues: tuple[str, ...]
    technicians: tuple[Technician, ...]
    policy: SlaPolicy

    def takers(self, queue: str) -> list[Technician]:
        tier = self.policy.tier_of_queue(queue)
        return [t for t in self.technicians if may_take(t, tier)]


class EscalateDialog(QDialog):
    """Escalate to a queue of a higher tier, to nobody in it (its queue) or to one of them."""

    def __init__(self, parent: QWidget | None, escalation: Escalation) -> None:
        super().__init__(parent)
        self.setWindowTitle("Escalate")
        self.setMinimumWidth(440)
        self._escalation = escalation
        self.queue = QComboBox()
        for queue in escalation.queues:
            self.queue.addItem(f"Tier {escalation.policy.tier_of_queue(queue)}: {queue}", queue)
        self.assignee = QComboBox()
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Why this tier must take it")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self._ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self._ok.setText("Escalate")
        self._ok.setEnabled(False)  # an escalation needs its reason
        self.reason.textChanged.connect(
            lambda: self._ok.setEnabled(bool(self.reason.toPlainText().strip()))
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Queue", self.queue)
        form.addRow("Technician", self.assignee)
        form.addRow("Reason", self.reason)
        form.addRow(QLabel("Whoever has the ticket now is released."))
        form.addRow(self.buttons)
        self.queue.currentIndexChanged.connect(self._fill_takers)
        self._fill_takers()

    def _fill_takers(self) -> None:
        queue = self.queue.currentData()
        self.assignee.clear()
        self.assignee.addItem("Nobody yet: the queue", None)
        for technician in self._escalation.takers(queue) if queue else []:
            self.assignee.addItem(
                f"{technician.name} ({technician.login}, tier {technician.tier})",
                technician.login,
            )

    def answers(self) -> Answers:
        return {
            "queue": self.queue.currentData(),
            "assignee": self.assignee.currentData() or "",
            "reason": self.reason.toPlainText(),
        }


def ask(parent: QWidget, action: Action, escalation: Escalation | None = None) -> Answers | None:
    """Ask the action's questions; None when the technician cancels. Tests replace this."""
    if escalation is not None:
        dialog = EscalateDialog(parent, escalation)
        return dialog.answers() if dialog.exec() == QDialog.DialogCode.Accepted else None
    answers: Answers = {}
    for question in action.questions:
        if question == "wait_reason":
            text, ok = QInputDialog.getItem(
                parent, action.label, "Waiting for:", [label(r) for r in WaitReason], 0, False
            )
        else:
            text, ok = QInputDialog.getMultiLineText(parent, action.label, _PROMPTS[question])
        if not ok:
            return None
        answers[question] = text
    return answers


class NoteEdit(QPlainTextEdit):
    """The add-note box: Ctrl+Enter stores the note (Enter alone starts a new line)."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        control = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if control and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class DetailPane(QWidget):
    ticket_changed = Signal(str)  # ticket id, once an action or note of this pane is stored
    failed = Signal(object)  # the exception of a refused or failed action
    shown = Signal(str)  # ticket id, once its detail is on screen
    launch_requested = Signal(str)  # session kind from the asset card: ssh | rdp | powershell

    def __init__(self, service: TicketService, worker: DbWorker) -> None:
        super().__init__()
        self._service = service
        self._worker = worker
        self._detail: TicketDetail | None = None
        self._technicians: tuple[Technician, ...] = ()
        self.view = QTextBrowser()
        self.view.setPlaceholderText("Select a ticket to see its detail and worklog.")
        self.view.setOpenLinks(False)  # the only links are the asset card's session links
        self.view.anchorClicked.connect(self._link)
        self.buttons: dict[str, QPushButton] = {}
        row = QGridLayout()  # two rows of buttons keep the pane narrow beside the list
        for number, action in enumerate(ACTIONS):
            button = QPushButton(action.label)
            button.clicked.connect(lambda _=False, a=action: self._perform(a))
            self.buttons[action.name] = button
            row.addWidget(button, number // 4, number % 4)
        self.fields = TicketFields(service.policy)
        self.fields.save_requested.connect(self._save_fields)
        self.reload_technicians()
        self.note = NoteEdit()
        self.note.submitted.connect(self.add_note)
        self.note.setPlaceholderText("Add a note… (Ctrl+Enter)")
        self.note.setMaximumHeight(70)
        add_note = QPushButton("Add note")
        add_note.clicked.connect(self.add_note)
        self.minutes = QSpinBox()
        self.minutes.setRange(0, MAX_MINUTES)
        self.minutes.setSingleStep(5)
        self.minutes.setSuffix(" min")
        self.minutes.setToolTip("Time spent; stored with the note, or alone with Log time")
        self.log_time_button = QPushButton("Log time")
        self.log_time_button.clicked.connect(self.log_time)
        note_row = QGridLayout()
        note_row.addWidget(self.note, 0, 0, 2, 1)
        note_row.addWidget(add_note, 0, 1)
        note_row.addWidget(self.minutes, 1, 1)
        note_row.addWidget(self.log_time_button, 1, 2)
        note_row.setColumnStretch(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.fields)
        layout.addWidget(self.view, 1)
        layout.addLayout(note_row)
        self._enable()

    @property
    def detail(self) -> TicketDetail | None:
        return self._detail

    def load(self, ticket_id: str) -> None:
        self._worker.submit(
            lambda: self._service.detail(ticket_id), self.show_detail, self.failed.emit
        )

    def apply_changes(self, changes: ChangeSet) -> None:
        """Read the ticket on screen again when a commit (here or elsewhere) changed it."""
        if self._detail is None or not changes.touches_ticket(self._detail.ticket.id):
            return
        ticket_id = self._detail.ticket.id
        self._worker.submit(
            lambda: self._service.detail(ticket_id), self._show_again, self._reread_failed
        )

    def _reread_failed(self, error: Exception) -> None:
        if not isinstance(error, NotFound):  # gone (left the scope): it stays as last seen
            self.failed.emit(error)

    def _show_again(self, detail: TicketDetail) -> None:
        """The same ticket, newer: the worklog keeps its scroll position and fields being
        edited keep what was typed (Save then compares with the newer ticket)."""
        if self._detail is None or detail.ticket.id != self._detail.ticket.id:
            return  # another ticket was opened meanwhile
        if detail != self._detail:
            self.show_detail(detail, again=True)

    def show_detail(self, detail: TicketDetail, again: bool = False) -> None:
        scrolled = self.view.verticalScrollBar().value()
        self._detail = detail
        if not (again and self.fields.save.isEnabled()):
            self.fields.show_ticket(detail.ticket)
        self.view.setHtml(detail_html(detail, datetime.now(UTC), self._service.policy))
        if again:
            self.view.verticalScrollBar().setValue(scrolled)
        self._enable()
        self.shown.emit(detail.ticket.id)

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "launch":
            self.launch_requested.emit(url.path())

    def _enable(self) -> None:
        status = self._detail.ticket.status if self._detail else None
        possible = allowed_actions(status) if status else []
        for name, button in self.buttons.items():
            button.setEnabled(name in possible)
            sources = ", ".join(sorted(s.label for s in ALLOWED_FROM[name]))
            button.setToolTip(f"{name} is possible from: {sources}")
        for widget in (self.note, self.minutes, self.log_time_button):
            widget.setEnabled(self._detail is not None)

    def _perform(self, action: Action) -> None:
        if self._detail is None:
            return
        queues = self._service.lifecycle.escalation_queues(self._detail.ticket.tier)
        if action.name == "escalate" and not queues:
            answers: Answers | None = {"queue": "", "assignee": "", "reason": ""}  # refused
        elif action.name == "escalate":
            escalation = Escalation(tuple(queues), self._technicians, self._service.policy)
            answers = ask(self, action, escalation)
        else:
            answers = ask(self, action)
        if answers is None:
            return
        ref = self._detail.ticket.id
        self._submit(lambda: action.run(self._service, ref, answers))

    def _save_fields(self, changes: dict[str, Any], assignee: str | None) -> None:
        if self._detail is None:
            return
        ref = self._detail.ticket.id
        self._submit(lambda: self._service.save_fields(ref, changes, assignee))

    def reload_technicians(self) -> None:
        """Who may be assigned: read again when a sync or the demo may have brought others."""
        self._worker.submit(self._service.technicians, self._set_technicians, self.failed.emit)

    def _set_technicians(self, technicians: list[Technician]) -> None:
        self._technicians = tuple(technicians)
        self.fields.set_technicians(technicians)

    def add_note(self) -> None:
        text = self.note.toPlainText()
        if self._detail is None or not text.strip():
            return
        ref, minutes = self._detail.ticket.id, self.minutes.value()
        self._submit(lambda: self._service.note(ref, text, minutes=minutes), clear_note=True)

    def log_time(self) -> None:
        """Time spent without a note of its own (the note box, if filled, describes it)."""
        minutes = self.minutes.value()
        if self._detail is None:
            return
        if minutes <= 0:
            self.failed.emit(BadInput("set the minutes spent first, then Log time"))
            return
        ref, text = self._detail.ticket.id, self.note.toPlainText()
        self._submit(lambda: self._service.log_time(ref, minutes, text), clear_note=True)

    def _submit(self, work: Callable[[], TicketDetail], clear_note: bool = False) -> None:
        def done(detail: TicketDetail) -> None:
            if clear_note:
                self.note.clear()
                self.minutes.setValue(0)
            self.show_detail(detail)
            self.ticket_changed.emit(detail.ticket.id)

        self._worker.submit(work, done, self.failed.emit)


def detail_html(detail: TicketDetail, now: datetime, policy: SlaPolicy) -> str:
    t = detail.ticket
    # Due and worklog times in the ticket's site's zone, named: the site may be elsewhere.
    clock = SlaClock(policy, {detail.site.id: detail.site.timezone} if detail.site else {})
    e = visible_html  # stored text: control characters visible, then HTML-escaped
    # Category, queue, impact, urgency and assignee are the editable fields above this card;
    # it says only what they do not, so the worklog below stays in view.
    rows: list[tuple[str, Any]] = [
        (
            "Status",
            label(t.status)
            + (f" (for {word(t.wait_reason)})" if t.wait_reason else "")
            + f" · {t.assignee or 'unassigned'} · came in by {word(t.channel)}",
        ),
        (
            "SLA",
            f"{clock.left(t, now)} · {t.priority.value}"
            + (f" (override: {t.priority_reason})" if t.priority_reason else ""),
        ),
        ("Due", "; ".join(f"{name} {text}" for name, text in clock.deadlines(t))),
    ]
    if t.resolution:
        rows.append(("Resolution", t.resolution))
    if detail.requester:
        r = detail.requester
        rows.append(("Requester", f"{r.name} · {r.email} · {r.phone} · {r.department}"))
    if detail.asset:
        a = detail.asset
        warranty = (
            f"<b style='color:{EXPIRED_COLOR}'>warranty expired {a.warranty_end}</b>"
            if a.warranty_expired(now.date())
            else f"warranty until {a.warranty_end or '—'}"
        )  # marked up: an expired warranty must stand out
        facts = f"{a.tag} · {a.hostname} · s/n {a.serial} · {a.model} · {a.os} · "
        sessions = " · ".join(
            f'<a href="launch:{kind}">{label}</a>' for kind, label in KIND_LABELS.items()
        )  # opened by the remote console with the asset's credential profile
        rows.append(("Asset", Markup(f"{e(facts)}{warranty}<br>Open a session: {sessions}")))
    table = "".join(
        f"<tr><td><b>{e(k)}</b></td><td>{v if isinstance(v, Markup) else e(str(v))}</td></tr>"
        for k, v in rows
    )
    log = "".join(
        f"<p><small>{clock.when(w.created_at, t)} · {e(w.author)} · "
        f"{e(label(w.kind))}"
        f"{f' · {w.minutes} min' if w.minutes else ''}</small><br>{e(w.text)}</p>"
        for w in detail.worklog
    )
    pending = (
        f"<p><i>{plural(len(detail.pending), 'change')} not yet synced.</i></p>"
        if detail.pending
        else ""
    )
    return (
        f"<h3>{e(t.ref)} — {e(t.title)}</h3><table cellspacing=4>{table}</table>"
        f"<p>{e(t.description)}</p>"
        f"<h4>Worklog · {detail.minutes_spent} min spent</h4>{log}{pending}"
    )
