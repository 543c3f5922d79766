"""workbench.core.secrets: the one place secrets are kept, with a real vault file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from keyring.backends import fail

from workbench.core import secrets

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def vault_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "secrets.vault"
    monkeypatch.setenv(secrets.VAULT_VARIABLE, str(path))
    monkeypatch.delenv(secrets.PASSPHRASE_VARIABLE, raising=False)
    monkeypatch.setattr(secrets, "_vaults", {})
    monkeypatch.setattr(secrets, "_ask_passphrase", None)
    return path


def test_no_keyring_is_none_only_where_asked_for() -> None:
    none = fail.Keyring()
    assert secrets.get_secret("svc", "who", "read it", none, no_keyring_is_none=True) is None
    with pytest.raises(secrets.SecretsUnavailable, match="^cannot read it: no keyring to keep"):
        secrets.get_secret("svc", "who", "read it", none)
    with pytest.raises(secrets.SecretsUnavailable, match="`workbench secrets vault`"):
        secrets.set_secret("svc", "who", "s3cret", "store it", none)


def test_the_vault_round_trip_and_what_its_file_holds(vault_path: Path) -> None:
    assert secrets.create_vault(PASSPHRASE) == vault_path
    secrets.set_secret("workbench-central", "ana@db:5432/help cache 1", "pa55-one", "store")
    secrets.set_secret("workbench-profiles", "corp", "pa55-two", "store")
    secrets.delete_secret("workbench-profiles", "corp", "remove")
    secrets.delete_secret("workbench-profiles", "corp", "remove")  # gone already: no error
    header = json.loads(vault_path.read_text())
    assert set(header) == {"format", "kdf", "salt", "nonce", "data"}
    assert b"pa55" not in vault_path.read_bytes() and b"ana@db" not in vault_path.read_bytes()
    assert secrets.describe_backend() == f"encrypted vault {vault_path}"

    # Another process: locked until the passphrase is given, then the same entries.
    secrets._vaults.clear()
    with pytest.raises(secrets.SecretsUnavailable, match="is locked"):
        secrets.get_secret("workbench-central", "ana@db:5432/help cache 1", "read")
    secrets.ask_passphrase_with(lambda _path: "wrong passphrase")
    with pytest.raises(secrets.SecretsUnavailable, match="wrong passphrase.*nothing was read"):
        secrets.get_secret("workbench-central", "ana@db:5432/help cache 1", "read")
    assert secrets.unlocked_vault(PASSPHRASE).locked is False
    assert secrets.get_secret("workbench-central", "ana@db:5432/help cache 1", "r") == "pa55-one"
    assert secrets.get_secret("workbench-profiles", "corp", "read") is None
    # Every write draws a new nonce under the same key.
    before = json.loads(vault_path.read_text())["nonce"]
    secrets.set_secret("workbench-profiles", "corp", "pa55-three", "store")
    assert json.loads(vault_path.read_text())["nonce"] != before
