"""The credential profile editor: list, add, edit, remove; assign one to the ticket's asset."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import BadInput
from workbench.core.models import Asset
from workbench.gui.remote_dialogs import STDERR_RED
from workbench.gui.worker import DbWorker, error_text
from workbench.remote.profiles import AUTH_KINDS, PROTOCOLS, CredentialProfile
from workbench.services.profiles import ProfileService

KEY_FILE_AUTH = ("key", "agent", "certificate")  # the kinds that read a key/certificate file


class ProfileEditor(QDialog):
    """List, add, edit and remove credential profiles; assign one to the ticket's asset.

    The password field goes straight to ProfileService.save (the keyring) and is cleared at once;
    every store and keyring call runs on the database worker.
    """

    changed = Signal()  # profiles were saved or removed
    assigned = Signal(str)  # the profile now linked to the asset

    def __init__(
        self,
        profiles: ProfileService,
        worker: DbWorker,
        asset: Asset | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Credential profiles")
        self._profiles = profiles
        self._worker = worker
        self._asset = asset
        self._known: dict[str, CredentialProfile] = {}
        self.names = QListWidget()
        self.name, self.user, self.key_path = QLineEdit(), QLineEdit(), QLineEdit()
        self.jump, self.ca_file, self.secret = QLineEdit(), QLineEdit(), QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.protocol, self.auth = QComboBox(), QComboBox()
        self.protocol.addItems(list(PROTOCOLS))
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("default")
        self.https = QCheckBox("HTTPS (WinRM)")
        self.https.setChecked(True)
        self.forget = QCheckBox("Remove the stored secret")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.buttons = {
            label: QPushButton(label)
            for label in ("New", "Remove", "Save", "Use for this asset", "Close")
        }
        self._arrange()
        self.protocol.currentTextChanged.connect(self._protocol_chosen)
        self.auth.currentTextChanged.connect(
            lambda auth: self.key_path.setEnabled(auth in KEY_FILE_AUTH)
        )
        self.names.currentTextChanged.connect(self._show)
        for label, slot in (
            ("New", self._new),
            ("Remove", self._remove),
            ("Save", self.save),
            ("Use for this asset", self.assign),
            ("Close", self.accept),
        ):
            self.buttons[label].clicked.connect(slot)
        self.buttons["Use for this asset"].setEnabled(asset is not None)
        if asset is not None:
            self.buttons["Use for this asset"].setText(f"Use for {asset.tag} ({asset.hostname})")
        self._protocol_chosen("ssh")
        self.reload()

    def _arrange(self) -> None:
        form = QFormLayout()
        for label, widget in (
            ("Name", self.name),
            ("Protocol", self.protocol),
            ("User", self.user),
            ("Authentication", self.auth),
            ("Port", self.port),
            ("Key / certificate file", self.key_path),
            ("Jump host (SSH)", self.jump),
            ("", self.https),
            ("CA file (WinRM)", self.ca_file),
            ("Password / passphrase", self.secret),
            ("", self.forget),
        ):
            form.addRow(label, widget)
        self.key_path.setPlaceholderText("~/.ssh/id_ed25519")
        self.jump.setPlaceholderText("[user@]host[:port]")
        left = QVBoxLayout()
        left.addWidget(self.names, 1)
        row = QHBoxLayout()
        row.addWidget(self.buttons["New"])
        row.addWidget(self.buttons["Remove"])
        left.addLayout(row)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.status)
        actions = QHBoxLayout()
        for label in ("Save", "Use for this asset", "Close"):
            actions.addWidget(self.buttons[label])
        right.addLayout(actions)
        outer = QHBoxLayout(self)
        outer.addLayout(left, 1)
        outer.addLayout(right, 2)

    def _protocol_chosen(self, protocol: str) -> None:
        self.auth.clear()
        self.auth.addItems(list(AUTH_KINDS.get(protocol, ())))
        ssh = protocol == "ssh"
        self.jump.setEnabled(ssh)
        for widget in (self.https, self.ca_file):
            widget.setEnabled(not ssh)

    def reload(self, select: str | None = None) -> None:
        def show(found: list[CredentialProfile]) -> None:
            self._known = {p.name: p for p in found}
            self.names.clear()
            self.names.addItems(list(self._known))
            matches = self.names.findItems(select or "", Qt.MatchFlag.MatchExactly)
            if matches:
                self.names.setCurrentItem(matches[0])

        self._worker.submit(self._profiles.profiles, show, self._failed)

    def _show(self, name: str) -> None:
        profile = self._known.get(name)
        if profile is None:
            return
        self.name.setText(profile.name)
        self.protocol.setCurrentText(profile.protocol)
        self._protocol_chosen(profile.protocol)
        self.auth.setCurrentText(profile.auth)
        self.user.setText(profile.user)
        self.port.setValue(profile.port or 0)
        self.key_path.setText(profile.key_path or "")
        self.jump.setText(profile.jump or "")
        self.https.setChecked(profile.https)
        self.ca_file.setText(profile.ca_file or "")
        self.secret.clear()
        self.secret.setPlaceholderText(
            "stored in the keyring; empty keeps it" if profile.has_secret else "none stored"
        )
        self.forget.setChecked(False)

    def _new(self) -> None:
        self.names.clearSelection()
        for edit in (self.name, self.user, self.key_path, self.jump, self.ca_file, self.secret):
            edit.clear()
        self.port.setValue(0)
        self.secret.setPlaceholderText("password or key passphrase (kept in the keyring)")
        self.name.setFocus()

    def current(self) -> CredentialProfile:
        protocol = self.protocol.currentText()

        def text(edit: QLineEdit) -> str | None:
            return edit.text().strip() or None

        return CredentialProfile(
            name=self.name.text().strip(),
            protocol=protocol,
            user=self.user.text().strip(),
            auth=self.auth.currentText(),
            port=self.port.value() or None,
            key_path=text(self.key_path) if self.key_path.isEnabled() else None,
            jump=text(self.jump) if protocol == "ssh" else None,
            https=self.https.isChecked() or protocol == "ssh",
            ca_file=text(self.ca_file) if protocol == "winrm" else None,
        )

    def save(self) -> None:
        try:
            profile = self.current().check()
        except BadInput as exc:
            self._failed(exc)
            return
        secret = self.secret.text() or None
        self.secret.clear()  # the secret lives on only in the keyring
        keep = not self.forget.isChecked()

        def saved(result: CredentialProfile) -> None:
            self._say(
                f"Saved {result.name}"
                + (" (secret in the keyring)." if result.has_secret else " (no secret stored).")
            )
            self.reload(result.name)
            self.changed.emit()

        self._worker.submit(lambda: self._profiles.save(profile, secret, keep), saved, self._failed)

    def _remove(self) -> None:
        item = self.names.currentItem()
        if item is None:
            return
        name = item.text()
        self.dialog = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove profile",
            f"Remove the profile {name} and its stored secret?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )

        def removed(_assets: list[str]) -> None:
            self._say(f"Removed {name}.")
            self.reload()
            self.changed.emit()

        self.dialog.accepted.connect(
            lambda: self._worker.submit(lambda: self._profiles.delete(name), removed, self._failed)
        )
        self.dialog.open()

    def assign(self) -> None:
        item = self.names.currentItem()
        asset = self._asset
        if item is None or asset is None:
            self._say("Pick a profile in the list first.")
            return
        name = item.text()

        def done(_none: None) -> None:
            self._say(f"{asset.tag} ({asset.hostname}) now logs in with {name}.")
            self.assigned.emit(name)

        self._worker.submit(lambda: self._profiles.assign(asset.id, name), done, self._failed)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(f"color: {STDERR_RED};" if error else "")
        self.status.setText(text)

    def _failed(self, error: Exception) -> None:
        text = error_text(error)
        self._say(text, error=True)
