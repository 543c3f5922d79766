"""A real OpenSSH sshd on a loopback port for tests (DESIGN.md section 8).

``sshd_server`` (session) runs ``/usr/sbin/sshd -D -e`` as the current user with
a generated ed25519 host key and client key, everything in a temp dir; public-key
login as the current user (root included) is the only way in.

Password auth is off: with ``UsePAM no`` sshd checks passwords against
/etc/shadow, which needs a real account with a password. A test that needs it
can create such an account itself and start its own server with
``running_sshd(find_sshd(), extra_config=["PasswordAuthentication yes"])``; likewise for any
other option (``extra_config`` lines come first, and sshd keeps the first value
it reads for a keyword).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.services import ServiceStartError, log_tail, require_or_skip, stop_process

APT_PACKAGE = "openssh-server"
HOST = "127.0.0.1"
# Privilege-separation directory sshd insists on when started as root (Debian path).
PRIVSEP_DIR = Path("/run/sshd")

_READY_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3
# Newer OpenSSH (9.8+) penalises sources whose connections end before auth, which
# our readiness probes and host-key-rejection tests do; older sshd rejects the keyword.
_OPTIONAL_OPTIONS = ("PerSourcePenalties no",)


@dataclass(frozen=True)
class SshServer:
    """A running sshd that accepts ``client_key_path`` for ``username``."""

    host: str
    port: int
    username: str
    client_key_path: Path
    client_public_key: str  # OpenSSH line, as in authorized_keys
    authorized_keys_path: Path  # re-read on every login: tests may append keys
    host_public_key: str  # OpenSSH line "ssh-ed25519 AAAA..."
    host_key_fingerprint: str  # OpenSSH format "SHA256:<base64, no padding>"
    known_hosts_line: str  # "[127.0.0.1]:PORT ssh-ed25519 AAAA..."

    def host_pkey(self) -> paramiko.PKey:
        """The server's host key as paramiko sees it."""
        key_type, blob = self.host_public_key.split()[:2]
        return paramiko.PKey.from_type_string(key_type, base64.b64decode(blob))

    def client_pkey(self) -> paramiko.PKey:
        return paramiko.PKey.from_path(self.client_key_path)


def find_sshd() -> Path | None:
    for candidate in ("/usr/sbin/sshd", shutil.which("sshd")):
        if candidate and os.access(candidate, os.X_OK):
            # sshd re-execs itself and refuses to start from a relative path.
            return Path(candidate).resolve()
    return None


def sha256_fingerprint(public_key_line: str) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key line."""
    blob = base64.b64decode(public_key_line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


def _write_ed25519_key(path: Path, comment: str) -> str:
    """Write a new private key (OpenSSH format, mode 0600) and return its public line."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    # sshd and ssh refuse private keys that others can read.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    line = f"{public.decode('ascii')} {comment}"
    path.with_name(path.name + ".pub").write_text(line + "\n", encoding="ascii")
    return line


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _check_user() -> str:
    entry = pwd.getpwuid(os.geteuid())
    shell = entry.pw_shell or "/bin/sh"
    # sshd runs every command through the login shell; nologin/false would reject it.
    if not os.access(shell, os.X_OK) or Path(shell).name in {"nologin", "false"}:
        raise ServiceStartError(
            f"user {entry.pw_name!r} has login shell {shell!r}, which cannot run commands over SSH"
        )
    return entry.pw_name


def _config(workdir: Path, port: int, options: Sequence[str]) -> str:
    lines = [
        *options,
        f"Port {port}",
        f"ListenAddress {HOST}",
        f"HostKey {workdir / 'ssh_host_ed25519_key'}",
        f"PidFile {workdir / 'sshd.pid'}",
        f"AuthorizedKeysFile {workdir / 'authorized_keys'}",
        # The temp dir lives under /tmp (group/world-writable parents) which StrictModes rejects.
        "StrictModes no",
        "UsePAM no",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        # Root may log in with a key only; needed because CI runs as root.
        "PermitRootLogin prohibit-password",
        "PrintMotd no",
        "X11Forwarding no",
        "Subsystem sftp internal-sftp",
        # Tests open many short connections; keep sshd from dropping them early.
        "MaxStartups 100",
        "LogLevel VERBOSE",
    ]
    return "\n".join(lines) + "\n"


