"""The WinRM runner through pywinrm's real HTTP, TLS and SOAP stack (tests/support/winrm_server)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.winrm_server import WinrmServer
from workbench.core.errors import BadInput
from workbench.remote.jobs import JobRequest, JobRunner
from workbench.remote.outcome import Outcome, RunResult
from workbench.remote.recipes import parse_recipe
from workbench.remote.winrm import ClixmlFilter, WinrmTarget, run_command

pytestmark = pytest.mark.services


@pytest.fixture
def target(winrm_server: WinrmServer) -> WinrmTarget:
    return WinrmTarget(
        winrm_server.host,
        winrm_server.username,
        winrm_server.port,
        transport="basic",
        ca_file=winrm_server.ca_file,
        password=winrm_server.password,
    )


def run(
    target: WinrmTarget, command: str, **kwargs: object
) -> tuple[RunResult, list[tuple[str, str]]]:
    lines: list[tuple[str, str]] = []
    kwargs.setdefault("timeout_s", 30)
    result = run_command(target, command, on_line=lambda s, text: lines.append((s, text)), **kwargs)  # type: ignore[arg-type]
    return result, lines


def test_streams_both_streams_and_exit_codes(target: WinrmTarget) -> None:
    result, lines = run(target, "echo one; echo two >&2; echo three; exit 3", reboot_codes=(3,))
    assert (result.outcome, result.exit_code) == (Outcome.REBOOT_NEEDED, 3)
    assert [text for s, text in lines if s == "stdout"] == ["one", "three"]
    assert [text for s, text in lines if s == "stderr"] == ["two"]
    failed, _ = run(target, "exit 7")
    assert (failed.outcome, failed.exit_code) == (Outcome.FAILED, 7)


def test_stdin_reaches_the_command_and_is_closed(target: WinrmTarget) -> None:
    result, lines = run(
        target, "IFS= read -r secret; printf '%s' \"$secret\" | wc -c; cat", stdin="p@ss w'rd\n"
    )
    assert result.outcome is Outcome.OK
    assert [text.strip() for _, text in lines] == ["9"]


def test_deadline_over_a_silent_command(target: WinrmTarget, winrm_server: WinrmServer) -> None:
    started = time.monotonic()
    result, lines = run(target, "echo started; sleep 30", timeout_s=2.5)
    assert result.outcome is Outcome.TIMED_OUT and lines == [("stdout", "started")]
    assert time.monotonic() - started < 6
    assert "Signal" in winrm_server.requests  # the command was terminated


def test_cancel_sends_signal(target: WinrmTarget) -> None:
    cancel = threading.Event()
    seen = threading.Event()
    outcome: list[Outcome] = []

    def line(_stream: str, _line: str) -> None:
        seen.set()

    worker = threading.Thread(target=lambda: outcome.append(
        run_command(target, "echo go; sleep 30", timeout_s=30, on_line=line, cancel=cancel).outcome
    ))  # fmt: skip
    worker.start()
    assert seen.wait(10)
    cancelled_at = time.monotonic()
    cancel.set()
    worker.join(10)
    assert outcome == [Outcome.CANCELLED]
    assert time.monotonic() - cancelled_at < 4


def test_wrong_password_is_authentication_failed(target: WinrmTarget) -> None:
    result, _ = run(replace(target, password="wrong"), "true")
    assert result.outcome is Outcome.AUTH_FAILED


def test_untrusted_certificate_is_rejected(target: WinrmTarget) -> None:
    # Without the test CA the system store does not trust the throw-away certificate.
    result, _ = run(replace(target, ca_file=None), "true")
    assert result.outcome is Outcome.HOST_KEY_REJECTED
    assert "not trusted" in result.message


def test_closed_port_is_unreachable(target: WinrmTarget) -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(replace(target, port=port), "true")
    assert result.outcome is Outcome.UNREACHABLE


def test_basic_over_http_is_refused(target: WinrmTarget) -> None:
    with pytest.raises(BadInput, match="only allowed over HTTPS"):
        run(replace(target, https=False), "true")


def test_clixml_progress_is_dropped_and_errors_kept() -> None:
    lines: list[tuple[str, str]] = []
    keep = ClixmlFilter(lambda s, text: lines.append((s, text)))
    keep("stderr", "#< CLIXML")
    keep(
        "stderr",
        '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'
        '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject'
        '</T></TN><MS><I64 N="SourceId">1</I64><PR N="Record"><AV>Preparing modules</AV></PR>'
        '</MS></Obj><S S="Error">Get-Item : Cannot find path_x000D__x000A_</S>'
        '<S S="Error">At line:1 char:1_x000D__x000A_</S></Objs>',
    )
    keep("stdout", "#< CLIXML")
    keep("stderr", "plain error")
    assert lines == [
        ("stderr", "Get-Item : Cannot find path"),
        ("stderr", "At line:1 char:1"),
        ("stdout", "#< CLIXML"),
        ("stderr", "plain error"),
    ]


def test_job_over_winrm_passes_secrets_by_send_and_audits(
    target: WinrmTarget, winrm_server: WinrmServer, tmp_path: Path
) -> None:
    secret = "tok'en; $(reboot) `x`"
    check = parse_recipe(
        "id: t.secret\ntitle: T\nprotocol: winrm\nshell: sh\n"
        "params:\n  who: {type: string}\n  token: {type: secret, required: true}\n"
        "script: printf '%s|' {{who}}; printf '%s' {{token}} | wc -c\n",
        Path("t.yaml"),
    )
    runner = JobRunner(tmp_path / "data")
    try:
        job = runner.submit(
            JobRequest(check, {"who": "a b", "token": secret}, target, None, "ana.lopez")
        )
        result = job.result(30)
    finally:
        runner.shutdown()
    assert result.outcome is Outcome.OK, result.message
    assert result.stdout_tail == (f"a b|{len(secret.encode())}",)  # the secret arrived whole
    assert (result.host, result.port, result.username) == (
        winrm_server.host, winrm_server.port, winrm_server.username,
    )  # fmt: skip
    for text in (runner.audit_path.read_text("utf-8"), result.log_path.read_text("utf-8")):
        assert secret not in text
    assert '"token": "********"' in runner.audit_path.read_text("utf-8")
