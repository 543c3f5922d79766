"""The Administration dialog's forms: a technician (from ui/technician_form.ui) and a site,
each saving on the network lane and showing a refusal as its one line."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.models import Role, Site, Technician
from workbench.gui.forms import field, load_form
from workbench.gui.sync_status import server_label
from workbench.gui.theme import problem_label
from workbench.gui.worker import Lane, error_text
from workbench.services.admin import ROLE_LABELS, CentralAdmin
from workbench.sync import central

ROLES = (Role.AGENT, Role.FIELD, Role.LEAD, Role.ADMIN)


def problem_line(error: Exception | str, url: str) -> str:
    """One line a person can act on; the server named as host:port/database, no user name."""
    lines = error_text(error).strip().splitlines() or ["internal error; details in the log"]
    return lines[0].replace(central.masked(url), server_label(url))


class _Form(QDialog):
    """A form that saves on the network lane: the buttons wait, a refusal keeps the input."""

    def __init__(self, lane: Lane, url: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._lane = lane
        self._url = url
        self._busy = False
        self.problem = problem_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.finished.connect(self._closed)

    def save(self) -> None:
        raise NotImplementedError

    def _closed(self, _result: int) -> None:
        if not self._busy:  # else once the answer is in (`_settled`)
            self.deleteLater()

    def _submit(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.problem.clear()
        self.buttons.setEnabled(False)
        self._busy = True

        def saved(result: Any) -> None:
            self._settled()
            done(result)
            self.accept()

        self._lane.submit(work, saved, self._refused)

    def _settled(self) -> None:
        self._busy = False
        self.buttons.setEnabled(True)
        if not self.isVisible():  # closed while the central was asked: nobody looks any more
            self.deleteLater()

    def _refused(self, error: Exception) -> None:
        self._settled()
        self.refuse(problem_line(error, self._url))

    def refuse(self, text: str) -> None:
        self.problem.setText(text)


class TechnicianDialog(_Form):
    """Add or edit a technician: the form of `ui/technician_form.ui`."""

    saved = Signal(object)  # the Technician as the central now has it

    def __init__(
        self,
        admin: CentralAdmin,
        lane: Lane,
        sites: tuple[Site, ...],
        technician: Technician | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(lane, admin.url, parent)
        self.admin = admin
        self.original = technician
        self._generating = False
        self.form = load_form("technician_form", self)
        self.login = field(self.form, QLineEdit, "login")
        self.name = field(self.form, QLineEdit, "name")
        self.email = field(self.form, QLineEdit, "email")
        self.tier = field(self.form, QComboBox, "tier")
        self.role = field(self.form, QComboBox, "role")
        self.sites = field(self.form, QListWidget, "sites")
        # qt-material draws no check box in item views: one drawn here reads in every theme.
        self.sites.setStyleSheet(
            "QListWidget::indicator { width: 13px; height: 13px;"
            " border: 1px solid palette(text); border-radius: 2px; }"
            "QListWidget::indicator:checked { background: palette(highlight);"
            " image: none; }"
        )
        self.password = field(self.form, QLineEdit, "password")
        self.password_again = field(self.form, QLineEdit, "password_again")
        self.generate = field(self.form, QPushButton, "generate")
        self.generated_box = field(self.form, QFrame, "generated_box")
        self.generated = field(self.form, QLineEdit, "generated")
        self.copy_generated = field(self.form, QPushButton, "copy_generated")
        password_note = field(self.form, QLabel, "password_note")
        for role in ROLES:
            self.role.addItem(ROLE_LABELS[role], role)
        for site in sites:
            item = QListWidgetItem(site.name)
            item.setData(Qt.ItemDataRole.UserRole, site.id)
            item.setToolTip(f"{site.name}: {site.address or 'no address'} ({site.timezone})")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.sites.addItem(item)
        if not sites:
            self.sites.addItem(QListWidgetItem("No sites yet: add them on the Sites tab"))
            self.sites.setEnabled(False)
        self.generated_box.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.generate.clicked.connect(self.generate_password)
        self.copy_generated.clicked.connect(self._copy)
        for typed in (self.password, self.password_again):
            typed.textChanged.connect(lambda _text: self._forget_generated())
        if technician is None:
            self.setWindowTitle("Add technician")
            password_note.setText(
                "Typed twice, or Generate one. Empty: they sign in with a client certificate "
                "or Kerberos instead."
            )
            self.role.setCurrentIndex(0)
        else:
            self.setWindowTitle(f"Edit technician {technician.name}")
            self._fill(technician)
            password_note.setText("Empty: the password stays as it is.")
        self.setMinimumWidth(560)

    def _fill(self, tech: Technician) -> None:
        self.login.setText(tech.login)
        self.login.setReadOnly(True)
        self.login.setToolTip("The login cannot change: it is their database sign-in")
        self.name.setText(tech.name)
        self.email.setText(tech.email)
        self.tier.setCurrentIndex(tech.tier - 1)
        self.role.setCurrentIndex(self.role.findData(tech.role))
        for row in range(self.sites.count()):
            item = self.sites.item(row)
            if item.data(Qt.ItemDataRole.UserRole) in tech.sites:
                item.setCheckState(Qt.CheckState.Checked)

    # -- the password ----------------------------------------------------------------------
    def generate_password(self) -> str:
        secret = self.admin.generate_password()
        self._generating = True
        for typed in (self.generated, self.password, self.password_again):
            typed.setText(secret)
        self._generating = False
        if not self.generated_box.isVisible():
            self.generated_box.show()
            self.adjustSize()  # room for the note, which wraps
        self.generated.selectAll()
        self.generated.setFocus()
        return secret

    def _forget_generated(self) -> None:
        """Typed over: the password shown is not the one that will be saved any more."""
        shown = self.generated.text()
        if self._generating or not shown:
            return
        if (self.password.text(), self.password_again.text()) != (shown, shown):
            self.generated.clear()
            self.generated_box.hide()

    def _copy(self) -> None:
        clipboard = QGuiApplication.clipboard()
        clipboard.setText(self.generated.text())

    # -- saving ----------------------------------------------------------------------------
    def chosen_sites(self) -> tuple[str, ...]:
        items = (self.sites.item(row) for row in range(self.sites.count()))
        return tuple(
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.data(Qt.ItemDataRole.UserRole) and item.checkState() == Qt.CheckState.Checked
        )

    def save(self) -> None:
        if self.password.text() != self.password_again.text():
            self.refuse("The two passwords differ: type the same one twice (or Generate one).")
            return
        admin, password = self.admin, self.password.text() or None
        login, name, email = self.login.text().strip(), self.name.text(), self.email.text()
        tier, role = self.tier.currentIndex() + 1, self.role.currentData()
        sites = self.chosen_sites()
        if self.original is None:
            self._submit(
                lambda: admin.add_technician(
                    login,
                    name=name,
                    email=email,
                    tier=tier,
                    role=role,
                    sites=sites,
                    password=password,
                ),
                self.saved.emit,
            )
            return
        was = self.original
        changes: dict[str, Any] = {
            "name": name if name.strip() != was.name else None,
            "email": email if email.strip() != was.email else None,
            "tier": tier if tier != was.tier else None,
            "role": role if role != was.role else None,
            "sites": sites if set(sites) != set(was.sites) else None,
        }
        if all(value is None for value in changes.values()) and not password:
            self.accept()  # nothing changed: nothing to send
            return
        self._submit(
            lambda: admin.edit_technician(was.login, **changes, password=password),
            self.saved.emit,
        )


class SiteDialog(_Form):
    """Add or edit a site: name, address, IANA time zone (the SLA clock runs in it)."""

    saved = Signal(object)  # the Site

    def __init__(
        self,
        admin: CentralAdmin,
        lane: Lane,
        site: Site | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(lane, admin.url, parent)
        self.admin = admin
        self.original = site
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Olympia HQ")
        self.address = QLineEdit()
        self.address.setPlaceholderText("Street, city, state")
        self.timezone = QComboBox()
        self.timezone.setEditable(True)
        self.timezone.addItems(sorted(zoneinfo.available_timezones()))
        completer = QCompleter(self.timezone.model(), self.timezone)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.timezone.setCompleter(completer)
        note = QLabel("The business hours and SLA deadlines of its tickets follow this zone.")
        note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("&Name", self.name)
        form.addRow("&Address", self.address)
        form.addRow("&Time zone", self.timezone)
        form.addRow(note)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        if site is None:
            self.setWindowTitle("Add site")
            self.timezone.setCurrentText("America/Los_Angeles")
        else:
            self.setWindowTitle(f"Edit site {site.name}")
            self.name.setText(site.name)
            self.address.setText(site.address)
            self.timezone.setCurrentText(site.timezone)
        self.setMinimumWidth(520)

    def save(self) -> None:
        admin, name = self.admin, self.name.text()
        address, timezone = self.address.text(), self.timezone.currentText()
        if self.original is None:
            self._submit(lambda: admin.add_site(name, address, timezone), self.saved.emit)
            return
        was = self.original
        changes = {
            "name": name if name.strip() != was.name else None,
            "address": address if address.strip() != was.address else None,
            "timezone": timezone if timezone.strip() != was.timezone else None,
        }
        if all(value is None for value in changes.values()):
            self.accept()
            return
        self._submit(lambda: admin.edit_site(was.id, **changes), self.saved.emit)
