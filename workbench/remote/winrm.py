"""Run one command over WinRM (pywinrm) with an own Command/Receive loop.

pywinrm's ``get_command_output`` retries the WS-Man TimedOut fault forever, so a hung command
would hang the caller: this loop calls ``get_command_output_raw`` with a short OperationTimeout,
checks the deadline and cancel between polls, and ends a command with Signal terminate. Stdin
(the secrets) is sent with Send and closed. Basic authentication is refused over plain HTTP, and
the server certificate is validated unless a CA file for an internal CA is given.
PowerShell's CLIXML progress records on stderr are dropped; its error records are kept as text.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import requests
from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMOperationTimeoutError
from winrm.protocol import Protocol

from workbench.core.errors import BadInput
from workbench.core.files import check_regular_file
from workbench.remote.outcome import Outcome, RunResult
from workbench.remote.ssh import LineCallback, LineSplitter, classify

TRANSPORTS = ("ntlm", "kerberos", "credssp", "certificate", "basic")
_POLL_S = 1  # WS-Man OperationTimeout of one Receive: the cancel and deadline granularity


@dataclass(frozen=True, slots=True)
class WinrmTarget:
    host: str
    username: str
    port: int = 5986
    transport: str = "ntlm"
    https: bool = True
    ca_file: Path | None = None  # trust this CA (internal PKI) instead of the system store
    password: str | None = field(default=None, repr=False)
    cert_pem: Path | None = None  # transport certificate: client certificate and key
    cert_key_pem: Path | None = None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.https else 'http'}://{host}:{self.port}/wsman"

    def check(self) -> None:
        if self.transport not in TRANSPORTS:
            raise BadInput(f"WinRM transport must be one of {', '.join(TRANSPORTS)}")
        if self.transport in ("basic", "certificate") and not self.https:
            raise BadInput(f"WinRM {self.transport} authentication is only allowed over HTTPS")
        if self.transport == "certificate" and not (self.cert_pem and self.cert_key_pem):
            raise BadInput("WinRM certificate authentication needs a certificate and its key")
        if self.transport in ("ntlm", "credssp", "basic") and self.password is None:
            raise BadInput(f"WinRM {self.transport} authentication needs a password")


def _default_ca_bundle() -> str:
    """What requests would trust, named explicitly (pywinrm deprecates its implicit lookup)."""
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if os.environ.get(variable):
            return os.environ[variable]
    return str(requests.utils.DEFAULT_CA_BUNDLE_PATH)


class ClixmlFilter:
    """Passes stderr lines through, turning PowerShell CLIXML blocks into their error text."""

    def __init__(self, on_line: LineCallback) -> None:
        self.on_line = on_line

    def __call__(self, stream: str, line: str) -> None:
        if stream != "stderr" or line.strip() == "#< CLIXML":
            if stream != "stderr":
                self.on_line(stream, line)
            return
        if not line.lstrip().startswith("<Objs"):
            self.on_line(stream, line)
            return
        try:
            root = ET.fromstring(line)
        except ET.ParseError:
            self.on_line(stream, line)
            return
        for node in root.iter():
            if node.tag.endswith("}S") and node.get("S") == "Error" and node.text:
                text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), node.text)
                for part in text.splitlines():
                    if part.strip():
                        self.on_line(stream, part)


def run_command(
    target: WinrmTarget,
    command: str,
    *,
    stdin: str = "",
    timeout_s: float,
    on_line: LineCallback,
    cancel: threading.Event | None = None,
    ok_codes: tuple[int, ...] = (0,),
    reboot_codes: tuple[int, ...] = (),
) -> RunResult:
    """Open a shell, run ``command``, stream its output; the deadline covers connecting too."""
    target.check()
    for path, what in ((target.ca_file, "the CA file"), (target.cert_pem, "the certificate"),
                       (target.cert_key_pem, "the certificate's key")):  # fmt: skip
        if path is not None:
            check_regular_file(path, what)  # a pipe or a device would never end
    cancel = cancel or threading.Event()
    deadline = time.monotonic() + timeout_s
    where = f"{target.username}@{target.endpoint}"
    protocol = Protocol(
        target.endpoint,
        transport=target.transport,  # type: ignore[arg-type]  # checked against TRANSPORTS
        username=target.username,
        password=target.password,
        ca_trust_path=str(target.ca_file) if target.ca_file else _default_ca_bundle(),
        server_cert_validation="validate",
        operation_timeout_sec=_POLL_S,
        read_timeout_sec=_POLL_S + 10,
        cert_pem=str(target.cert_pem) if target.cert_pem else None,
        cert_key_pem=str(target.cert_key_pem) if target.cert_key_pem else None,
    )
    try:
        shell_id = protocol.open_shell(codepage=65001)
    except InvalidCredentialsError as exc:
        return RunResult(Outcome.AUTH_FAILED, None, f"authentication as {where} failed: {exc}")
    except requests.exceptions.SSLError as exc:
        return RunResult(
            Outcome.HOST_KEY_REJECTED,
            None,
            f"the TLS certificate of {target.endpoint} is not trusted ({exc.__class__.__name__}); "
            "give the CA file of your internal CA",
        )
    except (requests.exceptions.RequestException, WinRMError, OSError) as exc:
        return RunResult(Outcome.UNREACHABLE, None, f"cannot reach {where}: {exc}")
    try:
        return _loop(protocol, shell_id, command, stdin, deadline, cancel, on_line,
                     ok_codes, reboot_codes, where)  # fmt: skip
    finally:
        # A shell left open times out on the server; the outcome is decided already.
        with contextlib.suppress(requests.exceptions.RequestException, WinRMError, OSError):
            protocol.close_shell(shell_id)


def _loop(
    protocol: Protocol,
    shell_id: str,
    command: str,
    stdin: str,
    deadline: float,
    cancel: threading.Event,
    on_line: LineCallback,
    ok_codes: tuple[int, ...],
    reboot_codes: tuple[int, ...],
    where: str,
) -> RunResult:
    filtered = ClixmlFilter(on_line)
    out, err = LineSplitter("stdout", filtered), LineSplitter("stderr", filtered)
    try:
        command_id = protocol.run_command(shell_id, command)
        # Always end stdin, so a command that reads it does not wait forever.
        protocol.send_command_input(shell_id, command_id, stdin.encode("utf-8"), end=True)
    except (requests.exceptions.RequestException, WinRMError, OSError) as exc:
        return RunResult(Outcome.UNREACHABLE, None, f"{where}: cannot start the command: {exc}")
    try:
        while True:
            if cancel.is_set():
                return RunResult(Outcome.CANCELLED, None, "cancelled by the technician")
            if time.monotonic() >= deadline:
                return RunResult(Outcome.TIMED_OUT, None, f"{where}: the command ran out of time")
            try:
                stdout, stderr, code, done = protocol.get_command_output_raw(shell_id, command_id)
            except WinRMOperationTimeoutError:
                continue  # nothing new within the OperationTimeout: poll again
            out.feed(stdout)
            err.feed(stderr)
            if done:
                out.feed(b"", final=True)
                err.feed(b"", final=True)
                return RunResult(classify(code, ok_codes, reboot_codes), code, f"exit code {code}")
    except (requests.exceptions.RequestException, WinRMError, OSError) as exc:
        return RunResult(Outcome.UNREACHABLE, None, f"{where}: connection lost: {exc}")
    finally:
        # Signal terminate ends a cancelled or overdue command (harmless after Done); if it
        # fails, closing the shell next ends the command too.
        with contextlib.suppress(requests.exceptions.RequestException, WinRMError, OSError):
            protocol.cleanup_command(shell_id, command_id)
