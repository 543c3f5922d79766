"""`workbench profile ...` and `workbench connect ...`: JSON shapes, hidden prompts, errors."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import paramiko
import pytest

from tests.cli.test_remote_cli import one_line_error, wb
from tests.support.keyrings import JsonFileKeyring
from tests.support.workbench import AGENT, ASSET
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.profiles import KEYRING_SERVICE
from workbench.resources import load_policy
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store.database import DB_FILENAME

SECRET = "Tr0ub4dor&3-in-the-keyring"


def workbench(data_dir: Path, *args: str, stdin: str = "",
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    # No controlling terminal (new session): the hidden prompt reads stdin.
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), "--as", AGENT.login,
         *args],
        input=stdin, capture_output=True, text=True, timeout=60, check=False,
        start_new_session=True, env=env,
    )  # fmt: skip


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def test_add_prompts_for_the_password_and_keeps_it_in_the_keyring_only(
    cache: Path, profile_keyring: JsonFileKeyring
) -> None:
    result = workbench(cache, "profile", "add", "corp", "--protocol", "winrm", "--user",
                       "CORP\\tech", "--auth", "ntlm", "--json", stdin=SECRET + "\n")  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "name": "corp", "protocol": "winrm", "user": "CORP\\tech", "auth": "ntlm", "port": None,
        "key_path": None, "jump": None, "https": True, "ca_file": None, "has_secret": True,
        "assets": [],
    }  # fmt: skip
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == SECRET
    assert SECRET not in result.stdout + result.stderr
    assert SECRET.encode() not in (cache / DB_FILENAME).read_bytes()
    assert not any(SECRET in p.read_text(errors="replace") for p in cache.glob("*.log"))
    # A new secret through --ask-secret on edit; then forgotten.
    result = workbench(cache, "profile", "edit", "corp", "--ask-secret", stdin="other\n")
    assert result.returncode == 0, result.stderr
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == "other"
    result = workbench(cache, "profile", "edit", "corp", "--forget-secret")
    assert "has no password yet: `workbench profile edit corp --ask-secret`" in result.stdout
    assert profile_keyring.entries() == {}
    # Another login kind that needs a password asks for it without --ask-secret.
    result = workbench(cache, "profile", "edit", "corp", "--auth", "credssp", stdin="third\n")
    assert result.returncode == 0, result.stderr
    assert profile_keyring.get_password(KEYRING_SERVICE, "corp") == "third"


def test_list_edit_assign_remove(
    capsys: pytest.CaptureFixture[str], cache: Path, profile_keyring: JsonFileKeyring
) -> None:
    code, out, err = wb(capsys, cache, "profile", "add", "lab", "--protocol", "ssh", "--user",
                        "tech", "--auth", "key", "--key", "/k/id", "--jump", "gw:2200")  # fmt: skip
    assert code == 0, err
    assert out.startswith("Added profile lab (ssh key as tech)")
    code, out, err = wb(capsys, cache, "profile", "edit", "lab", "--port", "2222",
                        "--clear", "jump", "--json")  # fmt: skip
    assert code == 0, err
    assert (json.loads(out)["port"], json.loads(out)["jump"]) == (2222, None)
    code, out, err = wb(capsys, cache, "profile", "assign", ASSET.tag, "lab", "--json")
    assert json.loads(out) == {"asset": ASSET.id, "tag": ASSET.tag, "profile": "lab"}
    code, out, _ = wb(capsys, cache, "profile", "list", "--json")
    [listed] = json.loads(out)["profiles"]
    assert listed["name"] == "lab" and listed["assets"] == [ASSET.id]
    code, out, _ = wb(capsys, cache, "profile", "list")
    assert "lab" in out and "2222" in out and "/k/id" in out
    code, out, _ = wb(capsys, cache, "profile", "remove", "lab", "--json")
    assert json.loads(out) == {"removed": "lab", "unlinked_assets": [ASSET.id]}
    code, out, _ = wb(capsys, cache, "profile", "list")
    assert "No credential profiles yet" in out
    assert profile_keyring.entries() == {}


def test_bad_input_is_one_line_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], cache: Path, profile_keyring: JsonFileKeyring
) -> None:
    assert wb(capsys, cache, "profile", "add", "lab", "--protocol", "ssh", "--user", "tech",
              "--auth", "agent")[0] == 0  # fmt: skip
    before = wb(capsys, cache, "profile", "list", "--json")[1]
    cases = [
        (("profile", "add", "x", "--protocol", "winrm", "--user", "u", "--auth", "basic",
          "--http"), "only allowed over HTTPS"),
        (("profile", "add", "x", "--protocol", "ssh", "--user", "u", "--auth", "ntlm"),
         "ssh profiles authenticate with key, agent, password"),
        (("profile", "add", "x", "--protocol", "ssh", "--user", "u", "--auth", "key"),
         "give --key PATH"),
        (("profile", "add", "lab", "--protocol", "ssh", "--user", "u", "--auth", "agent"),
         "exists already"),
        (("profile", "add", "x", "--protocol", "ssh"), "needs --user and --auth"),
        (("profile", "edit", "lab", "--jump", "-oProxyCommand=x"), "starts with '-'"),
        (("profile", "edit", "lab"), "nothing to change"),
        (("profile", "edit", "nope", "--port", "22"), "no credential profile 'nope'"),
        (("profile", "assign", ASSET.tag, "nope"), "no credential profile 'nope'"),
        (("profile", "assign", "no-such-asset", "lab"), "no asset with tag"),
        (("profile", "assign", ASSET.tag), "or --none"),
        (("profile", "remove", "nope"), "no credential profile 'nope'"),
        (("connect", "ssh", "bad host", "--dry-run"), "not a host name"),
        (("connect", "ssh", "pc-1", "--profile", "nope", "--dry-run"), "no credential profile"),
    ]  # fmt: skip
    for args, message in cases:
        one_line_error(wb(capsys, cache, *args), 2, message)
    assert wb(capsys, cache, "profile", "list", "--json")[1] == before
    assert profile_keyring.entries() == {}


def _ticket_on_asset(cache: Path) -> str:
    store = Store.open(cache)
    try:
        service = TicketService(store, load_policy(), AGENT.login)
        detail = service.create(title="No VPN", category="network", impact=2, urgency=2,
                                asset=ASSET.tag)  # fmt: skip
        with store.write() as tx:  # reached over SSH on port 2022, per the asset's settings
            tx._db.exec_driver_sql("UPDATE assets SET protocol = 'ssh', port = 2022")
        return detail.ticket.ref
    finally:
        store.close()


@pytest.mark.usefixtures("profile_keyring")
def test_connect_resolves_a_ticket_to_its_asset_and_profile(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    ref = _ticket_on_asset(cache)
    wb(capsys, cache, "profile", "add", "lab", "--protocol", "ssh", "--user", "tech", "--auth",
       "agent")  # fmt: skip
    wb(capsys, cache, "profile", "assign", ref, "lab")
    # A host whose key the Workbench has not accepted yet: refused before a terminal opens.
    one_line_error(wb(capsys, cache, "connect", "ssh", ref, "--dry-run"), 2,
                   f"does not know the host key of the host {ASSET.hostname}:2022")  # fmt: skip
    known = KnownHosts.in_data_dir(cache)
    known.add(ASSET.hostname, 2022, paramiko.ECDSAKey.generate())
    known.add("srv9", 22, paramiko.ECDSAKey.generate())
    code, out, err = wb(capsys, cache, "connect", "ssh", ref, "--dry-run", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["host"], data["profile"], data["started"]) == (ASSET.hostname, "lab", False)
    # Only the Workbench's own known hosts decide, as for `remote run`.
    keys = ["-o", f"UserKnownHostsFile={known.path}", "-o", "StrictHostKeyChecking=yes",
            "-o", "GlobalKnownHostsFile=/dev/null"]  # fmt: skip
    assert data["argv"][-13:] == ["ssh", *keys, "-p", "2022", "-l", "tech", "--", ASSET.hostname]
    # A plain host without a profile; --profile for another one.
    code, out, _ = wb(capsys, cache, "connect", "rdp", "10.1.2.3", "--dry-run", "--json")
    assert json.loads(out)["profile"] is None and "10.1.2.3" in " ".join(json.loads(out)["argv"])
    code, out, _ = wb(capsys, cache, "connect", "ssh", "srv9", "--profile", "lab", "--dry-run")
    assert out.splitlines()[0] == "Would start: SSH session on srv9 with profile lab"
    # A ticket ref that is not in the cache is not taken for a host name.
    one_line_error(wb(capsys, cache, "connect", "rdp", "hd-999999", "--dry-run"), 2,
                   "no ticket HD-999999 in this cache")  # fmt: skip


def _fake(bindir: Path, name: str, record: Path) -> None:
    script = bindir / name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.usefixtures("profile_keyring")
def test_connect_starts_the_terminal_or_names_the_missing_client(
    cache: Path, tmp_path: Path
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = {**os.environ, "PATH": str(bindir)}
    result = workbench(cache, "connect", "powershell", "pc-42", env=env)
    missing = (
        "PowerShell remoting on pc-42 needs programs that are not installed; these 2 "
        "programs are missing (not on PATH): x-terminal-emulator (apt install xterm"
    )
    one_line_error((result.returncode, result.stdout, result.stderr), 1, missing)
    record = tmp_path / "argv.txt"
    _fake(bindir, "x-terminal-emulator", record)
    _fake(bindir, "pwsh", tmp_path / "unused")
    result = workbench(cache, "connect", "powershell", "pc-42", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Started: PowerShell remoting on pc-42")
    for _ in range(200):  # the terminal runs detached: wait for its record
        if record.exists() and record.read_text().count("\n") == 5:
            break
        time.sleep(0.05)
    assert record.read_text().splitlines() == [
        "-e", "pwsh", "-NoExit", "-Command", "Enter-PSSession -ComputerName 'pc-42'"]  # fmt: skip


@pytest.mark.usefixtures("profile_keyring")
@pytest.mark.parametrize(
    ("kind", "programs"),
    [
        ("rdp", ["x-terminal-emulator (apt install xterm", "xfreerdp (apt install freerdp2-x11)",
                 "remmina (apt install remmina"]),
        ("powershell", ["x-terminal-emulator (apt install xterm", "pwsh (install PowerShell 7"]),
    ],
)  # fmt: skip
def test_connect_dry_run_warns_of_every_missing_program(
    cache: Path, tmp_path: Path, kind: str, programs: list[str]
) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty")}  # none of the clients installed
    result = workbench(cache, "connect", kind, "10.1.2.3", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Would start: ")
    [warning] = result.stderr.splitlines()
    assert warning.startswith("warning: ") and "not installed" in warning
    for program in programs:
        assert program in warning, warning
    result = workbench(cache, "connect", kind, "10.1.2.3", "--dry-run", "--json", env=env)
    assert json.loads(result.stdout)["missing"] == ["x-terminal-emulator", programs[1].split()[0]]
