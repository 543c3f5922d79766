"""The remote console's form and dialogs: recipe parameters, confirm, host key.

Dialogs are opened with ``open()`` (window-modal, never a nested event loop), so the console
keeps streaming while one is up and tests can press their buttons.
"""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from workbench.core import secrets
from workbench.core.errors import BadInput
from workbench.remote.profiles import parse_target
from workbench.remote.recipes import Param, ParamType, Protocol, Recipe

INT_LIMIT = 2_000_000_000
STDERR_RED = "#e53935"  # reads on the light and the dark theme


class ParamForm(QWidget):
    """Inputs generated from a recipe's typed parameters; ``values()`` gives the raw text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.inputs: dict[str, QLineEdit | QSpinBox | QComboBox] = {}
        self.recipe: Recipe | None = None

    def set_recipe(self, recipe: Recipe | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.inputs = {}
        self.recipe = recipe
        if recipe is None:
            return
        if not recipe.params:
            self.form.addRow(QLabel("This recipe takes no parameters."))
        for param in recipe.params:
            widget = _input(param)
            widget.setToolTip(_hint(param))
            self.inputs[param.name] = widget
            label = param.name.replace("_", " ") + (" *" if param.required else "")
            self.form.addRow(label, widget)

    def values(self) -> dict[str, str]:
        """Entered values; empty fields are left out so the recipe's defaults apply."""
        values: dict[str, str] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QSpinBox):
                unset = widget.specialValueText() and widget.value() == widget.minimum()
                text = "" if unset else str(widget.value())
            elif isinstance(widget, QComboBox):
                text = widget.currentText()
            else:
                text = widget.text()
            if text != "":
                values[name] = text
        return values

    def clear_secrets(self) -> None:
        """Secrets live only as long as the run that needs them."""
        for name, widget in self.inputs.items():
            if self.recipe and self.recipe.param(name).type is ParamType.SECRET:
                assert isinstance(widget, QLineEdit)
                widget.clear()


def _input(param: Param) -> QLineEdit | QSpinBox | QComboBox:
    if param.type is ParamType.INT:
        spin = QSpinBox()
        low = param.minimum if param.minimum is not None else -INT_LIMIT
        high = param.maximum if param.maximum is not None else INT_LIMIT
        if param.default is None:  # "not set" sits one below the range
            spin.setRange(low - 1, high)
            spin.setSpecialValueText("(not set)")
            spin.setValue(low - 1)
        else:
            spin.setRange(low, high)
            spin.setValue(int(param.default))
        return spin
    if param.type is ParamType.CHOICE:
        combo = QComboBox()
        if not param.required and param.default is None:
            combo.addItem("")
        combo.addItems(list(param.choices))
        if param.default is not None:
            combo.setCurrentText(param.default)
        return combo
    edit = QLineEdit(param.default or "")
    if param.type is ParamType.SECRET:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        # Never offered to input methods or the clipboard history.
        edit.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText | Qt.InputMethodHint.ImhNoPredictiveText
        )
        edit.setPlaceholderText(
            f"secret (empty: from keyring {param.keyring})" if param.keyring else "secret"
        )
    elif param.type is ParamType.STRING and param.pattern:
        edit.setPlaceholderText(param.description or f"matching {param.pattern}")
    else:
        edit.setPlaceholderText(param.description or param.type.value)
    return edit


def _hint(param: Param) -> str:
    parts = [param.description] if param.description else []
    parts.append(f"type {param.type.value}")
    if param.pattern:
        parts.append(f"must match {param.pattern}")
    if param.minimum is not None or param.maximum is not None:
        parts.append(f"range {param.minimum if param.minimum is not None else ''}.."
                     f"{param.maximum if param.maximum is not None else ''}")  # fmt: skip
    return "; ".join(parts)


