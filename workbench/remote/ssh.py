"""Run one command over SSH with paramiko, streaming lines, with the workbench's own deadline.

Trust: ``RejectPolicy`` semantics with the workbench's known-hosts file; an unknown key is only
added when the caller passes its exact SHA256 fingerprint (the technician accepted it), a changed
key is always refused. stdout and stderr are drained together from one loop (a remote filling
its stderr window while we read stdout would otherwise deadlock), and the loop, not paramiko,
enforces the deadline and cancel (``recv_exit_status`` would wait forever).
"""

from __future__ import annotations

import codecs
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from workbench.core.errors import BadInput
from workbench.core.files import check_regular_file
from workbench.remote.hostkeys import KnownHosts, fingerprint
from workbench.remote.outcome import Outcome, RunResult

LineCallback = Callable[[str, str], None]  # (stream "stdout" | "stderr", line without newline)

_CHUNK = 65536
_MAX_LINE = 65536  # longer lines are delivered in pieces so memory stays bounded
_POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class SshTarget:
    host: str
    username: str
    port: int = 22
    connect_timeout: float = 10.0
    keepalive_s: int = 30


@dataclass(frozen=True, slots=True)
class SshAuth:
    """How to log in. Agent and ~/.ssh key lookup are off unless asked for."""

    identity: Path | None = None
    passphrase: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    allow_agent: bool = False
    look_for_keys: bool = False

    def private_key(self) -> paramiko.PKey | None:
        """The identity file's key (None without one); BadInput if there is no way to log in."""
        if not (
            self.identity or self.password is not None or self.allow_agent or self.look_for_keys
        ):
            raise BadInput("no way to log in: give an identity file, the agent or a password")
        if self.identity is None:
            return None
        check_regular_file(self.identity, "the identity file")  # missing, a pipe, a device
        try:
            # paramiko hands it to cryptography, which wants bytes (a str raises TypeError);
            # the stubs still say str.
            passphrase = None if self.passphrase is None else self.passphrase.encode("utf-8")
            return paramiko.PKey.from_path(self.identity, password=passphrase)  # type: ignore[arg-type]
        except PermissionError:
            raise BadInput(f"identity file {self.identity} is not readable") from None
        except paramiko.PasswordRequiredException:
            raise BadInput(
                f"identity file {self.identity} is encrypted: give its passphrase"
            ) from None
        except (paramiko.SSHException, ValueError, OSError) as exc:
            raise BadInput(
                f"identity file {self.identity} is not a usable private key: {exc}"
            ) from None


class HostKeyUnknown(paramiko.SSHException):
    def __init__(self, name: str, key: paramiko.PKey) -> None:
        self.fingerprint = fingerprint(key)
        super().__init__(
            f"the host key of {name} is not known: {key.get_name()} {self.fingerprint}; "
            f"check it and accept it with --accept-host-key {self.fingerprint}"
        )


class _TrustPolicy(paramiko.MissingHostKeyPolicy):
    """Reject unknown keys unless the technician accepted exactly this fingerprint."""

    def __init__(self, known: KnownHosts, target: SshTarget, accept: str | None) -> None:
        self.known = known
        self.target = target
        self.accept = accept

    def missing_host_key(
        self, _client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if self.accept is None or fingerprint(key) != self.accept:
            raise HostKeyUnknown(hostname, key)
        self.known.add(self.target.host, self.target.port, key)


class LineSplitter:
    """Bytes in, whole decoded lines out (invalid UTF-8 replaced, not fatal)."""

    def __init__(self, stream: str, on_line: LineCallback) -> None:
        self.stream = stream
        self.on_line = on_line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self._pending + self._decoder.decode(data, final)
        *lines, self._pending = text.split("\n")
        for line in lines:
            self.on_line(self.stream, line.removesuffix("\r"))
        while len(self._pending) > _MAX_LINE:
            self.on_line(self.stream, self._pending[:_MAX_LINE])
            self._pending = self._pending[_MAX_LINE:]
        if final and self._pending:
            self.on_line(self.stream, self._pending.removesuffix("\r"))
            self._pending = ""


def classify(exit_code: int, ok: tuple[int, ...], reboot: tuple[int, ...]) -> Outcome:
    if exit_code in ok:
        return Outcome.OK
    if exit_code in reboot:
        return Outcome.REBOOT_NEEDED
    return Outcome.FAILED


class _ConnectFailed(Exception):
    def __init__(self, result: RunResult) -> None:
        self.result = result


def _connect(
    target: SshTarget,
    auth: SshAuth,
    known: KnownHosts,
    accept_host_key: str | None,
    deadline: float,
    sock: paramiko.Channel | None = None,
) -> paramiko.SSHClient:
    """A logged-in client, or _ConnectFailed carrying the outcome (the client is closed then)."""
    where = f"{target.username}@{target.host}:{target.port}"
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_TrustPolicy(known, target, accept_host_key))
    host_keys = known.load()
    for name in host_keys.keys():
        for key_type, key in host_keys[name].items():
            client.get_host_keys().add(name, key_type, key)
    wait = max(0.1, min(target.connect_timeout, deadline - time.monotonic()))
    try:
        client.connect(
            target.host,
            port=target.port,
            username=target.username,
            pkey=auth.private_key(),
            password=auth.password,
            allow_agent=auth.allow_agent,
            look_for_keys=auth.look_for_keys,
            timeout=wait,
            banner_timeout=wait,
            auth_timeout=wait,
            sock=sock,
        )
    except HostKeyUnknown as exc:
        client.close()
        raise _ConnectFailed(
            RunResult(Outcome.HOST_KEY_REJECTED, None, str(exc), exc.fingerprint)
        ) from None
    except paramiko.BadHostKeyException as exc:
        client.close()
        new, old = fingerprint(exc.key), fingerprint(exc.expected_key)
        raise _ConnectFailed(
            RunResult(
                Outcome.HOST_KEY_REJECTED,
                None,
                f"the host key of {target.host}:{target.port} CHANGED from {old} to {new}; "
                "this may be an attack. If the machine was reinstalled, remove the old key with "
                "`workbench remote known-hosts forget` and accept the new one",
                new,
            )
        ) from None
    except paramiko.AuthenticationException as exc:
        client.close()
        raise _ConnectFailed(
            RunResult(Outcome.AUTH_FAILED, None, f"authentication as {where} failed: {exc}")
        ) from None
    except (OSError, paramiko.SSHException, EOFError) as exc:
        client.close()
        if time.monotonic() >= deadline:
            raise _ConnectFailed(
                RunResult(Outcome.TIMED_OUT, None, f"{where}: no connection in time")
            ) from None
        raise _ConnectFailed(
            RunResult(
                Outcome.UNREACHABLE, None, f"cannot reach {where}: {exc or type(exc).__name__}"
            )
        ) from None
    transport = client.get_transport()
    assert transport is not None  # connect() succeeded
    transport.set_keepalive(target.keepalive_s)
    return client


