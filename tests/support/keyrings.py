"""A keyring in a file of the test's tmp dir, so tests never touch the OS keyring.

``profile_keyring`` installs it for this process and, through ``PYTHON_KEYRING_BACKEND`` and
``WORKBENCH_TEST_KEYRING``, for workbench subprocesses the test starts; ``WORKBENCH_VAULT``
points at a file that does not exist, so that no secrets vault of the user's is used instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

PATH_VARIABLE = "WORKBENCH_TEST_KEYRING"


class JsonFileKeyring(KeyringBackend):
    """Entries as JSON in one file (the path from the argument or $WORKBENCH_TEST_KEYRING)."""

    @properties.classproperty
    def priority(cls) -> float:  # noqa: N805
        # keyring probes every backend class it knows; this one is viable only where a test
        # named its file, so it is never picked by accident.
        if PATH_VARIABLE not in os.environ:
            raise RuntimeError(f"{PATH_VARIABLE} is not set")
        return 1

    def __init__(self, path: Path | None = None) -> None:
        super().__init__()
        self.path = path or Path(os.environ[PATH_VARIABLE])

    def entries(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}  # type: ignore[no-any-return]

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self.entries()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self.entries()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError(f"no entry {service}/{username}")
        self.path.write_text(json.dumps(data))


@pytest.fixture
def profile_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JsonFileKeyring]:
    path = tmp_path / "keyring.json"
    backend = JsonFileKeyring(path)
    monkeypatch.setenv(PATH_VARIABLE, str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.support.keyrings.JsonFileKeyring")
    monkeypatch.setenv("WORKBENCH_VAULT", str(tmp_path / "no-vault"))
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
