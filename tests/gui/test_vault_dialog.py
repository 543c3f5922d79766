"""The window asks for the secrets vault's passphrase before it opens (its worker cannot)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from workbench.core import secrets
from workbench.gui.vault_dialog import TRIES, passphrase_dialog, unlock_vault

PASSPHRASE = "correct horse battery staple"
SECRET = "in-the-vault-only"


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vault with one secret, locked in this process."""
    path = tmp_path / "secrets.vault"
    monkeypatch.setenv(secrets.VAULT_VARIABLE, str(path))
    monkeypatch.delenv(secrets.PASSPHRASE_VARIABLE, raising=False)
    made = secrets.Vault(path)
    made.create(PASSPHRASE)
    made.set_password("svc", "who", SECRET)
    monkeypatch.setattr(secrets, "_vaults", {})  # this process has not unlocked it
    return path


def answering(monkeypatch: pytest.MonkeyPatch, *answers: str | None) -> list[str]:
    """Each dialog gets the next answer (None: cancelled); the labels shown, in order."""
    left, shown = list(answers), []

    def exec_(dialog: QInputDialog) -> int:
        shown.append(dialog.labelText())
        answer = left.pop(0)
        if answer is None:
            return 0
        dialog.setTextValue(answer)
        return 1

    monkeypatch.setattr(QInputDialog, "exec", exec_)
    return shown


@pytest.mark.usefixtures("qtbot", "vault")
def test_a_wrong_passphrase_is_said_and_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    shown = answering(monkeypatch, "not it", PASSPHRASE)
    unlock_vault()
    assert len(shown) == 2 and "wrong passphrase for the secrets vault" in shown[1]
    assert "nothing was read" in shown[1] and PASSPHRASE not in "".join(shown)
    # Unlocked for the worker threads: reading asks nothing more.
    assert secrets.get_secret("svc", "who", "read it") == SECRET


@pytest.mark.usefixtures("qtbot")
def test_cancelled_the_window_opens_and_secrets_say_the_vault_is_locked(
    monkeypatch: pytest.MonkeyPatch, vault: Path
) -> None:
    secrets.ask_passphrase_with(lambda _path: pytest.fail("asked on the terminal"))
    shown = answering(monkeypatch, None)
    unlock_vault()
    assert len(shown) == 1
    with pytest.raises(secrets.SecretsUnavailable, match=f"the secrets vault {vault} is locked"):
        secrets.get_secret("svc", "who", "read it")


@pytest.mark.usefixtures("qtbot", "vault")
def test_at_most_a_few_tries_and_none_without_a_vault(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shown = answering(monkeypatch, *["wrong"] * TRIES)
    unlock_vault()
    assert len(shown) == TRIES
    monkeypatch.setenv(secrets.VAULT_VARIABLE, str(tmp_path / "none"))
    shown = answering(monkeypatch)
    unlock_vault()  # nothing to ask
    assert shown == []


def test_the_dialog_reads_well(qtbot: QtBot, artifacts: Path) -> None:
    problem = (
        "wrong passphrase for the secrets vault /home/ana/.config/workbench/secrets.vault "
        "(or the file is damaged); nothing was read"
    )
    dialog = passphrase_dialog(None, "secrets.vault", problem)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.grab().save(str(artifacts / "vault_dialog.png"))
    assert dialog.okButtonText() == "Unlock"
