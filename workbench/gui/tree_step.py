"""The tree pane's two pages: the trees to choose from, and one step of a run.

The step panel only shows a `StepView` (a snapshot taken on the database worker): its prompt,
the controls its node needs and the path taken. Both pages say what the technician chose
through signals; the pane applies the choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench.core.display import visible, visible_html
from workbench.gui.theme import scaled_font
from workbench.remote.recipes import RecipeLibrary
from workbench.trees.model import Branch, Node, NodeType, Tree
from workbench.trees.runner import Proposal, Run
from workbench.trees.service import TreeInfo

CHOICES_PER_ROW = 3


@dataclass(frozen=True)
class StepView:
    tree: Tree  # the tree the run is in now (a goto may have left the first one)
    node: Node
    prompt: str
    default: str
    pending: str | None  # why the check did not run ("": answered by hand): pick the branch
    proposal: Proposal | None
    path: tuple[str, ...]  # "node: answer" of each step taken
    host: str = ""
    params: dict[str, str] = field(default_factory=dict)
    confirm: bool = False  # the recipe changes the machine: ask first


def snapshot(run: Run, recipes: RecipeLibrary | None) -> StepView:
    """What the screen needs of the run, read on the worker (a goto reads the store)."""
    node = run.node
    host, params, confirm = "", {}, False
    if node.recipe:
        # The same target the runner uses when it runs the recipe itself.
        host = run.target_host
        params = {name: run.render(value) for name, value in node.params}
        recipe = recipes.recipes.get(node.recipe) if recipes else None
        confirm = recipe is not None and recipe.confirm
    path = tuple(f"{s.node}: {s.answer}" for s in run.steps if s.kind != NodeType.GOTO.value)
    pending = run.pending.reason if run.pending else None
    return StepView(
        run.current_tree, node, run.prompt, run.default, pending, run.proposal, path,
        host, params, confirm,
    )  # fmt: skip


class TreeChooser(QWidget):
    """The trees for the ticket's category first, then the others; open runs say so."""

    start = Signal(str)  # tree id
    diagram = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _item: self._emit(self.start))
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self._emit(self.start))
        self.diagram_button = QPushButton("Show diagram")
        self.diagram_button.clicked.connect(lambda: self._emit(self.diagram))
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addWidget(self.diagram_button)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.list, 1)
        column.addLayout(row)
        self._enable()

    def fill(self, infos: list[TreeInfo], open_runs: dict[str, int], category: str) -> None:
        self.list.clear()
        suggested = [i for i in infos if i.category == category]
        others = [i for i in infos if i.category != category]
        first: QListWidgetItem | None = None
        for heading, group in ((f"Suggested for “{category}”", suggested), ("Other trees", others)):
            if not group:
                continue
            head = QListWidgetItem(heading)
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            font = head.font()
            font.setBold(True)
            head.setFont(font)
            self.list.addItem(head)
            for info in group:
                steps = open_runs.get(info.id)
                resume = f"  — resume the open run ({steps} steps)" if steps is not None else ""
                item = QListWidgetItem(visible(f"{info.title}  ·  {info.category}{resume}"))
                item.setData(Qt.ItemDataRole.UserRole, info.id)
                item.setToolTip(f"{info.id} v{info.version} ({info.origin})")
                self.list.addItem(item)
                first = first or item
        self.list.setCurrentItem(first)
        self._enable()

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def _emit(self, signal: Signal) -> None:
        tree_id = self.selected()
        if tree_id is not None:
            signal.emit(tree_id)  # type: ignore[attr-defined]

    def _enable(self) -> None:
        chosen = self.selected() is not None
        self.start_button.setEnabled(chosen)
        self.diagram_button.setEnabled(chosen)


