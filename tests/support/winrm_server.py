"""A WS-Management test server: HTTPS with a throw-away CA, Basic auth, and the shell resource.

It implements what pywinrm's Protocol sends - Create, Command, Send, Receive, Signal and Delete of
a remote shell - and runs each command locally with ``sh -c``, so the real HTTP, TLS and SOAP
stack of pywinrm is exercised: output streams in Receive responses, Receive answers the WS-Man
TimedOut fault when nothing arrived within the OperationTimeout, and Signal kills the command.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import queue
import re
import signal
import ssl
import subprocess
import tempfile
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.certificates import ca_signed_server

HOST = "127.0.0.1"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
DONE = f"{SHELL}/CommandState/Done"
TIMED_OUT_CODE = 2150858793


@dataclass(frozen=True)
class WinrmServer:
    host: str
    port: int
    username: str
    password: str
    ca_file: Path  # the throw-away CA that signed the server certificate
    requests: list[str] = field(default_factory=list, compare=False)  # SOAP actions, in order


class _Command:
    """One running command: reader threads put (stream, bytes) chunks on a queue."""

    def __init__(self, command_line: str) -> None:
        self.proc = subprocess.Popen(
            ["sh", "-c", command_line],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
        self.chunks: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.readers = [
            threading.Thread(target=self._read, args=(name, pipe), daemon=True)
            for name, pipe in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str, pipe: Any) -> None:
        while chunk := pipe.read1(65536):
            self.chunks.put((name, chunk))

    def send(self, data: bytes, end: bool) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            if end:
                self.proc.stdin.close()

    def finished(self) -> bool:
        return not any(r.is_alive() for r in self.readers) and self.proc.poll() is not None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


_relates_to = threading.local()  # the MessageID of the request being answered on this thread


def _envelope(action: str, body: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" '
        f'xmlns:rsp="{NS["rsp"]}"><s:Header><a:Action>{action}</a:Action>'
        f"<a:RelatesTo>{_relates_to.value}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def _timed_out_fault() -> bytes:
    return (
        f'<s:Envelope xmlns:s="{NS["s"]}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value>'
        "</s:Code><s:Reason><s:Text>The WS-Management service cannot complete the operation "
        "within the time specified in OperationTimeout.</s:Text></s:Reason><s:Detail>"
        '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{TIMED_OUT_CODE}"/></s:Detail></s:Fault></s:Body></s:Envelope>'
    ).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    server_info: WinrmServer
    shells: dict[str, dict[str, _Command]]
    lock: threading.Lock

    def log_message(self, *_args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        info = self.server_info
        expected = base64.b64encode(f"{info.username}:{info.password}".encode()).decode()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._reply(401, b"", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        root = ET.fromstring(body)
        action = root.findtext("s:Header/a:Action", "", NS)
        _relates_to.value = root.findtext("s:Header/a:MessageID", "", NS)
        info.requests.append(action.rsplit("/", 1)[-1])
        shell_id = root.findtext("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", "", NS)
        timeout = root.findtext("s:Header/w:OperationTimeout", "PT20S", NS)
        seconds = float(re.sub(r"[^0-9.]", "", timeout) or 20)
        response = self._dispatch(action, root, shell_id, seconds)
        if response is None:
            self._reply(500, _timed_out_fault())
        else:
            self._reply(200, response)

    def _dispatch(
        self, action: str, root: ET.Element, shell_id: str, seconds: float
    ) -> bytes | None:
        body = root.find("s:Body", NS)
        assert body is not None
        if action.endswith("transfer/Create"):
            new_id = str(uuid.uuid4()).upper()
            with self.lock:
                self.shells[new_id] = {}
            return _envelope(action + "Response",
                             f"<w:SelectorSet><w:Selector Name=\"ShellId\">{new_id}</w:Selector>"
                             "</w:SelectorSet>")  # fmt: skip
        if action.endswith("transfer/Delete"):
            with self.lock:
                for command in self.shells.pop(shell_id, {}).values():
                    command.kill()
            return _envelope(action + "Response", "")
        commands = self.shells[shell_id]
        if action == f"{SHELL}/Command":
            line = body.findtext("rsp:CommandLine/rsp:Command", "", NS)
            args = [a.text or "" for a in body.findall("rsp:CommandLine/rsp:Arguments", NS)]
            command_id = str(uuid.uuid4()).upper()
            commands[command_id] = _Command(" ".join([line, *args]))
            return _envelope(action + "Response",
                             f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>"
                             "</rsp:CommandResponse>")  # fmt: skip
        if action == f"{SHELL}/Send":
            stream = body.find("rsp:Send/rsp:Stream", NS)
            assert stream is not None
            commands[stream.get("CommandId", "")].send(
                base64.b64decode(stream.text or ""), stream.get("End") == "true"
            )
            return _envelope(action + "Response", "<rsp:SendResponse/>")
        if action == f"{SHELL}/Signal":
            signal_node = body.find("rsp:Signal", NS)
            assert signal_node is not None
            signalled = commands.pop(signal_node.get("CommandId", ""), None)
            if signalled is not None:
                signalled.kill()
            return _envelope(action + "Response", "<rsp:SignalResponse/>")
        if action == f"{SHELL}/Receive":
            desired = body.find("rsp:Receive/rsp:DesiredStream", NS)
            assert desired is not None
            return self._receive(commands[desired.get("CommandId", "")], desired, seconds)
        raise AssertionError(f"unexpected action {action}")

    def _receive(self, command: _Command, desired: ET.Element, seconds: float) -> bytes | None:
        command_id = desired.get("CommandId", "")
        chunks: list[tuple[str, bytes]] = []
        try:
            chunks.append(command.chunks.get(timeout=min(seconds, 60)))
        except queue.Empty:
            if not command.finished():
                return None  # the TimedOut fault: the client polls again
        while True:
            try:
                chunks.append(command.chunks.get_nowait())
            except queue.Empty:
                break
        streams = "".join(
            f'<rsp:Stream Name="{name}" CommandId="{command_id}">'
            f"{base64.b64encode(data).decode()}</rsp:Stream>"
            for name, data in chunks
        )
        if command.finished() and command.chunks.empty():
            code = command.proc.returncode
            state = (
                f'<rsp:CommandState CommandId="{command_id}" State="{DONE}">'
                f"<rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState>"
            )
        else:
            state = (
                f'<rsp:CommandState CommandId="{command_id}" State="{SHELL}/CommandState/Running"/>'
            )
        response = f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>"
        return _envelope(f"{SHELL}/ReceiveResponse", response)


@contextlib.contextmanager
def running_winrm_server(
    username: str = "tech", password: str = "Pa55-w0rd"
) -> Iterator[WinrmServer]:
    workdir = Path(tempfile.mkdtemp(prefix="workbench-winrm-"))
    tls = ca_signed_server(workdir, "workbench test CA")
    ca_file, cert_file, key_file = tls.ca, tls.certificate, tls.key
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd = http.server.ThreadingHTTPServer((HOST, 0), _Handler)
    httpd.daemon_threads = True
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    info = WinrmServer(HOST, httpd.server_address[1], username, password, ca_file)
    shells: dict[str, dict[str, _Command]] = {}
    httpd.RequestHandlerClass = type(
        "Handler", (_Handler,), {"server_info": info, "shells": shells, "lock": threading.Lock()}
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        httpd.shutdown()
        httpd.server_close()
        for commands in shells.values():
            for command in commands.values():
                command.kill()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


@pytest.fixture(scope="session")
def winrm_server() -> Iterator[WinrmServer]:
    """The WS-Management test server on 127.0.0.1 (needs only Python and sh)."""
    with running_winrm_server() as server:
        yield server
