"""Interactive sessions in the system's own clients: SSH in a terminal, RDP, PowerShell remoting.

``plan()`` is pure given a platform and a PATH lookup: it picks the client and builds its argv.
No argv ever carries a password: ssh, the RDP clients and PowerShell's credential prompt ask
for it themselves. The host is validated (a leading '-' would be read as an option) and ssh
gets ``--`` before it. ``launch()`` checks the programs and starts them detached.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from workbench.core.errors import BadInput, WorkbenchError
from workbench.remote.hostkeys import KnownHosts, host_entry_name
from workbench.remote.profiles import CredentialProfile, check_host, default_port, parse_target
from workbench.remote.recipes import powershell_literal

# The session kinds and the one name each goes by in the GUI.
KIND_LABELS = {"ssh": "SSH terminal", "rdp": "Remote desktop", "powershell": "PowerShell"}
KINDS = tuple(KIND_LABELS)
Which = Callable[[str], str | None]

# Linux terminals and how each takes the command to run.
_TERMINALS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("x-terminal-emulator", ("-e",)),
    ("gnome-terminal", ("--",)),
    ("konsole", ("-e",)),
    ("xterm", ("-e",)),
)
_PS_AUTH = {"ntlm": "Negotiate", "kerberos": "Kerberos", "credssp": "Credssp", "basic": "Basic"}
_CREATE_NEW_CONSOLE = 0x00000010  # Windows: the console client gets its own window

_INSTALL = {
    "linux": {
        "ssh": "apt install openssh-client",
        "xfreerdp": "apt install freerdp2-x11",
        "xfreerdp3": "apt install freerdp3-x11",
        "remmina": "apt install remmina remmina-plugin-rdp",
        "pwsh": "install PowerShell 7 from https://aka.ms/powershell-release?tag=stable",
        "x-terminal-emulator": "apt install xterm, or any terminal emulator package",
        "xterm": "apt install xterm",
        "gnome-terminal": "apt install gnome-terminal",
        "konsole": "apt install konsole",
    },
    "darwin": {
        "ssh": "ssh ships with macOS; check your PATH",
        "pwsh": "brew install --cask powershell",
        "open": "open ships with macOS; check your PATH",
        "osascript": "osascript ships with macOS; check your PATH",
    },
    "win32": {
        "ssh": "Settings > System > Optional features > add OpenSSH Client",
        "mstsc": "mstsc ships with Windows; check that C:\\Windows\\System32 is on PATH",
        "pwsh": "winget install Microsoft.PowerShell",
    },
}


@dataclass(frozen=True)
class Launch:
    argv: tuple[str, ...]
    description: str
    requires: tuple[str, ...] = ()  # further programs the argv runs (the client in a terminal)
    new_console: bool = False  # Windows: open a console window for it


def _os(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    return "darwin" if platform == "darwin" else "linux"


def install_hint(program: str, platform: str = sys.platform) -> str:
    hints = _INSTALL[_os(platform)]
    return hints.get(program, f"install {program} and make sure it is on PATH")


def trusted_keys(known_hosts: Path) -> list[str]:
    """ssh options that trust only the Workbench's own known hosts: a key `remote run`
    refused is refused here too, and an unknown one is never accepted on the spot."""
    return ["-o", f"UserKnownHostsFile={known_hosts}", "-o", "StrictHostKeyChecking=yes",
            "-o", "GlobalKnownHostsFile=/dev/null"]  # fmt: skip


def _require_known(known_hosts: Path, host: str, port: int, what: str) -> None:
    """Refused before a terminal opens: the session would end at once on the unknown key."""
    if KnownHosts(known_hosts).load().lookup(host_entry_name(host, port)) is None:
        raise BadInput(
            f"the Workbench does not know the host key of {what} {host}:{port} yet: run a "
            f"recipe on it once (`workbench remote run linux.diagnostics --host {host}` or "
            "the remote console) and accept its fingerprint there, then connect again"
        )


def _ssh_argv(
    host: str, profile: CredentialProfile | None, port: int | None, known_hosts: Path
) -> list[str]:
    argv = ["ssh", *trusted_keys(known_hosts)]
    chosen = port if port is not None else profile.port if profile else None
    _require_known(known_hosts, host, chosen or default_port("ssh"), "the host")
    if chosen is not None:
        argv += ["-p", str(chosen)]
    if profile is not None:
        argv += ["-l", profile.user]
        if profile.key_path and profile.auth != "password":
            argv += ["-i", profile.key_path]
        if profile.jump:
            argv += ["-o", f"ProxyCommand={_jump_command(profile.jump, known_hosts)}"]
        if profile.auth == "password":
            argv += ["-o", "PreferredAuthentications=keyboard-interactive,password"]
    return [*argv, "--", host]


def _jump_command(jump: str, known_hosts: Path) -> str:
    """The jump host through the same trusted keys (ssh's -J would check it against
    ~/.ssh/known_hosts: options given on the command line apply to the target only)."""
    target = parse_target(jump, "the jump host")
    port = target.port or default_port("ssh")
    _require_known(known_hosts, target.host, port, "the jump host")
    user = ["-l", target.user] if target.user else []
    return shlex.join(
        ["ssh", *trusted_keys(known_hosts), *user, "-p", str(port), "-W", "%h:%p", "--",
         target.host]
    )  # fmt: skip


def _in_terminal(command: list[str], title: str, platform: str, which: Which) -> Launch:
    """Run a console program in a new terminal window of this platform."""
    system = _os(platform)
    if system == "win32":
        return Launch(tuple(command), title, new_console=True)
    if system == "darwin":
        script = shlex.join(command).replace("\\", "\\\\").replace('"', '\\"')
        argv = ("osascript", "-e", f'tell application "Terminal" to do script "{script}"',
                "-e", 'tell application "Terminal" to activate')  # fmt: skip
        return Launch(argv, title, (command[0],))
    terminal, flag = next(((name, flag) for name, flag in _TERMINALS if which(name)), _TERMINALS[0])
    return Launch((terminal, *flag, *command), title, (command[0],))


def _powershell(
    host: str, profile: CredentialProfile | None, port: int | None, known_hosts: Path
) -> str:
    """The Enter-PSSession command: WinRM for WinRM profiles, PowerShell over SSH for SSH ones
    (its ssh trusting only the Workbench's known hosts: -Options needs PowerShell 7.3)."""
    if profile is None:
        return f"Enter-PSSession -ComputerName {powershell_literal(host)}"
    if profile.protocol == "ssh":
        _require_known(known_hosts, host, port or profile.port or default_port("ssh"), "the host")
        options = "; ".join(
            f"{name}={powershell_literal(value)}"
            for name, value in (
                ("UserKnownHostsFile", str(known_hosts)),
                ("StrictHostKeyChecking", "yes"),
                ("GlobalKnownHostsFile", "/dev/null"),
            )
        )
        parts = [f"Enter-PSSession -HostName {powershell_literal(host)}",
                 f"-UserName {powershell_literal(profile.user)}",
                 f"-Options @{{{options}}}"]  # fmt: skip
        if profile.key_path and profile.auth == "key":
            parts.append(f"-KeyFilePath {powershell_literal(profile.key_path)}")
    else:
        if profile.auth == "certificate":
            raise BadInput(
                "PowerShell remoting cannot use a certificate file: it takes a certificate "
                "thumbprint from the Windows store; use a password profile for this session"
            )
        # -Credential with a user name makes PowerShell ask for the password itself.
        parts = [f"Enter-PSSession -ComputerName {powershell_literal(host)}",
                 f"-Credential {powershell_literal(profile.user)}",
                 f"-Authentication {_PS_AUTH[profile.auth]}"]  # fmt: skip
        if profile.https:
            parts.append("-UseSSL")
    chosen = port if port is not None else profile.port
    if chosen is not None:
        parts.append(f"-Port {chosen}")
    return " ".join(parts)


def plan(
    kind: str,
    host: str,
    profile: CredentialProfile | None,
    *,
    known_hosts: Path,
    port: int | None = None,
    platform: str = sys.platform,
    which: Which = shutil.which,
) -> Launch:
    """The client command for an interactive ``kind`` session on ``host``.

    ``port`` is the session's port (SSH: the asset's; RDP: default 3389). ``which`` tells which
    clients are installed when a platform has several; with none, the first is planned and
    ``launch`` says how to install it.
    """
    host = check_host(host)
    if profile is not None:
        profile.check()
    system = _os(platform)
    if kind == "ssh":
        if profile is not None and profile.protocol != "ssh":
            raise BadInput(
                f"profile {profile.name!r} is for WinRM: open `connect powershell` or "
                "`connect rdp` instead, or pick an SSH profile"
            )
        argv = _ssh_argv(host, profile, port, known_hosts)
        return _in_terminal(argv, f"SSH session on {host}",
                            platform, which)  # fmt: skip
    if kind == "rdp":
        return _rdp(host, profile, port, system, platform, which)
    if kind == "powershell":
        command = _powershell(host, profile, port, known_hosts)
        title = f"PowerShell remoting on {host}"
        if system == "win32":
            program = "pwsh" if which("pwsh") or not which("powershell") else "powershell"
            return Launch((program, "-NoExit", "-Command", command), title, new_console=True)
        return _in_terminal(["pwsh", "-NoExit", "-Command", command], title, platform, which)
    raise BadInput(f"session kind must be one of {', '.join(KINDS)}, not {kind!r}")


def _rdp(
    host: str,
    profile: CredentialProfile | None,
    port: int | None,
    system: str,
    platform: str,
    which: Which,
) -> Launch:
    title = f"Remote desktop on {host}"
    bracketed = f"[{host}]" if ":" in host else host  # an IPv6 address before a port
    address = bracketed if port is None else f"{bracketed}:{port}"
    user = profile.user if profile else None
    if system == "win32":
        # mstsc takes no user name on its command line; it asks, and remembers per host.
        return Launch(("mstsc", f"/v:{address}"), title)
    if system == "darwin":
        uri = "rdp://full%20address=s:" + quote(address, safe="")
        if user:
            uri += "&username=s:" + quote(user, safe="")
        return Launch(("open", uri), title + " (Microsoft Remote Desktop)")
    # Remmina asks for the password in its own window; xfreerdp asks on its terminal, so it
    # runs in one.
    if which("remmina"):
        userinfo = quote(user, safe="") + "@" if user else ""
        uri = f"rdp://{userinfo}{address}"
        return Launch(("remmina", "-c", uri), title)
    client = "xfreerdp3" if which("xfreerdp3") else "xfreerdp"
    return _in_terminal(_xfreerdp(client, address, user), title, platform, which)


def _xfreerdp(client: str, address: str, user: str | None) -> list[str]:
    return [client, f"/v:{address}", *([f"/u:{user}"] if user else []), "+clipboard",
            "/dynamic-resolution"]  # fmt: skip


def missing_programs(plan: Launch, which: Which = shutil.which) -> list[str]:
    """The programs the planned session needs that are not on PATH, in the order it runs them."""
    return [p for p in dict.fromkeys((plan.argv[0], *plan.requires)) if which(p) is None]


def missing_text(plan: Launch, missing: list[str], platform: str = sys.platform) -> str:
    """One line naming every missing program and how to install each."""
    named = "; ".join(f"{program} ({install_hint(program, platform)})" for program in missing)
    extra = ""
    if any(program.startswith("xfreerdp") for program in missing):
        extra = f"; or instead of a terminal and xfreerdp: remmina ({install_hint('remmina')})"
    programs = "this program is" if len(missing) == 1 else f"these {len(missing)} programs are"
    return (
        f"{plan.description} needs programs that are not installed; {programs} missing "
        f"(not on PATH): {named}{extra}"
    )


def launch(plan: Launch, *, which: Which = shutil.which) -> subprocess.Popen[bytes]:
    """Start the planned client detached; WorkbenchError naming every missing program."""
    missing = missing_programs(plan, which)
    if missing:
        raise WorkbenchError(missing_text(plan, missing))
    executable = which(plan.argv[0])
    assert executable is not None  # checked above
    try:
        return subprocess.Popen(
            [executable, *plan.argv[1:]],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=True,
            start_new_session=True,  # outlives the workbench; no Ctrl+C from our terminal
            creationflags=_CREATE_NEW_CONSOLE if plan.new_console else 0,
        )
    except OSError as exc:
        raise WorkbenchError(f"cannot start {plan.argv[0]}: {exc.strerror or exc}") from None
