"""File → Administration…: the help desk's technicians and sites on the central database,
its imports, its policy and its audit (the last three tabs in modules of their own).

A thin window over `workbench.services.admin.CentralAdmin`: every read and change runs on the
task manager's network lane, and what the central refuses ("only an admin may
manage technicians") is shown as its one line in the dialog that asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models import Site, Technician
from workbench.gui.admin.audit_tab import AuditTab
from workbench.gui.admin.central_tab import CentralTab, table_of
from workbench.gui.admin.forms import SiteDialog, TechnicianDialog, problem_line
from workbench.gui.admin.imports_tab import ImportsTab
from workbench.gui.admin.models import SiteTableModel, TechnicianTableModel
from workbench.gui.admin.policy_tab import PolicyTab
from workbench.gui.sync_status import server_label
from workbench.gui.theme import problem_label
from workbench.gui.worker import Lane
from workbench.services.admin import CentralAdmin, Directory

FormT = TypeVar("FormT", TechnicianDialog, SiteDialog)


class AdminDialog(QDialog):
    """Technicians, Sites, Imports, Policy and Audit tabs; non-modal, reused while the window
    is open."""

    changed = Signal()  # the central now has something new (the next sync brings it here)
    loaded = Signal()  # the lists are on screen (or a refusal to show them is)

    def __init__(self, admin: CentralAdmin, lane: Lane, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Administration — {server_label(admin.url)}")
        self.admin = admin
        self._lane = lane
        self.directory = Directory((), ())
        self._said = ""  # what the last change did, shown above the counts
        self.technicians = TechnicianTableModel(self)
        self.sites = SiteTableModel(self)
        self.technician_table = table_of(self.technicians, stretch=5)  # sites
        self.site_table = table_of(self.sites, stretch=1)  # the address
        self.add_technician_button = QPushButton("&Add…")
        self.edit_technician_button = QPushButton("&Edit…")
        self.retire_button = QPushButton("&Retire…")
        self.add_site_button = QPushButton("A&dd…")
        self.edit_site_button = QPushButton("Ed&it…")
        self.tabs = QTabWidget()
        self.tabs.addTab(
            self._tab(
                self.technician_table,
                self.add_technician_button,
                self.edit_technician_button,
                self.retire_button,
            ),
            "&Technicians",
        )
        self.tabs.addTab(
            self._tab(self.site_table, self.add_site_button, self.edit_site_button), "&Sites"
        )
        self.imports = ImportsTab(admin, lane)
        self.policy = PolicyTab(admin, lane)
        self.audit = AuditTab(admin, lane)
        self.tabs.addTab(self.imports, "Im&ports")
        self.tabs.addTab(self.policy, "&Policy")
        self.tabs.addTab(self.audit, "A&udit")
        for tab in self.central_tabs:
            tab.changed.connect(self._changed)
        self.tabs.currentChanged.connect(self._tab_shown)
        self.summary = QLabel("Loading from the central database…")
        self.summary.setWordWrap(True)
        self.problem = problem_label()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem)
        layout.addWidget(close)
        self.add_technician_button.clicked.connect(self.add_technician)
        self.edit_technician_button.clicked.connect(self.edit_technician)
        self.retire_button.clicked.connect(self.retire_technician)
        self.add_site_button.clicked.connect(self.add_site)
        self.edit_site_button.clicked.connect(self.edit_site)
        self.technician_table.doubleClicked.connect(lambda _index: self.edit_technician())
        self.site_table.doubleClicked.connect(lambda _index: self.edit_site())
        for table in (self.technician_table, self.site_table):
            table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()
        self.resize(1000, 520)

    @property
    def central_tabs(self) -> tuple[CentralTab, ...]:
        return (self.imports, self.policy, self.audit)

    @property
    def lane(self) -> Lane:
        return self._lane

    def _tab_shown(self, index: int) -> None:
        """The directory's counts and refusal belong to the first two tabs; the others read
        what they show when they are shown."""
        page = self.tabs.widget(index)
        on_directory = not isinstance(page, CentralTab)
        self.summary.setVisible(on_directory)
        self.problem.setVisible(on_directory)
        if isinstance(page, (PolicyTab, AuditTab)):
            page.reload()

    @staticmethod
    def _tab(table: QTableView, *buttons: QPushButton) -> QWidget:
        page = QWidget()
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        column = QVBoxLayout(page)
        column.addWidget(table, 1)
        column.addLayout(row)
        return page

    # -- loading ---------------------------------------------------------------------------
    def reload(self) -> None:
        admin = self.admin
        self.lane.submit(admin.directory, self._show, self._failed_to_load)
        page = self.tabs.currentWidget()
        if isinstance(page, (PolicyTab, AuditTab)):
            page.reload()

    def _show(self, directory: Directory) -> None:
        chosen_tech, chosen_site = self.chosen_technician(), self.chosen_site()
        self.directory = directory
        self.technicians.set_directory(directory)
        self.sites.set_sites(directory.sites)
        tech_row = self.technicians.row_of(chosen_tech.login) if chosen_tech else None
        self._select(self.technician_table, tech_row)
        self._select(self.site_table, self.sites.row_of(chosen_site.id) if chosen_site else None)
        active = sum(1 for t in directory.technicians if t.active)
        retired = len(directory.technicians) - active
        counts = (
            f"{active} active technician{'s' if active != 1 else ''}"
            + (f", {retired} retired" if retired else "")
            + f", {len(directory.sites)} site{'s' if len(directory.sites) != 1 else ''}."
        )
        self.summary.setText(
            f"{self._said} {counts} Every cache gets the change with its next sync."
            if self._said
            else f"{counts} Changes reach every cache with its next sync."
        )
        self._update_buttons()
        self.loaded.emit()

    def _failed_to_load(self, error: Exception) -> None:
        self.summary.setText("The lists could not be read from the central database.")
        self._failed(error)
        self.loaded.emit()

    def _failed(self, error: Exception) -> None:
        self.problem.setText(problem_line(error, self.admin.url))

    @staticmethod
    def _select(table: QTableView, row: int | None) -> None:
        if row is not None:
            table.selectRow(row)
        elif table.model().rowCount() > 0:
            table.selectRow(0)

    def chosen_technician(self) -> Technician | None:
        rows = self.technician_table.selectionModel().selectedRows()
        return self.technicians.technician(rows[0].row()) if rows else None

    def chosen_site(self) -> Site | None:
        rows = self.site_table.selectionModel().selectedRows()
        return self.sites.site(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        tech = self.chosen_technician()
        self.edit_technician_button.setEnabled(tech is not None)
        self.retire_button.setEnabled(tech is not None and tech.active)
        self.edit_site_button.setEnabled(self.chosen_site() is not None)

    # -- technicians -----------------------------------------------------------------------
    def add_technician(self) -> TechnicianDialog:
        return self._open(
            TechnicianDialog(self.admin, self.lane, self.directory.sites, None, self),
            lambda tech: f"Enrolled {tech.name} ({tech.login}).",
        )

    def edit_technician(self) -> TechnicianDialog | None:
        tech = self.chosen_technician()
        if tech is None:
            return None
        return self._open(
            TechnicianDialog(self.admin, self.lane, self.directory.sites, tech, self),
            lambda changed: f"Saved the changes to {changed.name} ({changed.login}).",
        )

    def retire_technician(self) -> QMessageBox | None:
        tech = self.chosen_technician()
        if tech is None or not tech.active:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Retire technician",
            f"Retire {tech.name} ({tech.login})?",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(
            "They can no longer sign in or sync. Their tickets, worklog and history stay."
        )
        retire = box.addButton("Retire", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        admin, login = self.admin, tech.login

        def answered() -> None:
            if box.clickedButton() is retire:
                self.problem.clear()
                self.lane.submit(
                    lambda: admin.retire_technician(login),
                    lambda gone: self._changed(f"Retired {gone.name} ({gone.login})."),
                    self._failed,
                )
            box.deleteLater()

        box.finished.connect(lambda _result: answered())
        box.open()
        return box

    # -- sites -----------------------------------------------------------------------------
    def add_site(self) -> SiteDialog:
        return self._open(
            SiteDialog(self.admin, self.lane, None, self),
            lambda site: f"Added the site {site.name}.",
        )

    def edit_site(self) -> SiteDialog | None:
        site = self.chosen_site()
        if site is None:
            return None
        return self._open(
            SiteDialog(self.admin, self.lane, site, self),
            lambda changed: f"Saved the changes to the site {changed.name}.",
        )

    def _open(self, dialog: FormT, said: Callable[[Any], str]) -> FormT:
        self.problem.clear()
        dialog.saved.connect(lambda result: self._changed(said(result)))
        dialog.open()
        return dialog

    def _changed(self, text: str) -> None:
        self._said = text
        self.summary.setText(text)
        self.changed.emit()
        self.reload()
