"""The passphrase of the secrets vault, asked once when the window opens.

Secrets are read on the worker thread, which cannot show a dialog; so where the secrets live
in a locked vault (``workbench.core.secrets``) the window asks before it opens. Cancelled,
the window works on, and what needs a secret says that the vault is locked.
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

from workbench.core import secrets

TRIES = 3


def unlock_vault(parent: QWidget | None = None, *, ask: bool = True) -> None:
    """Ask for the passphrase (``ask``: not in a run that nobody watches) until it unlocks
    the vault, at most ``TRIES`` times."""
    # Never the terminal's prompt from a worker thread of the window.
    secrets.ask_passphrase_with(None)
    path = secrets.vault_path()
    if not ask or not path.exists() or os.environ.get(secrets.PASSPHRASE_VARIABLE):
        return
    problem = ""
    for _ in range(TRIES):
        dialog = passphrase_dialog(parent, path.name, problem)
        if not dialog.exec():
            return
        try:
            secrets.unlocked_vault(dialog.textValue())
            return
        except secrets.SecretsUnavailable as exc:
            problem = str(exc)


def passphrase_dialog(parent: QWidget | None, vault: str, problem: str) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setWindowTitle("Secrets vault")
    dialog.setLabelText(
        (f"{problem}\n\n" if problem else "")
        + f"Passwords are kept in the encrypted vault {vault}. Its passphrase:"
    )
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setOkButtonText("Unlock")
    dialog.setCancelButtonText("Not now")
    for label in dialog.findChildren(QLabel):  # a long path or problem wraps
        label.setWordWrap(True)
    dialog.setMinimumWidth(480)
    return dialog