def confirm_dialog(
    parent: QWidget, recipe: Recipe, hosts: list[str], values: dict[str, str]
) -> QMessageBox:
    """Asks before a recipe that changes the machine; names the hosts and what will change."""
    shown = recipe.masked(values)
    e = html.escape
    params = "".join(f"<li>{e(k)} = <code>{e(v)}</code></li>" for k, v in shown.items())
    where = ", ".join(f"<b>{e(h)}</b>" for h in hosts)
    box = QMessageBox(parent)
    box.setWindowTitle("Confirm remote action")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(f"Run <b>{e(recipe.title)}</b> on {where}?")
    box.setInformativeText(
        f"This recipe changes the machine{'s' if len(hosts) > 1 else ''}."
        + (f"<p>{e(recipe.description.strip())}</p>" if recipe.description else "")
        + (f"<p>Parameters:</p><ul>{params}</ul>" if params else "")
        + f"<p>Timeout {recipe.timeout} s; recipe <code>{e(recipe.id)}</code>.</p>"
    )
    box.addButton(f"Run on {len(hosts)} host{'s' if len(hosts) > 1 else ''}",
                  QMessageBox.ButtonRole.AcceptRole)  # fmt: skip
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    return box


def host_key_dialog(parent: QWidget, host: str, port: int, fingerprint: str) -> QMessageBox:
    """An unknown host key: the technician compares the fingerprint before trusting it."""
    box = QMessageBox(parent)
    box.setWindowTitle("Unknown host key")
    box.setIcon(QMessageBox.Icon.Question)
    box.setTextFormat(Qt.TextFormat.RichText)
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    box.setText(
        f"The workbench has never connected to <b>{html.escape(host)}</b> port {port}.<br>"
        f"Its host key has the fingerprint<br><br>"
        f"<span style='font-family:\"{mono}\"'>{html.escape(fingerprint)}</span>"
    )
    box.setInformativeText(
        "Accept it only if it matches what the machine shows (on the machine: "
        "<code>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</code>). Accepting trusts this "
        "key from now on and runs the recipe again."
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.addButton("Accept and run", QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
    return box


def changed_key_dialog(parent: QWidget, message: str) -> QMessageBox:
    """A changed host key is refused; the message names the old and new fingerprints."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Host key changed", message,
                      QMessageBox.StandardButton.Ok, parent)  # fmt: skip
    box.setInformativeText(
        "The job was NOT run. Someone may be intercepting the connection. If the machine was "
        "reinstalled, forget the old key (workbench remote known-hosts forget) and run again."
    )
    return box


def message_box(parent: QWidget, title: str, text: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.open()
    return box


_UNIX = (
    "linux",
    "ubuntu",
    "debian",
    "fedora",
    "red hat",
    "rhel",
    "centos",
    "suse",
    "macos",
    "mac os",
    "os x",
)


def platform_of(os_name: str) -> Protocol | None:
    """The transport an asset's OS is reached with; None when the OS is unknown."""
    low = os_name.lower()
    if "windows" in low:
        return Protocol.WINRM
    return Protocol.SSH if any(word in low for word in _UNIX) else None


def parse_targets(text: str) -> list[tuple[str, str, int | None]]:
    """(as typed, host, port) for each HOST[:PORT] in the text (lines, commas or blanks)."""
    found: dict[str, tuple[str, str, int | None]] = {}
    for word in re.split(r"[\s,;]+", text.strip()):
        if not word:
            continue
        target = parse_target(word, "a target", allow_user=False)
        found.setdefault(word, (word, target.host, target.port))
    if not found:
        raise BadInput("name a target host (one per line, HOST or HOST:PORT)")
    return list(found.values())


def check_entered(recipe: Recipe, values: dict[str, str]) -> None:
    """What the technician typed, checked before asking anything (secrets may come later)."""
    for name, value in values.items():
        recipe.param(name).check(value)
    for param in recipe.params:
        missing = param.required and param.name not in values and param.default is None
        if missing and not (param.type is ParamType.SECRET and param.keyring):
            raise BadInput(f"fill in {param.name!r}: the recipe needs it")


def add_keyring_secrets(recipe: Recipe, values: dict[str, str]) -> None:
    """Secrets left empty in the form come from their keyring entry (on the worker thread)."""
    for param in recipe.secret_params:
        if param.name not in values and param.keyring:
            stored = secrets.get_secret(
                param.keyring, param.name, f"read {param.name!r}", no_keyring_is_none=True
            )
            if stored is None and param.required:
                raise BadInput(f"no {param.name!r} in the keyring ({param.keyring}): type it")
            if stored is not None:
                values[param.name] = stored
