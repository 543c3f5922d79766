"""File → Connect to central database…: what `workbench login` does, from the window.

Saving runs on the worker thread and signs in first; a wrong password or bad input is shown
in the dialog and changes nothing.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from workbench.gui.sync_status import read_state
from workbench.gui.theme import problem_label
from workbench.gui.worker import DbWorker, error_text
from workbench.services.sync import connect_central
from workbench.store import Store
from workbench.store.sync_state import SyncState

SCOPE_CHOICES = (
    ("mine", "mine — my tickets, my tier's queue, my sites' assets"),
    ("all", "all — every ticket and asset (leads, dispatch)"),
)


class LoginDialog(QDialog):
    connected = Signal(object)  # the SyncState once saved

    def __init__(self, store: Store, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to central database")
        self.setMinimumWidth(620)  # room for a whole URL
        self._store = store
        self._worker = worker
        self.url = QLineEdit()
        self.url.setPlaceholderText("postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…]")
        self.technician = QLineEdit()
        self.technician.setPlaceholderText("Your login, e.g. ana.lopez")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Empty: the saved one, PGPASSWORD or none")
        self.scope = QComboBox()
        for mode, text in SCOPE_CHOICES:
            self.scope.addItem(text, mode)
        note = QLabel(
            "With mine, closed tickets stay for 90 days; trees, recipes and other reference "
            "data come along either way. The password is saved only once it signs in, in the "
            "keyring for this cache alone (other caches keep theirs), never into the cache."
        )
        note.setWordWrap(True)
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        form = QFormLayout(self)
        form.addRow("Central database", self.url)
        form.addRow("Technician", self.technician)
        form.addRow("Password", self.password)
        form.addRow("This cache holds", self.scope)
        form.addRow(note)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def reload(self) -> None:
        """Show what the cache is connected with now; the password is never shown."""
        self.password.clear()
        self.problem.clear()
        store = self._store
        self._worker.submit(lambda: read_state(store), self._fill)

    def _fill(self, state: SyncState) -> None:
        self.url.setText(state.central_url or "")
        self.technician.setText(state.technician or "")
        self.scope.setCurrentIndex(self.scope.findData(state.scope))

    def save(self) -> None:
        store, url, technician = self._store, self.url.text(), self.technician.text()
        password, scope = self.password.text() or None, self.scope.currentData()
        self.buttons.setEnabled(False)
        self.problem.clear()
        self._worker.network.submit(  # it signs in to the central first
            lambda: connect_central(store, url, technician, password, scope),
            self._saved,
            self._refused,
        )

    def _saved(self, state: SyncState) -> None:
        self.connected.emit(state)
        self.accept()

    def _refused(self, error: Exception) -> None:
        self.buttons.setEnabled(True)
        self.problem.setText(error_text(error))
