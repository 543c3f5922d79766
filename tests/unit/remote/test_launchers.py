"""Session launchers: the client argv per platform, the missing-client message, a real launch."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import paramiko
import pytest

from workbench.core.errors import BadInput, WorkbenchError
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.launchers import Launch, launch, missing_programs, trusted_keys
from workbench.remote.launchers import plan as plan_with
from workbench.remote.profiles import CredentialProfile

SSH = CredentialProfile("lab", "ssh", "tech", "key", port=2222, key_path="/k/id", jump="gw:22")
WINRM = CredentialProfile("corp", "winrm", "CORP\\it o'neil", "ntlm", has_secret=True)
SECRET_WORDS = ("password", "/p:", "-Password", "s3cret")


@pytest.fixture(autouse=True)
def known(tmp_path: Path) -> Path:
    """The Workbench's own known hosts, trusting pc-1 (ports 22 and 2222) and the jump host."""
    path = tmp_path / "known_hosts"
    store = KnownHosts(path)
    for host, port in (("pc-1", 22), ("pc-1", 2222), ("gw", 22)):
        store.add(host, port, paramiko.ECDSAKey.generate())
    KNOWN[:] = [path]
    return path


KNOWN: list[Path] = []


def plan(*args, **kwargs):  # type: ignore[no-untyped-def]
    return plan_with(*args, known_hosts=KNOWN[0], **kwargs)


def installed(*names: str):  # type: ignore[no-untyped-def]
    return lambda name: f"/usr/bin/{name}" if name in names else None


def no_secret_in(launch_plan: Launch) -> None:
    text = " ".join(launch_plan.argv)
    assert not any(word in text for word in SECRET_WORDS), text


def test_ssh_on_linux_uses_the_first_terminal_found_and_ends_options_before_the_host() -> None:
    keys = trusted_keys(KNOWN[0])
    jump = f"ProxyCommand=ssh {' '.join(keys)} -p 22 -W %h:%p -- gw"
    ssh_argv = ["ssh", *keys, "-p", "2222", "-l", "tech", "-i", "/k/id", "-o", jump, "--", "pc-1"]
    planned = plan("ssh", "pc-1", SSH, platform="linux", which=installed("konsole", "xterm"))
    assert planned.argv == ("konsole", "-e", *ssh_argv)
    assert planned.requires == ("ssh",)
    gnome = plan("ssh", "pc-1", SSH, platform="linux", which=installed("gnome-terminal"))
    assert gnome.argv == ("gnome-terminal", "--", *ssh_argv)
    # Nothing installed: the Debian alternative is planned, and launch() explains.
    assert plan("ssh", "pc-1", None, platform="linux", which=installed()).argv == (
        "x-terminal-emulator", "-e", "ssh", *keys, "--", "pc-1")  # fmt: skip
    # The asset's port wins over the profile's.
    assert plan("ssh", "pc-1", SSH, port=22, platform="linux", which=installed()).argv[9:11] == (
        "-p", "22")  # fmt: skip
    no_secret_in(planned)


def test_ssh_on_windows_and_mac() -> None:
    windows = plan("ssh", "pc-1", SSH, platform="win32", which=installed())
    assert windows.argv[0] == "ssh" and windows.new_console and windows.argv[-2:] == ("--", "pc-1")
    mac = plan("ssh", "pc-1", SSH, platform="darwin", which=installed())
    assert mac.argv[:2] == ("osascript", "-e")
    assert "-p 2222 -l tech -i /k/id -o 'ProxyCommand=ssh " in mac.argv[2]
    assert "StrictHostKeyChecking=yes" in mac.argv[2] and mac.argv[2].endswith('-- pc-1"')


def test_ssh_with_a_winrm_profile_is_refused() -> None:
    with pytest.raises(BadInput, match="profile 'corp' is for WinRM"):
        plan("ssh", "pc-1", WINRM, platform="linux", which=installed())


def test_rdp_per_platform() -> None:
    assert plan("rdp", "pc-1", WINRM, platform="win32").argv == ("mstsc", "/v:pc-1")
    remmina = plan("rdp", "pc-1", WINRM, platform="linux", which=installed("remmina", "xterm"))
    assert remmina.argv == ("remmina", "-c", "rdp://CORP%5Cit%20o%27neil@pc-1")
    free = plan("rdp", "pc-1", WINRM, port=3390, platform="linux",
                which=installed("xfreerdp", "xterm"))  # fmt: skip
    assert free.argv[:4] == ("xterm", "-e", "xfreerdp", "/v:pc-1:3390")
    assert "/u:CORP\\it o'neil" in free.argv
    free3 = plan("rdp", "pc-1", None, platform="linux", which=installed("xfreerdp3", "xterm"))
    assert free3.argv[2] == "xfreerdp3" and not any(a.startswith("/u:") for a in free3.argv)
    mac = plan("rdp", "pc-1", WINRM, platform="darwin")
    assert mac.argv == ("open", "rdp://full%20address=s:pc-1&username=s:CORP%5Cit%20o%27neil")
    v6 = plan("rdp", "fe80::1", None, port=3390, platform="win32")
    assert v6.argv == ("mstsc", "/v:[fe80::1]:3390")
    for planned in (remmina, free, mac):
        no_secret_in(planned)


