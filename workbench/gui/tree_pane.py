"""The troubleshooting-tree dock: pick a tree for the ticket on screen and walk it.

The Run lives on the database worker: every answer is a job there that changes the run, stores
it and returns a snapshot (`StepView`) for the screen, so the GUI thread never reads the store
(a goto reads the next tree from it). A check's recipe runs on the task manager's network lane
and only its outcome comes back to the database worker, so waiting hosts never hold up the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.docks import DockPane
from workbench.gui.theme import ERROR_COLOR
from workbench.gui.tree_diagram import DiagramDialog
from workbench.gui.tree_step import StepPanel, StepView, TreeChooser, snapshot
from workbench.gui.worker import DbWorker, error_text
from workbench.remote.recipes import RecipeLibrary
from workbench.resources import RESOURCES
from workbench.services.profiles import ProfileService
from workbench.services.recipes import RecipeService
from workbench.services.tickets import TicketService
from workbench.store import trees as tree_store
from workbench.trees.model import NodeType
from workbench.trees.recipes import catalog_of
from workbench.trees.remote_checks import (
    Connect,
    RemoteCheckExecutor,
    no_credentials,
    profiles_connect,
)
from workbench.trees.runner import CheckResult, Unreachable
from workbench.trees.service import RunHandle, TreeChanged, TreeInfo, TreeService

if TYPE_CHECKING:
    from workbench.gui.detail import DetailPane
    from workbench.gui.main_window import MainWindow
    from workbench.remote.jobs import JobResult, JobRunner

BY_HAND = (
    "Checks are answered by hand: no remote credentials are set up yet, so the pane shows the "
    "branches to pick from."
)


@dataclass(frozen=True)
class Fixed:
    """A CheckExecutor that replays an outcome already fetched on the network worker."""

    outcome: CheckResult | Unreachable

    def run(self, _recipe: str, _host: str, _params: object) -> CheckResult | Unreachable:
        return self.outcome


@dataclass(frozen=True)
class Choices:
    infos: list[TreeInfo]
    open_runs: dict[str, int]  # tree id → steps taken in this ticket's open run


class _Lines(QObject):
    """Carries streamed output lines from the job threads to the GUI thread."""

    line = Signal(str, str)


class TreePane(DockPane):
    accepted = Signal(str)  # ticket id, once a tree's proposal was applied to it

    def __init__(
        self,
        tickets: TicketService,
        worker: DbWorker,
        detail: DetailPane,
        connect: Connect = no_credentials,
        trees: TreeService | None = None,
    ) -> None:
        super().__init__()
        self._tickets, self._worker, self._detail = tickets, worker, detail
        self._connect = connect
        self._trees = trees
        self._builds_trees = trees is None  # a given service keeps the catalog it came with
        self._recipe_source = RecipeService(tickets.store, RESOURCES / "recipes")
        self._recipes: RecipeLibrary | None = None
        self._jobs: JobRunner | None = None
        self._executor: RemoteCheckExecutor | None = None
        self._ticket_id: str | None = None
        self._handle: RunHandle | None = None
        self._lines = _Lines()
        self.diagram: DiagramDialog | None = None  # the last one opened
        self.header = QLabel("Select a ticket to work it through a troubleshooting tree.")
        self.header.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.restart_new = QPushButton("Restart with the new version")
        self.restart_new.hide()
        self.stack = QStackedWidget()
        self.chooser = TreeChooser()
        self.stack.addWidget(self.chooser)
        self.step = StepPanel(by_hand=connect is no_credentials)
        self.stack.addWidget(self.step)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)  # a laptop's dock has no height to spare
        layout.addWidget(self.header)
        if connect is no_credentials:
            notice = QLabel(BY_HAND)
            notice.setWordWrap(True)
            layout.addWidget(notice)
        layout.addWidget(self.message)
        layout.addWidget(self.restart_new, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.stack, 1)
        self._wire()
        if detail.detail is not None:  # built after a ticket was opened: start from it
            self.follow(detail.detail.ticket.id)

    def _wire(self) -> None:
        self._detail.shown.connect(self.follow)
        self.chooser.start.connect(self._start)
        self.chooser.diagram.connect(self.show_diagram)
        self.restart_new.clicked.connect(lambda: self._start(self._restart_tree, restart=True))
        self._restart_tree = ""
        step = self.step
        step.answered.connect(lambda label: self._change(lambda run: run.answer(label)))
        step.entered.connect(lambda text: self._change(lambda run: run.enter(text)))
        step.picked.connect(lambda target: self._change(lambda run: run.pick_branch(target)))
        step.done.connect(lambda: self._change(lambda run: run.acknowledge()))
        step.done_by_hand.connect(
            lambda reason: self._change(lambda run: run.acknowledge(Fixed(Unreachable(reason))))
        )
        step.run_remote.connect(self._run_remote)
        step.host_given.connect(lambda host: self._change(lambda run: run.set_host(host)))
        step.by_hand.connect(lambda: self._change(lambda run: run.by_hand()))
        step.cancel.connect(self._cancel)
        step.back.connect(lambda: self._change(lambda run: run.back()))
        step.restart.connect(lambda: self._change(lambda run: run.restart()))
        step.leave.connect(self._leave)
        step.accept.connect(self._accept)
        step.diagram.connect(lambda: self.show_diagram(self.step.view.tree.id))
        self._lines.line.connect(step.add_line)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- services (built on the worker: they read files) -----------------------------------
    def _service(self) -> TreeService:
        # Read each time (one query; shipped recipes are parsed once): a sync may have brought
        # a recipe that a stored tree's check names.
        library = self._recipe_source.library()
        if library != self._recipes:
            self._recipes = library
            if self._builds_trees and self._trees is not None:
                self._trees.catalog = catalog_of(library)
        if self._trees is None:
            self._trees = TreeService(self._tickets, catalog_of(library), RESOURCES / "trees")
        return self._trees

    def shutdown(self) -> None:
        """Cancel a running check and stop the job pool (the application is quitting)."""
        if self._executor is not None:
            self._executor.cancel()
        if self._jobs is not None:
            self._jobs.shutdown()
            self._jobs = None
            self._jobs = None

    # -- following the ticket ------------------------------------------------------------------
    def follow(self, ticket_id: str) -> None:
        """The detail pane shows a ticket: offer its trees (a run of this ticket stays put)."""
        if ticket_id == self._ticket_id:
            if self._handle is None:
                self.reload()  # e.g. after a note: the open runs or the category may differ
            return
        self._ticket_id = ticket_id
        self._handle = None
        self._say("")
        self.stack.setCurrentIndex(0)
        self.reload()

    def reload(self) -> None:
        detail = self._detail.detail
        if detail is None:
            return
        ticket = detail.ticket
        self.header.setText(f"{ticket.ref} — {ticket.title}")

        def load() -> Choices:
            trees = self._service()
            with self._tickets.store.read() as db:
                runs = tree_store.tree_runs_of_ticket(db, ticket.id)
            open_runs = {r.tree_id: len(_steps(r.state)) for r in runs if r.status == "open"}
            return Choices(trees.infos(), open_runs)

        def fill(choices: Choices) -> None:
            self.chooser.fill(choices.infos, choices.open_runs, ticket.category)

        self._worker.submit(load, fill, self._fail)

    # -- runs ------------------------------------------------------------------------------------
    def _start(self, tree_id: str, restart: bool = False) -> None:
        detail = self._detail.detail
        if detail is None:
            return
        ref = detail.ticket.ref

        def start() -> tuple[RunHandle, StepView]:
            handle = self._service().start(tree_id, ref, restart)
            return handle, snapshot(handle.run, self._recipes)

        def started(result: tuple[RunHandle, StepView]) -> None:
            self._handle, view = result
            self._say("Resumed the open run of this tree." if self._handle.resumed else "")
            self.stack.setCurrentIndex(1)
            self.step.show_view(view)

        def refused(error: Exception) -> None:
            self._fail(error)
            if isinstance(error, TreeChanged):
                self._restart_tree = tree_id
                self.restart_new.show()

        self._worker.submit(start, started, refused)

    def _change(self, change: Callable[[Any], object]) -> None:
        """Apply one answer to the run on the worker, store it, and show where it leads."""
        handle, trees = self._handle, self._trees
        if handle is None or trees is None:
            return

        def work() -> StepView:
            change(handle.run)
            trees.save(handle)
            return snapshot(handle.run, self._recipes)

        self.step.set_busy(True)
        self._say("")
        self._worker.submit(work, self._shown, self._refused)

    def _shown(self, view: StepView) -> None:
        self.step.show_view(view)
        self.step.set_busy(False)

    def _refused(self, error: Exception) -> None:
        self.step.set_busy(False)
        self._fail(error)

    def _run_remote(self) -> None:
        """Run the check's (or the action's) recipe on the network worker, then branch."""
        handle, view = self._handle, self.step.view
        if handle is None or view.node.recipe is None:
            return
        if view.confirm and not confirm(self, f"Run {view.node.recipe} on {view.host}?"):
            return
        if self._jobs is None:
            from workbench.remote.jobs import JobRunner  # noqa: PLC0415  (paramiko: on first use)

            self._jobs = JobRunner(self._tickets.store.path.parent)
        assert self._recipes is not None  # read with the pane's trees
        executor = RemoteCheckExecutor(
            self._jobs, self._recipes, self._connect, handle.technician, handle.ticket_ref,
            on_line=self._lines.line.emit,
        )  # fmt: skip
        self._executor = executor
        recipe, host, params = view.node.recipe, view.host, view.params
        self.step.set_running(True)

        def outcome() -> CheckResult | Unreachable:
            if not host:
                return Unreachable("no host: the ticket has no asset")
            return executor.run(recipe, host, params)

        self._worker.network.submit(
            outcome, lambda found: self._ran(handle, found), self._ran_failed
        )

    def _ran(self, handle: RunHandle, outcome: CheckResult | Unreachable) -> None:
        if self._executor is not None and self._executor.finished:
            self._audit(self._executor.finished)
        self._executor = None
        self.step.set_running(False)
        if handle is not self._handle:
            return  # the technician moved to another ticket or tree meanwhile
        replay = Fixed(outcome)
        if self.step.view.node.type is not NodeType.ACTION:
            self._change(lambda run: run.run_check(replay))
        elif isinstance(outcome, Unreachable):
            self.step.show_unreached(outcome.reason)  # the technician does it, then says so
        else:
            self._change(lambda run: run.acknowledge(replay))

    def _audit(self, jobs: list[JobResult]) -> None:
        """The check's jobs go to the central audit with the outbox, like the console's."""
        from workbench.services.remote import RemoteService  # noqa: PLC0415  (imports jobs)

        tickets = self._tickets
        self._worker.submit(lambda: RemoteService(tickets).audit(jobs), lambda _: None, self._fail)

    def _ran_failed(self, error: Exception) -> None:
        self._executor = None
        self.step.set_running(False)
        self._fail(error)

    def _cancel(self) -> None:
        if self._executor is not None:
            self._executor.cancel()

    def _leave(self) -> None:
        """Back to the list of trees; the run stays stored and can be resumed."""
        self._handle = None
        self.stack.setCurrentIndex(0)
        self.reload()

    def _accept(self) -> None:
        handle, trees = self._handle, self._trees
        if handle is None or trees is None:
            return

        proposal = handle.run.proposal
        outcome = "resolved" if proposal and proposal.kind is NodeType.RESOLVE else "escalated"

        def applied(detail: Any) -> None:
            self._handle = None
            self.stack.setCurrentIndex(0)
            self._detail.show_detail(detail)  # the pane follows it and lists the trees again
            self._say(f"{detail.ticket.ref} {outcome}; the transcript is in its worklog.")
            self.step.set_busy(False)
            self.accepted.emit(detail.ticket.id)

        self.step.set_busy(True)
        self._worker.submit(lambda: trees.accept(handle), applied, self._refused)

    # -- diagram and messages ------------------------------------------------------------------
    def show_diagram(self, tree_id: str) -> None:
        def opened(tree: Any) -> None:
            dialog = DiagramDialog(tree, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.diagram = dialog
            dialog.show()

        self._worker.submit(lambda: self._service().tree(tree_id), opened, self._fail)

    def _say(self, text: str, error: bool = False) -> None:
        self.restart_new.hide()
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;" if error else "")
        self.message.setVisible(bool(text))

    def _fail(self, error: Exception | str) -> None:
        self._say(error_text(error), error=True)


def _steps(state: str) -> list[object]:
    return list(json.loads(state).get("steps", []))


def confirm(parent: QWidget, question: str) -> bool:
    """Ask before a recipe that changes the machine. Tests replace this."""
    answer = QMessageBox.question(parent, "Workbench", question)
    return answer == QMessageBox.StandardButton.Yes


def tree_pane(window: MainWindow) -> TreePane:
    """The dock factory: checks reach a host through its asset's credential profile."""
    profiles = ProfileService(window.service.store)
    return TreePane(
        window.service, window.worker, window.detail, connect=profiles_connect(profiles)
    )