def _through_jump(jump: paramiko.SSHClient, target: SshTarget, deadline: float) -> paramiko.Channel:
    """A direct-tcpip channel from the jump host to the target, used as the target's socket."""
    transport = jump.get_transport()
    assert transport is not None
    try:
        return transport.open_channel(
            "direct-tcpip",
            (target.host, target.port),
            ("127.0.0.1", 0),
            timeout=max(0.1, deadline - time.monotonic()),
        )
    except (OSError, paramiko.SSHException, EOFError) as exc:
        raise _ConnectFailed(
            RunResult(
                Outcome.UNREACHABLE,
                None,
                f"the jump host cannot reach {target.host}:{target.port}: {exc}",
            )
        ) from None


def run_command(
    target: SshTarget,
    auth: SshAuth,
    command: str,
    known: KnownHosts,
    *,
    stdin: str = "",
    timeout_s: float,
    on_line: LineCallback,
    cancel: threading.Event | None = None,
    accept_host_key: str | None = None,
    ok_codes: tuple[int, ...] = (0,),
    reboot_codes: tuple[int, ...] = (),
    jump: tuple[SshTarget, SshAuth] | None = None,
) -> RunResult:
    """Connect (through ``jump`` if given), run ``command``, stream its lines.

    The deadline covers connecting too. ``accept_host_key`` trusts an unknown key of either
    host if it has exactly that fingerprint (the rejection message names the host).
    """
    cancel = cancel or threading.Event()
    deadline = time.monotonic() + timeout_s
    auth.private_key()  # bad input surfaces before any connection
    where = f"{target.username}@{target.host}:{target.port}"
    clients: list[paramiko.SSHClient] = []
    try:
        sock = None
        if jump is not None:
            clients.append(_connect(*jump, known, accept_host_key, deadline))
            sock = _through_jump(clients[0], target, deadline)
        clients.append(_connect(target, auth, known, accept_host_key, deadline, sock))
        transport = clients[-1].get_transport()
        assert transport is not None
        return _stream(
            transport, command, stdin, deadline, cancel, on_line, ok_codes, reboot_codes, where
        )
    except _ConnectFailed as failed:
        return failed.result
    finally:
        for client in reversed(clients):
            client.close()


def _stream(
    transport: paramiko.Transport,
    command: str,
    stdin: str,
    deadline: float,
    cancel: threading.Event,
    on_line: LineCallback,
    ok_codes: tuple[int, ...],
    reboot_codes: tuple[int, ...],
    where: str,
) -> RunResult:
    try:
        chan = transport.open_session(timeout=max(0.1, deadline - time.monotonic()))
        chan.exec_command(command)
        if stdin:
            chan.sendall(stdin.encode("utf-8"))
        chan.shutdown_write()
    except (OSError, paramiko.SSHException, EOFError) as exc:
        return RunResult(Outcome.UNREACHABLE, None, f"{where}: cannot start the command: {exc}")
    out = LineSplitter("stdout", on_line)
    err = LineSplitter("stderr", on_line)
    with chan:
        while True:
            if cancel.is_set():
                return RunResult(Outcome.CANCELLED, None, "cancelled by the technician")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return RunResult(Outcome.TIMED_OUT, None, f"{where}: the command ran out of time")
            select.select([chan], [], [], min(_POLL_S, remaining))
            # One chunk of each per turn, so neither stream can starve the other.
            if chan.recv_ready():
                out.feed(chan.recv(_CHUNK))
            if chan.recv_stderr_ready():
                err.feed(chan.recv_stderr(_CHUNK))
            if chan.recv_ready() or chan.recv_stderr_ready():
                continue
            if chan.closed or (chan.exit_status_ready() and chan.eof_received):
                break
        out.feed(b"", final=True)
        err.feed(b"", final=True)
        if not chan.exit_status_ready():
            return RunResult(
                Outcome.FAILED, None, f"{where}: the connection ended without an exit code"
            )
        code = chan.recv_exit_status()
    outcome = classify(code, ok_codes, reboot_codes)
    return RunResult(outcome, code, f"exit code {code}")
