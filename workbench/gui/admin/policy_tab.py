"""The Policy tab: the help desk's SLA policy versions, and a new one set from a file (leads),
as `central policy set FILE` and `central policy history`: checked first, every problem
located, nothing stored while one is left."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.admin.central_tab import CentralTab, table_of
from workbench.gui.admin.models import PolicyTableModel
from workbench.gui.worker import Lane
from workbench.services.admin import CentralAdmin, FileProblems, PolicyVersion


class PolicyTab(CentralTab):
    """The versions set so far, newest first, and Set from file…."""

    def __init__(self, admin: CentralAdmin, lane: Lane, parent: QWidget | None = None):
        super().__init__(admin, lane, parent)
        self.versions = PolicyTableModel(self)
        self.table = table_of(self.versions, 2)
        self.table.hide()  # until versions are read
        self.set_button = QPushButton("Set from &file…")
        self.set_button.setToolTip("Check a policy file (as sla.yaml) and make it the policy")
        self.result = QLabel("Reading the policy versions…")
        self.result.setWordWrap(True)
        self.problems = QListWidget()
        self.problems.setWordWrap(True)
        self.problems.hide()
        self._last_dir = ""
        self._said = ""  # what the last Set from file did, kept over a reload
        self._setting = False  # a file is being checked and stored
        buttons = QHBoxLayout()
        buttons.addWidget(self.set_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addWidget(
            self.note(
                "The priority matrix, SLA targets, queues and reopen window every cache uses "
                "(leads and admins). A new version is checked first and stored only when it "
                "has no problem; caches take it at their next sync."
            )
        )
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        column.addWidget(self.result)
        column.addWidget(self.problem)
        column.addWidget(self.problems, 1)
        column.addStretch(0)
        self.set_button.clicked.connect(self.choose_file)

    def update_buttons(self) -> None:
        self.set_button.setEnabled(not self.busy)

    def reload(self) -> None:
        if not self.busy:
            self.ask(self.admin.policy_versions, self._show)

    def _show(self, versions: list[PolicyVersion]) -> None:
        self.versions.set_versions(versions)
        self.table.setVisible(bool(versions))  # none yet: the line below says so
        if versions:
            self.table.selectRow(0)
        if not self.problems.isVisible() and not self._said:
            self.result.setText(
                f"Version {versions[0].number} is in effect."
                if versions
                else "No policy set yet: every cache uses the shipped sla.yaml."
            )

    def choose_file(self) -> QFileDialog:
        chooser = QFileDialog(self, "Choose a policy file")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setNameFilters(["Policy files (*.yaml *.yml)", "All files (*)"])
        if self._last_dir:
            chooser.setDirectory(self._last_dir)
        chooser.fileSelected.connect(self.set_from)
        chooser.finished.connect(lambda _result: chooser.deleteLater())
        chooser.open()
        return chooser

    def set_from(self, path: str | Path) -> None:
        """Check the file and, when it has no problem, store it as the next version."""
        chosen = Path(path)
        self._last_dir = str(chosen.parent)
        self._clear_problems()
        self._said = ""
        self._setting = True
        self.result.setText(f"Checking {chosen.name}…")
        admin = self.admin
        self.ask(lambda: admin.set_policy_from_file(chosen), lambda n: self._set(n, chosen.name))

    def _set(self, number: int, name: str) -> None:
        self._setting = False
        self._said = f"The help desk's policy is now version {number}, from {name}."
        self.result.setText(f"{self._said} Every cache takes it at its next sync.")
        self.changed.emit(self._said)
        self.reload()

    def refused(self, error: Exception) -> None:
        setting, self._setting = self._setting, False
        if isinstance(error, FileProblems):
            self.result.setText(error.summary[:1].upper() + error.summary[1:] + ":")
            self.problems.addItems(list(error.lines))
            self.problems.show()
            return
        if setting:
            self.result.setText("Nothing stored.")
        elif not self._said:
            self.result.setText("The policy versions could not be read.")
        super().refused(error)

    def _clear_problems(self) -> None:
        self.problems.clear()
        self.problems.hide()