def test_powershell_remoting_quotes_and_maps_auth() -> None:
    windows = plan("powershell", "pc-1", WINRM, platform="win32", which=installed("powershell"))
    assert windows.argv[:3] == ("powershell", "-NoExit", "-Command") and windows.new_console
    assert windows.argv[3] == (
        "Enter-PSSession -ComputerName 'pc-1' -Credential 'CORP\\it o''neil' "
        "-Authentication Negotiate -UseSSL"
    )
    linux = plan("powershell", "pc-1", SSH, platform="linux", which=installed("xterm", "pwsh"))
    assert linux.argv[:5] == ("xterm", "-e", "pwsh", "-NoExit", "-Command")
    assert linux.argv[5] == (
        "Enter-PSSession -HostName 'pc-1' -UserName 'tech' "
        f"-Options @{{UserKnownHostsFile='{KNOWN[0]}'; StrictHostKeyChecking='yes'; "
        "GlobalKnownHostsFile='/dev/null'} -KeyFilePath '/k/id' -Port 2222"
    )
    no_secret_in(windows)
    cert = CredentialProfile("c", "winrm", "t", "certificate", key_path="/c.pem")
    with pytest.raises(BadInput, match="certificate thumbprint"):
        plan("powershell", "pc-1", cert, platform="win32")


@pytest.mark.parametrize("host", ["-oProxyCommand=touch /tmp/pwned", "pc 1", "pc;id"])
def test_hosts_that_could_become_options_or_code_are_refused(host: str) -> None:
    for kind in ("ssh", "rdp", "powershell"):
        with pytest.raises(BadInput):
            plan(kind, host, None, platform="linux", which=installed())


def test_unknown_kind() -> None:
    with pytest.raises(BadInput, match="session kind must be one of ssh, rdp, powershell"):
        plan("vnc", "pc-1", None)


def test_a_host_the_workbench_does_not_trust_yet_is_refused_before_a_terminal_opens() -> None:
    with pytest.raises(BadInput, match="does not know the host key of the host pc-2:22"):
        plan("ssh", "pc-2", None, platform="linux", which=installed())
    unknown_jump = CredentialProfile("j", "ssh", "tech", "agent", jump="bastion:2200")
    with pytest.raises(BadInput, match="of the jump host bastion:2200"):
        plan("ssh", "pc-1", unknown_jump, platform="linux", which=installed())
    with pytest.raises(BadInput, match="does not know the host key"):
        plan("powershell", "pc-2", SSH, platform="linux", which=installed("pwsh"))


def _fake_program(bindir: Path, name: str, record: Path) -> None:
    """A program that records its argv as JSON (a real process on the PATH)."""
    script = bindir / name
    script.write_text(
        "#!/bin/sh\n"
        "python3 -c 'import json, os, sys; "
        f'json.dump({{"argv": sys.argv[1:], "sid": os.getsid(0)}}, open("{record}", "w"))\' "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


@pytest.mark.parametrize(
    ("kind", "profile", "programs"),
    [
        ("rdp", WINRM, {"x-terminal-emulator": "apt install xterm", "xfreerdp":
                        "apt install freerdp2-x11", "remmina": "apt install remmina"}),
        ("ssh", SSH, {"x-terminal-emulator": "apt install xterm",
                      "ssh": "apt install openssh-client"}),
        ("powershell", WINRM, {"x-terminal-emulator": "apt install xterm",
                               "pwsh": "install PowerShell 7"}),
    ],
)  # fmt: skip
def test_a_session_without_its_programs_names_every_one_and_its_package(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    profile: CredentialProfile,
    programs: dict[str, str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed
    planned = plan(kind, "pc-1", profile, platform="linux")
    with pytest.raises(WorkbenchError) as caught:
        launch(planned)
    message = str(caught.value)
    assert len(message.splitlines()) == 1 and planned.description in message
    for program, package in programs.items():
        assert f"{program} ({package}" in message, message
    assert missing_programs(planned) == [p for p in programs if p != "remmina"]


def test_with_a_terminal_only_the_missing_client_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    _fake_program(tmp_path, "xterm", tmp_path / "unused.json")
    with pytest.raises(WorkbenchError) as caught:
        launch(plan("rdp", "pc-1", WINRM, platform="linux"))
    message = str(caught.value)
    assert "this program is missing" in message and "xterm" not in message.split("missing")[1]
    assert "xfreerdp (apt install freerdp2-x11)" in message and "apt install remmina" in message
    assert not (tmp_path / "unused.json").exists()


def test_real_launch_runs_the_terminal_with_the_planned_argv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "argv.json"
    _fake_program(bindir, "x-terminal-emulator", record)
    _fake_program(bindir, "ssh", tmp_path / "ssh.json")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    planned = plan("ssh", "pc-1", SSH, platform="linux")
    process = launch(planned)
    assert process.wait(timeout=20) == 0
    recorded = json.loads(record.read_text())
    assert recorded["argv"] == list(planned.argv[1:])
    assert recorded["sid"] != os.getsid(0)  # detached: its own session
