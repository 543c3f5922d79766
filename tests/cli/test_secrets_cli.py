"""Secrets without an OS keyring, the encrypted vault, and passwords read without a terminal:
the real command line in subprocesses, with the keyring backends named as a user would."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import stat
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.support.keyrings import JsonFileKeyring
from tests.support.workbench import AGENT
from workbench.remote.profiles import KEYRING_SERVICE

SECRET = "Tr0ub4dor&3-nowhere-else"
PASSPHRASE = "correct horse battery staple"
FAIL_BACKEND = "keyring.backends.fail.Keyring"
ECHO_WARNINGS = ("GetPassWarning", "may be echoed", "Warning")
ADD = ("profile", "add", "corp", "--protocol", "ssh", "--user", "tech", "--auth", "password",
       "--ask-secret")  # fmt: skip


def workbench(
    data_dir: Path, *args: str, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """A run with stdin a pipe (no terminal) and no controlling terminal."""
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), "--as", AGENT.login,
         *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
        start_new_session=True, env={**os.environ, **env},
    )  # fmt: skip


def one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("workbench: error: ") and "internal error" not in lines[0]
    return lines[0]


def profiles(data_dir: Path, **env: str) -> list[str]:
    listed = workbench(data_dir, "profile", "list", "--json", **env)
    assert listed.returncode == 0, listed.stderr
    return [p["name"] for p in json.loads(listed.stdout)["profiles"]]


def assert_nowhere(secret: str, *places: Path, texts: tuple[str, ...] = ()) -> None:
    """Not in the cache, its WAL, the log, the vault, nor any output or error text."""
    for place in places:
        for path in [place] if place.is_file() else place.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
    for text in texts:
        assert secret not in text


@pytest.fixture
def no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A computer with no keyring backend and (yet) no vault; the vault's path."""
    vault = tmp_path / "config" / "secrets.vault"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_BACKEND)
    monkeypatch.setenv("WORKBENCH_VAULT", str(vault))
    monkeypatch.delenv("WORKBENCH_VAULT_PASSPHRASE", raising=False)
    return vault


@pytest.mark.usefixtures("no_keyring")
def test_no_keyring_says_what_is_missing_and_saves_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = workbench(data_dir, *ADD, stdin=SECRET + "\n")
    line = one_line_error(result, 1)
    assert "cannot store the secret of profile 'corp': no keyring to keep secrets in" in line
    assert "`workbench secrets vault`" in line
    assert "No recommended backend" not in line  # the keyring library's own words
    assert profiles(data_dir) == []
    whoami = json.loads(workbench(data_dir, "whoami", "--json").stdout)
    assert whoami["secrets"].startswith("none: no keyring to keep secrets in")
    assert_nowhere(SECRET, data_dir, texts=(result.stdout, result.stderr))


@pytest.mark.parametrize(
    "backend", ["keyrings.alt.file.PlaintextKeyring", "no_such_module.Keyring", "keyring.Nope"]
)
@pytest.mark.usefixtures("no_keyring")
def test_a_keyring_backend_that_cannot_be_loaded_is_named(tmp_path: Path, backend: str) -> None:
    data_dir = tmp_path / "data"
    result = workbench(data_dir, *ADD, stdin=SECRET + "\n", PYTHON_KEYRING_BACKEND=backend)
    line = one_line_error(result, 1)
    assert f"PYTHON_KEYRING_BACKEND names {backend}, which cannot be loaded" in line
    assert "unset the variable" in line
    assert profiles(data_dir) == []
    status = workbench(data_dir, "secrets", "status", "--json", PYTHON_KEYRING_BACKEND=backend)
    assert json.loads(status.stdout)["backend"].startswith(
        f"none: PYTHON_KEYRING_BACKEND names {backend}"
    )