def _write_valid_config(sshd: Path, config_path: Path, workdir: Path, port: int,
                        extra_config: Sequence[str]) -> None:  # fmt: skip
    """Write sshd_config, dropping optional options this sshd version does not know."""
    optional = list(_OPTIONAL_OPTIONS)
    while True:
        config_path.write_text(_config(workdir, port, [*extra_config, *optional]), "utf-8")
        check = subprocess.run(
            [str(sshd), "-t", "-f", str(config_path)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if check.returncode == 0:
            return
        unknown = [opt for opt in optional if opt.split()[0] in check.stderr]
        if not unknown:
            raise ServiceStartError(
                f"sshd -t rejected the config\n{check.stderr.strip()}\n"
                f"--- {config_path} ---\n{config_path.read_text('utf-8')}"
            )
        optional = [opt for opt in optional if opt not in unknown]


def _wait_ready(proc: subprocess.Popen[bytes], port: int, logfile: Path) -> bool:
    """True once sshd sends its banner; False if it exited (e.g. the port was taken)."""
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 1) as sock:
            sock.settimeout(2)
            if sock.recv(256).startswith(b"SSH-"):
                return True
        time.sleep(0.05)
    raise ServiceStartError(
        f"sshd did not answer on {HOST}:{port} within {_READY_TIMEOUT_S:.0f}s\n"
        f"--- {logfile} ---\n{log_tail(logfile)}"
    )


@contextlib.contextmanager
def running_sshd(sshd: Path, extra_config: Sequence[str] = ()) -> Iterator[SshServer]:
    """Run sshd for the ``with`` block; raises ServiceStartError if it cannot start."""
    username = _check_user()
    if os.geteuid() == 0:
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="workbench-sshd-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        host_line = _write_ed25519_key(workdir / "ssh_host_ed25519_key", "workbench-test-host")
        client_key = workdir / "client_ed25519"
        client_line = _write_ed25519_key(client_key, "workbench-test-client")
        authorized_keys = workdir / "authorized_keys"
        authorized_keys.write_text(client_line + "\n", encoding="ascii")
        config_path = workdir / "sshd_config"
        logfile = workdir / "sshd.log"

        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port()
            _write_valid_config(sshd, config_path, workdir, port, extra_config)
            with logfile.open("wb") as log:
                proc = subprocess.Popen(
                    [str(sshd), "-D", "-e", "-f", str(config_path)],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=workdir,
                )  # fmt: skip
            procs.append(proc)
            if _wait_ready(proc, port, logfile):
                break
            # It exited before answering; only a port taken since _free_port() is worth a retry.
            if attempt == _PORT_ATTEMPTS or "Address already in use" not in log_tail(logfile):
                raise ServiceStartError(
                    f"sshd exited with status {proc.returncode}\n"
                    f"--- {logfile} ---\n{log_tail(logfile)}"
                )
        yield SshServer(
            host=HOST,
            port=port,
            username=username,
            client_key_path=client_key,
            client_public_key=client_line,
            authorized_keys_path=authorized_keys,
            host_public_key=host_line,
            host_key_fingerprint=sha256_fingerprint(host_line),
            known_hosts_line=f"[{HOST}]:{port} {host_line}",
        )
    finally:
        for proc in procs:
            stop_process(proc, 5)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def sshd_server() -> Iterator[SshServer]:
    """A real OpenSSH server on 127.0.0.1 for the whole session (see module docstring)."""
    sshd = find_sshd()
    if sshd is None:
        require_or_skip(f"OpenSSH server (/usr/sbin/sshd) not found: apt install {APT_PACKAGE}")
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(running_sshd(sshd))
        except (ServiceStartError, OSError, subprocess.SubprocessError) as exc:
            failure = f"could not start sshd ({sshd}): {exc}"
        else:
            yield server
            return
    # Outside the except block: the message already holds the cause and the server log.
    require_or_skip(failure)
