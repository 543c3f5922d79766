"""Actions on every selected ticket at once: each ticket is its own transaction.

A refusal for one ticket (a closed ticket cannot be started) does not stop the others; the
technician gets one summary naming what was done and what was refused, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from workbench.core.errors import WorkbenchError
from workbench.core.labels import plural
from workbench.core.models import Technician
from workbench.gui.detail import ACTIONS, Action, Answers, Escalation, ask
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

# Reopening or resolving dozens of tickets with one text is rarely meant; these stay per ticket.
BULK_ACTIONS = tuple(a for a in ACTIONS if a.name in ("assign", "start", "wait", "escalate",
                                                        "close"))  # fmt: skip


@dataclass(frozen=True)
class BulkResult:
    action: str
    done: tuple[str, ...]  # ticket refs
    refused: tuple[tuple[str, str], ...]  # (ticket ref, why)

    def text(self) -> str:
        lines = [f"{self.action}: {len(self.done)} done, {len(self.refused)} refused."]
        # Most refusals name their ticket already ("cannot close HD-000042: …"): said once.
        lines += [why if ref in why else f"{ref}: {why}" for ref, why in self.refused]
        return "\n".join(lines)


Selection = list[tuple[str, str]]  # (ticket id, ref as shown)


def apply_to_each(label: str, tickets: Selection, run: Callable[[str], object]) -> BulkResult:
    done: list[str] = []
    refused: list[tuple[str, str]] = []
    for ticket_id, ref in tickets:
        try:
            run(ticket_id)
        except WorkbenchError as refusal:
            refused.append((ref, str(refusal)))
        else:
            done.append(ref)
    return BulkResult(label, tuple(done), tuple(refused))


class BulkActions(QObject):
    """Builds the "Selected tickets" menu; `selected` returns the tickets to act on."""

    finished = Signal(object)  # BulkResult
    failed = Signal(object)

    def __init__(
        self,
        service: TicketService,
        worker: DbWorker,
        selected: Callable[[], Selection],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._worker = worker
        self._selected = selected
        self._parent = parent

    def fill(self, menu: QMenu) -> None:
        for action in BULK_ACTIONS:
            menu.addAction(action.label).triggered.connect(
                lambda _=False, a=action: self.perform(a)
            )
        menu.addAction("Assign to…").triggered.connect(self.assign_to)

    def perform(self, action: Action, answers: Answers | None = None) -> None:
        ids = self._selected()
        if not ids:
            return
        if answers is None and action.name == "escalate":
            self._worker.submit(
                self._service.technicians,
                lambda found: self._escalate(action, ids, tuple(found)),
                self.failed.emit,
            )
            return
        if answers is None:
            answers = ask(self._parent, action)
        self._apply(action, ids, answers)

    def _escalate(
        self, action: Action, ids: Selection, technicians: tuple[Technician, ...]
    ) -> None:
        # Tickets of several tiers may be selected: every queue above the lowest tier is
        # offered, and a ticket already at or above the one chosen is refused on its own.
        policy = self._service.policy
        queues = self._service.lifecycle.escalation_queues(min(policy.queues))
        self._apply(
            action, ids, ask(self._parent, action, Escalation(tuple(queues), technicians, policy))
        )

    def _apply(self, action: Action, ids: Selection, answers: Answers | None) -> None:
        if answers is None:  # the technician cancelled
            return
        service = self._service
        self._run(action.label.rstrip("…"), ids, lambda ref: action.run(service, ref, answers))

    def assign_to(self) -> None:
        ids = self._selected()
        if ids:
            self._worker.submit(
                self._service.technicians, lambda found: self._pick(ids, found), self.failed.emit
            )

    def _pick(self, ids: Selection, technicians: list[Technician]) -> None:
        labels = [f"{t.name} ({t.login}, tier {t.tier})" for t in technicians]
        chosen, ok = QInputDialog.getItem(
            self._parent, "Assign to", f"Assign {plural(len(ids), 'ticket')} to:", labels, 0, False
        )
        if ok:
            login = technicians[labels.index(chosen)].login
            self.assign(ids, login)

    def assign(self, ids: Selection, login: str) -> None:
        service = self._service
        self._run(f"Assign to {login}", ids, lambda ref: service.assign(ref, login))

    def _run(self, label: str, ids: Selection, run: Callable[[str], object]) -> None:
        self._worker.submit(
            lambda: apply_to_each(label, ids, run), self.finished.emit, self.failed.emit
        )