def test_the_vault_keeps_secrets_encrypted_behind_its_passphrase(
    tmp_path: Path, no_keyring: Path
) -> None:
    data_dir, vault = tmp_path / "data", no_keyring
    # Too short, then without a terminal and without --passphrase-stdin: refused, nothing made.
    one_line_error(
        workbench(data_dir, "secrets", "vault", "--passphrase-stdin", stdin="short\n"), 2
    )
    refused = one_line_error(workbench(data_dir, "secrets", "vault", stdin=PASSPHRASE + "\n"), 2)
    assert "give it on stdin with --passphrase-stdin" in refused
    assert not vault.exists()

    made = workbench(data_dir, "secrets", "vault", "--passphrase-stdin", "--json",
                     stdin=PASSPHRASE + "\n")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {"vault": str(vault), "backend": f"encrypted vault {vault}"}
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    again = workbench(data_dir, "secrets", "vault", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert "exists already" in one_line_error(again, 2)

    unlocked = {"WORKBENCH_VAULT_PASSPHRASE": PASSPHRASE}
    saved = workbench(data_dir, *ADD, stdin=SECRET + "\n", **unlocked)
    assert saved.returncode == 0, saved.stderr
    assert profiles(data_dir) == ["corp"]
    content = vault.read_bytes()
    for plain in (SECRET, "corp", KEYRING_SERVICE, PASSPHRASE):  # names are encrypted too
        assert plain.encode() not in content
    whoami = json.loads(workbench(data_dir, "whoami", "--json").stdout)
    assert whoami["secrets"] == f"encrypted vault {vault}"

    # A wrong passphrase: one line, nothing read and nothing changed.
    wrong = workbench(data_dir, "profile", "edit", "corp", "--ask-secret", stdin="other-one\n",
                      WORKBENCH_VAULT_PASSPHRASE="not the passphrase")  # fmt: skip
    line = one_line_error(wrong, 1)
    assert f"wrong passphrase for the secrets vault {vault}" in line and "nothing was read" in line
    assert vault.read_bytes() == content
    # Locked, with no terminal to ask on: the way to unlock it is named.
    locked = one_line_error(workbench(data_dir, "profile", "edit", "corp", "--ask-secret",
                                      stdin="other-one\n"), 1)  # fmt: skip
    assert "is locked" in locked and "WORKBENCH_VAULT_PASSPHRASE" in locked

    # The right passphrase reads the secret back: the profile logs in with it (a dry run).
    changed = workbench(data_dir, "profile", "edit", "corp", "--ask-secret",
                        stdin="other-one\n", **unlocked)  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    assert vault.read_bytes() != content
    removed = workbench(data_dir, "profile", "remove", "corp", **unlocked)
    assert removed.returncode == 0, removed.stderr
    assert_nowhere(SECRET, data_dir, vault, texts=(saved.stdout, saved.stderr))
    assert_nowhere(PASSPHRASE, data_dir, vault)


def test_a_damaged_vault_is_one_line(tmp_path: Path, no_keyring: Path) -> None:
    no_keyring.parent.mkdir(parents=True)
    for junk in (b"\x00\xff binary", b'{"format": "workbench-vault 1"}', b"[]"):
        no_keyring.write_bytes(junk)
        result = workbench(tmp_path / "data", *ADD, stdin=SECRET + "\n",
                           WORKBENCH_VAULT_PASSPHRASE=PASSPHRASE)  # fmt: skip
        assert str(no_keyring) in one_line_error(result, 1)


def test_secrets_from_stdin_without_a_terminal_print_no_warning(
    tmp_path: Path, profile_keyring: JsonFileKeyring
) -> None:
    data_dir = tmp_path / "data"
    saved = workbench(data_dir, *ADD, stdin=SECRET + "\n")
    assert saved.returncode == 0, saved.stderr
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == SECRET
    assert not any(w in saved.stderr for w in ECHO_WARNINGS), saved.stderr
    # A line end from Windows is not part of the secret; bytes that are not UTF-8 are refused.
    workbench(data_dir, "profile", "edit", "corp", "--ask-secret", stdin="crlf-secret\r\n")
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == "crlf-secret"
    binary = subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), "profile", "edit",
         "corp", "--ask-secret"],
        input=b"\xff\xfe\n", capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert binary.returncode == 2 and b"is not UTF-8 text" in binary.stderr
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == "crlf-secret"
    # Where the command has --password-stdin, no terminal means: use it (nothing is asked).
    login = workbench(data_dir, "login", "--central", "postgresql://ana@127.0.0.1/central",
                      "--technician", "ana.lopez", stdin=SECRET + "\n")  # fmt: skip
    line = one_line_error(login, 2)
    assert "no terminal to type the password on: give it on stdin with --password-stdin" in line
    assert not any(w in login.stderr for w in ECHO_WARNINGS[:2])


def _on_a_terminal(data_dir: Path, *args: str, typed: str) -> tuple[int, str]:
    """Run with a pseudo-terminal as stdin and controlling terminal; type ``typed`` once
    the prompt shows. The exit code and all the terminal showed."""
    leader, follower = pty.openpty()

    def take_the_terminal() -> None:  # after setsid: stdin becomes the controlling tty
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), *args],
        stdin=follower, stdout=follower, stderr=follower, start_new_session=True,
        preexec_fn=take_the_terminal,  # noqa: PLW1509  (the test starts no threads)
    )  # fmt: skip
    os.close(follower)
    shown, sent, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the program ended and closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        if not sent and b": " in shown:
            os.write(leader, typed.encode() + b"\r")
            sent = True
        if process.poll() is not None and not ready:
            break
    os.close(leader)
    return process.wait(timeout=10), shown.decode(errors="replace")


def test_on_a_terminal_the_prompt_hides_what_is_typed(
    tmp_path: Path, profile_keyring: JsonFileKeyring
) -> None:
    code, shown = _on_a_terminal(tmp_path / "data", *ADD, typed=SECRET)
    assert code == 0, shown
    assert "password for profile corp (tech):" in shown
    assert SECRET not in shown  # not echoed
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == SECRET