class StepPanel(QWidget):
    answered = Signal(str)
    entered = Signal(str)
    picked = Signal(str)
    done = Signal()
    done_by_hand = Signal(str)  # the reason the recipe could not run
    run_remote = Signal()
    host_given = Signal(str)  # the machine to check: the ticket has no asset
    by_hand = Signal()  # answer the check without running it
    cancel = Signal()
    back = Signal()
    restart = Signal()
    leave = Signal()
    accept = Signal()
    diagram = Signal()

    def __init__(self, by_hand: bool) -> None:
        super().__init__()
        self._by_hand = by_hand
        self.view: StepView
        self.title = QLabel()
        bold = self.title.font()
        bold.setBold(True)
        self.title.setFont(bold)
        self.path = QLabel()
        self.path.setWordWrap(True)
        for shown_as_typed in (self.title, self.path):  # a tree's own text, never markup
            shown_as_typed.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(Qt.TextFormat.PlainText)
        self.prompt.setFont(scaled_font(self.prompt.font(), 1.2))
        self.nav: dict[str, QPushButton] = {}
        nav_row = QHBoxLayout()
        for name, text, signal in (
            ("back", "Back", self.back),
            ("restart", "Restart", self.restart),
            ("leave", "Other tree", self.leave),
            ("diagram", "Show diagram", self.diagram),
        ):
            button = QPushButton(text)
            button.clicked.connect(signal.emit)
            self.nav[name] = button
            nav_row.addWidget(button)
        # The tree and step on the buttons' row: a laptop's dock has no line to spare. A long
        # title is cut at the right, not made wider than the pane.
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        nav_row.insertWidget(0, self.title, 1)
        # The answers side by side, CHOICES_PER_ROW a row: a laptop's dock holds them all.
        self.controls = QWidget()
        self._controls = QGridLayout(self.controls)
        self._controls.setContentsMargins(0, 0, 0, 0)
        for column in range(CHOICES_PER_ROW):
            self._controls.setColumnStretch(column, 1)
        self._cell = 0  # where the next choice goes: row * CHOICES_PER_ROW + column
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("The recipe's output appears here while it runs.")
        self.output.setFont(QFont("monospace"))
        self.buttons: dict[str, QPushButton] = {}
        self.input: QLineEdit | None = None
        self._proposal_text: QLabel | None = None  # in the scrolled part, above the Accept
        self.reading = self._reading_area()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(nav_row)
        layout.addWidget(self.reading, 1)
        layout.addWidget(self.controls)
        layout.addWidget(self.output, 1)

    def _reading_area(self) -> QScrollArea:
        """What the step says scrolls (a proposal's facts can be long); the answers, Accept
        and the output box below it never leave the pane."""
        reading = QWidget()
        self._reading = QVBoxLayout(reading)
        self._reading.setContentsMargins(0, 0, 0, 0)
        self._reading.addWidget(self.path)
        self._reading.addWidget(self.prompt)
        self._reading.addStretch(1)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setWidget(reading)
        area.setMinimumHeight(self.fontMetrics().height() + 8)  # the prompt's first line
        return area

    # -- showing a step ------------------------------------------------------------------------
    def show_view(self, view: StepView) -> None:
        self.view = view
        # Trees, answers and prompts filled from check output are written by others: every
        # text of the step is shown with its control characters visible.
        self.title.setText(
            visible(f"{view.tree.title} (v{view.tree.version}) · step {len(view.path) + 1}")
        )
        self.path.setText(visible("Path: " + (" › ".join(view.path) or "(start)")))
        self.prompt.setText(visible(view.prompt or self._terminal_title(view)))
        self.nav["back"].setEnabled(bool(view.path) or view.pending is not None)
        self._clear()
        node = view.node
        if view.proposal is not None:
            self._proposal(view.proposal)
        elif node.type is NodeType.QUESTION:
            for answer in node.answers:
                self._button(
                    answer.label,
                    answer.label,
                    lambda _=False, a=answer.label: self.answered.emit(a),
                )
        elif node.type is NodeType.INPUT:
            self._input(node, view.default)
        elif node.type is NodeType.CHECK:
            self._check(view)
        elif node.type is NodeType.ACTION:
            self._action(view)
        self.output.setVisible(node.recipe is not None)

    @staticmethod
    def _terminal_title(view: StepView) -> str:
        return "Resolve the ticket" if view.node.type is NodeType.RESOLVE else "Escalate the ticket"

    def _clear(self) -> None:
        while (item := self._controls.takeAt(0)) is not None:
            if item.widget() is not None:
                item.widget().deleteLater()
        self._cell = 0
        if self._proposal_text is not None:
            self._proposal_text.deleteLater()
            self._proposal_text = None
        self.buttons = {}
        self.input = None

    def _label(self, text: str, rich: bool = False) -> QLabel:
        """A label of plain text, or of markup whose parts were passed through `visible_html`."""
        label = QLabel(text if rich else visible(text))
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
        self._place(label, CHOICES_PER_ROW)
        return label

    def _place(self, widget: QWidget, span: int = 1) -> None:
        """A choice goes beside the one before; a text takes a row of its own (`span`)."""
        row, column = divmod(self._cell, CHOICES_PER_ROW)
        if column + span > CHOICES_PER_ROW:
            row, column = row + 1, 0
        self._controls.addWidget(widget, row, column, 1, span)
        self._cell = row * CHOICES_PER_ROW + column + span

    def _button(self, key: str, text: str, slot: object) -> QPushButton:
        button = QPushButton(visible(text))
        button.clicked.connect(slot)
        self.buttons[key] = button
        self._place(button)
        return button

    def _input(self, node: Node, default: str) -> None:
        field_ = QLineEdit()
        field_.setPlaceholderText(f"empty: {default}" if default else "")
        field_.returnPressed.connect(lambda: self.entered.emit(field_.text()))
        self.input = field_
        self._place(field_, CHOICES_PER_ROW - 1)
        self._button("next", "Next", lambda: self.entered.emit(field_.text()))
        if node.pattern_description or node.pattern:
            self._label(f"Expected: {node.pattern_description or node.pattern}")
        field_.setFocus()

    def _check(self, view: StepView) -> None:
        if view.pending is not None:
            why = f"Not run: {view.pending}. " if view.pending else ""
            self._label(f"{why}Pick what you found:")
            for branch in view.node.branches:
                self._branch_button(branch)
            return
        if not view.host:
            self._ask_host()
        else:
            hint = " (answered by hand while no credentials are set up)" if self._by_hand else ""
            self._label(f"Runs {view.node.recipe} on {view.host}{hint}.")
            self._button("run", "Run check", self.run_remote.emit)
            self._button("cancel", "Cancel", self.cancel.emit).setEnabled(False)
        self._button("by_hand", "Answer by hand", self.by_hand.emit)

    def _branch_button(self, branch: Branch) -> None:
        """The branch by its label; its condition (what the check would have seen) below it."""
        # Two branches may lead to the same node: the label tells them apart.
        key = branch.next if branch.next not in self.buttons else f"{branch.next}:{branch.title}"
        choice = branch.label or branch.next
        button = QPushButton(visible(branch.title))
        button.clicked.connect(lambda _=False: self.picked.emit(choice))
        button.setToolTip(visible(f"{branch.condition} → {branch.next}"))
        self.buttons[key] = button
        cell = QWidget()
        stacked = QVBoxLayout(cell)
        stacked.setContentsMargins(0, 0, 0, 0)
        stacked.addWidget(button)
        if branch.label:
            detail = QLabel(visible(f"{branch.condition} → {branch.next}"))
            detail.setTextFormat(Qt.TextFormat.PlainText)
            detail.setWordWrap(True)
            detail.setStyleSheet("color: palette(placeholder-text);")
            stacked.addWidget(detail)
        stacked.addStretch(1)
        self._place(cell)

    def _ask_host(self) -> None:
        """The ticket has no asset: the technician names the machine, or answers by hand."""
        self._label("The ticket has no asset: enter the machine to check, or answer by hand.")
        field_ = QLineEdit()
        field_.setPlaceholderText("Hostname or IP address")
        field_.returnPressed.connect(lambda: self.host_given.emit(field_.text()))
        self.input = field_
        self._place(field_, CHOICES_PER_ROW - 1)
        self._button("host", "Use this machine", lambda: self.host_given.emit(field_.text()))
        field_.setFocus()

    def _action(self, view: StepView) -> None:
        if view.node.recipe and view.host:
            self._button("run", f"Run {view.node.recipe} on {view.host}", self.run_remote.emit)
            self._button("cancel", "Cancel", self.cancel.emit).setEnabled(False)
        elif view.node.recipe:
            self._label(f"The ticket has no asset: do it by hand ({view.node.recipe}).")
        self._button("done", "Done", self.done.emit)

    def show_unreached(self, reason: str) -> None:
        """An action's recipe could not run: the technician does it and says so."""
        self._clear()
        self._label(f"Not reached: {reason}. Do it by hand, then confirm:")
        self._button("done_by_hand", "Done by hand", lambda: self.done_by_hand.emit(reason))

    def _proposal(self, proposal: Proposal) -> None:
        e = visible_html
        if proposal.kind is NodeType.RESOLVE:
            head, action = "Proposal: resolve the ticket", "Accept: resolve the ticket"
        else:
            head = f"Proposal: escalate to tier {proposal.tier}"
            action = "Accept: escalate the ticket"
        facts = "".join(f"<li>{e(fact)}</li>" for fact in proposal.facts) or "<li>none</li>"
        text = self._label(
            f"<b>{e(head)}</b><p>{e(proposal.text)}</p><b>Facts gathered</b><ul>{facts}</ul>",
            rich=True,
        )
        self._reading.insertWidget(self._reading.count() - 1, text)  # before the stretch
        self._proposal_text = text
        self._button("accept", action, self.accept.emit)

    # -- state -----------------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self.setEnabled(not busy)

    def set_running(self, running: bool) -> None:
        """While a recipe runs only Cancel works; its output streams into the box."""
        if running:
            self.output.clear()
        for key, button in {**self.buttons, **self.nav}.items():
            button.setEnabled((key == "cancel") == running)
        if self.input is not None:
            self.input.setEnabled(not running)

    def add_line(self, stream: str, line: str) -> None:
        self.output.appendPlainText(visible(line if stream == "stdout" else f"[stderr] {line}"))
