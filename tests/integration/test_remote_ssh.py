"""The SSH runner and jobs against a real OpenSSH server on loopback (tests/support/sshd.py)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paramiko
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.sshd import SshServer, _write_ed25519_key
from tests.support.workbench import AGENT
from workbench.core.errors import BadInput
from workbench.remote.hostkeys import KnownHosts, fingerprint
from workbench.remote.jobs import JobRequest, JobResult, JobRunner
from workbench.remote.outcome import Outcome, RunResult
from workbench.remote.recipes import Recipe, parse_recipe
from workbench.remote.ssh import SshAuth, SshTarget, run_command
from workbench.services.remote import RemoteService
from workbench.services.tickets import TicketService

pytestmark = pytest.mark.services


class Lines:
    """Collects streamed lines; thread-safe, with a wait for the first line."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.first = threading.Event()

    def __call__(self, stream: str, line: str) -> None:
        self.items.append((stream, line))
        self.first.set()

    def of(self, stream: str) -> list[str]:
        return [line for s, line in self.items if s == stream]


def recipe(script: str, *, timeout: int = 30, params: str = "", extra: str = "") -> Recipe:
    text = (
        f"id: test.recipe\ntitle: Test\nprotocol: ssh\nshell: sh\ntimeout: {timeout}\n"
        f"{extra}{params}script: {json.dumps(script)}\n"
    )
    return parse_recipe(text, Path("test.yaml"))


@pytest.fixture
def known(sshd_server: SshServer, tmp_path: Path) -> KnownHosts:
    hosts = KnownHosts(tmp_path / "known_hosts")
    hosts.add(sshd_server.host, sshd_server.port, sshd_server.host_pkey())
    return hosts


@pytest.fixture
def target(sshd_server: SshServer) -> SshTarget:
    return SshTarget(sshd_server.host, sshd_server.username, sshd_server.port)


@pytest.fixture
def auth(sshd_server: SshServer) -> SshAuth:
    return SshAuth(identity=sshd_server.client_key_path)


@pytest.fixture
def runner(sshd_server: SshServer, tmp_path: Path) -> Iterator[JobRunner]:
    data_dir = tmp_path / "data"
    job_runner = JobRunner(data_dir)
    KnownHosts.in_data_dir(data_dir).add(
        sshd_server.host, sshd_server.port, sshd_server.host_pkey()
    )
    yield job_runner
    job_runner.shutdown()


def run(
    target: SshTarget, auth: SshAuth, known: KnownHosts, command: str, **kwargs: Any
) -> tuple[RunResult, Lines]:
    lines = Lines()
    kwargs.setdefault("timeout_s", 30)
    return run_command(target, auth, command, known, on_line=lines, **kwargs), lines


def test_run_streams_both_streams_and_exit_code(
    target: SshTarget, auth: SshAuth, known: KnownHosts
) -> None:
    result, lines = run(target, auth, known, "echo one; echo two >&2; printf 'three'; exit 0")
    assert result.outcome is Outcome.OK and result.exit_code == 0
    assert lines.of("stdout") == ["one", "three"]
    assert lines.of("stderr") == ["two"]


def test_nonzero_exit_is_failed_unless_recipe_says_reboot(
    target: SshTarget, auth: SshAuth, known: KnownHosts
) -> None:
    failed, _ = run(target, auth, known, "exit 3")
    assert (failed.outcome, failed.exit_code) == (Outcome.FAILED, 3)
    reboot, _ = run(target, auth, known, "exit 3010", reboot_codes=(3010 % 256,))
    assert reboot.outcome is Outcome.REBOOT_NEEDED  # POSIX exit codes wrap at 256
    ok, _ = run(target, auth, known, "exit 2", ok_codes=(0, 2))
    assert ok.outcome is Outcome.OK


def test_ten_megabytes_on_both_streams_do_not_deadlock(
    target: SshTarget, auth: SshAuth, known: KnownHosts
) -> None:
    pattern = "0123456789abcdef"
    lines_each = 620_000  # 17 bytes a line: 10.5 MB a stream
    size = lines_each * (len(pattern) + 1)
    # Both streams at once: a reader that finished stdout first would stall on a full stderr window.
    command = f"(yes {pattern} | head -c {size} >&2) & yes {pattern} | head -c {size}; wait"
    counts = {"stdout": 0, "stderr": 0}
    odd: list[str] = []

    def count(stream: str, line: str) -> None:
        counts[stream] += 1
        if line != pattern:
            odd.append(line)

    started = time.monotonic()
    result = run_command(target, auth, command, known, timeout_s=60, on_line=count)
    assert result.outcome is Outcome.OK, result.message
    assert counts == {"stdout": lines_each, "stderr": lines_each}
    assert odd == []
    assert time.monotonic() - started < 30


def test_deadline_is_enforced(target: SshTarget, auth: SshAuth, known: KnownHosts) -> None:
    started = time.monotonic()
    result, lines = run(target, auth, known, "echo started; sleep 30", timeout_s=1.5)
    assert result.outcome is Outcome.TIMED_OUT
    assert lines.of("stdout") == ["started"]
    assert time.monotonic() - started < 5


def test_cancel_closes_the_channel(target: SshTarget, auth: SshAuth, known: KnownHosts) -> None:
    cancel = threading.Event()
    lines = Lines()
    outcome: list[Outcome] = []
    worker = threading.Thread(
        target=lambda: outcome.append(
            run_command(
                target, auth, "echo go; sleep 30", known,
                timeout_s=30, on_line=lines, cancel=cancel,
            ).outcome
        )
    )  # fmt: skip
    worker.start()
    assert lines.first.wait(10)
    cancelled_at = time.monotonic()
    cancel.set()
    worker.join(10)
    assert outcome == [Outcome.CANCELLED]
    assert time.monotonic() - cancelled_at < 2


def test_wrong_key_is_authentication_failed(
    target: SshTarget, known: KnownHosts, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"
    _write_ed25519_key(stranger, "stranger")
    result, _ = run(target, SshAuth(identity=stranger), known, "true")
    assert result.outcome is Outcome.AUTH_FAILED
    assert target.username in result.message


def test_unknown_host_key_is_rejected_then_accepted_by_fingerprint(
    sshd_server: SshServer, target: SshTarget, auth: SshAuth, tmp_path: Path
) -> None:
    known = KnownHosts(tmp_path / "fresh_known_hosts")
    rejected, _ = run(target, auth, known, "true")
    assert rejected.outcome is Outcome.HOST_KEY_REJECTED
    assert rejected.host_key_fingerprint == sshd_server.host_key_fingerprint
    assert sshd_server.host_key_fingerprint in rejected.message
    assert known.entries() == []

    wrong_fp = "SHA256:" + "A" * 43
    still, _ = run(target, auth, known, "true", accept_host_key=wrong_fp)
    assert still.outcome is Outcome.HOST_KEY_REJECTED and known.entries() == []

    accepted, _ = run(target, auth, known, "true", accept_host_key=rejected.host_key_fingerprint)
    assert accepted.outcome is Outcome.OK
    assert [e.fingerprint for e in known.entries()] == [sshd_server.host_key_fingerprint]
    again, _ = run(target, auth, known, "true")
    assert again.outcome is Outcome.OK


def test_changed_host_key_is_refused_naming_both(
    sshd_server: SshServer, target: SshTarget, auth: SshAuth, tmp_path: Path
) -> None:
    _write_ed25519_key(tmp_path / "old_host_key", "old")
    old_key = paramiko.PKey.from_path(tmp_path / "old_host_key")
    known = KnownHosts(tmp_path / "known_hosts")
    known.add(sshd_server.host, sshd_server.port, old_key)
    result, _ = run(target, auth, known, "true", accept_host_key=sshd_server.host_key_fingerprint)
    assert result.outcome is Outcome.HOST_KEY_REJECTED
    assert fingerprint(old_key) in result.message
    assert sshd_server.host_key_fingerprint in result.message
    # Accepting the new fingerprint does not replace a changed key: forgetting it is explicit.
    assert [e.fingerprint for e in known.entries()] == [fingerprint(old_key)]


def test_closed_port_is_unreachable(
    auth: SshAuth, known: KnownHosts, sshd_server: SshServer
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, _ = run(SshTarget("127.0.0.1", sshd_server.username, port), auth, known, "true")
    assert result.outcome is Outcome.UNREACHABLE
    assert str(port) in result.message


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_metacharacters_in_params_arrive_literally_over_ssh(
    runner: JobRunner, target: SshTarget, auth: SshAuth, value: str
) -> None:
    echo = recipe(
        "printf '%s' {{value}} | od -An -v -tx1",
        params="params:\n  value: {type: string}\n",
    )
    job = runner.submit(JobRequest(echo, {"value": value}, target, auth, "ana.lopez"))
    result = job.result(30)
    assert result.outcome is Outcome.OK, result.message
    received = bytes.fromhex("".join(result.stdout_tail).replace(" ", ""))
    assert received == value.encode("utf-8")


def test_job_writes_log_and_audit_and_never_the_secret(
    runner: JobRunner, target: SshTarget, auth: SshAuth
) -> None:
    secret = "s3cr3t 'quoted' $(reboot) ; rm -rf /"
    reset = recipe(
        'echo user {{user}}; printf "%s" {{password}} | wc -c; echo {{password}}',
        params="params:\n  user: {type: string, pattern: '[a-z.]+'}\n"
        "  password: {type: secret, required: true}\n",
        extra="confirm: true\n",
    )
    lines = Lines()
    job = runner.submit(
        JobRequest(reset, {"user": "dana.w", "password": secret}, target, auth, "ana.lopez"),
        lines,
    )
    assert secret not in job.rendered.command and secret not in job.rendered.script
    result = job.result(30)
    assert result.outcome is Outcome.OK, result.message
    # The script received the exact secret on stdin (its length), and an echo of it is masked.
    assert lines.of("stdout") == ["user dana.w", str(len(secret.encode())), "********"]
    log_text = result.log_path.read_text("utf-8")
    audit = runner.audit_path.read_text("utf-8")
    for text in (log_text, audit, result.summary()):
        assert secret not in text
    record = json.loads(audit.splitlines()[-1])
    assert record["params"] == {"user": "dana.w", "password": "********"}
    assert (record["recipe"], record["outcome"], record["technician"]) == (
        "test.recipe",
        "ok",
        "ana.lopez",
    )
    assert record["host"] == target.host and record["port"] == target.port
    assert "user dana.w" in log_text


def test_job_cancel_ends_cancelled_with_log_and_audit(
    runner: JobRunner, target: SshTarget, auth: SshAuth
) -> None:
    lines = Lines()
    job = runner.submit(
        JobRequest(recipe("echo working; sleep 30"), {}, target, auth, "ana.lopez"), lines
    )
    assert lines.first.wait(10)
    job.cancel()
    result = job.result(5)
    assert result.outcome is Outcome.CANCELLED and result.exit_code is None
    assert result.seconds < 5
    assert "working" in result.log_path.read_text("utf-8")
    assert '"outcome": "cancelled"' in runner.audit_path.read_text("utf-8")


def test_agent_authentication(
    sshd_server: SshServer, target: SshTarget, known: KnownHosts, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    agent_bin, add_bin = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if agent_bin is None or add_bin is None:
        pytest.skip("ssh-agent is not installed")
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen([agent_bin, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.05)
        env = {"SSH_AUTH_SOCK": str(sock), "PATH": os.environ.get("PATH", "")}
        subprocess.run([add_bin, str(sshd_server.client_key_path)], env=env, check=True,
                       capture_output=True, timeout=10)  # fmt: skip
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        with pytest.raises(BadInput, match="no way to log in"):
            run(target, SshAuth(), known, "true")
        _write_ed25519_key(tmp_path / "stranger", "stranger")
        without, _ = run(target, SshAuth(identity=tmp_path / "stranger"), known, "true")
        assert without.outcome is Outcome.AUTH_FAILED  # the agent is off unless asked for
        with_agent, _ = run(target, SshAuth(allow_agent=True), known, "echo via agent")
        assert with_agent.outcome is Outcome.OK, with_agent.message
    finally:
        agent.terminate()
        agent.wait(5)


def test_jump_host_via_direct_tcpip(
    sshd_server: SshServer, target: SshTarget, auth: SshAuth, known: KnownHosts
) -> None:
    # The fixture's sshd is both the jump host and (through its direct-tcpip channel) the target.
    result, lines = run(target, auth, known, "echo through the jump", jump=(target, auth))
    assert result.outcome is Outcome.OK, result.message
    assert lines.of("stdout") == ["through the jump"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    behind = SshTarget("127.0.0.1", sshd_server.username, closed)
    failed, _ = run(behind, auth, known, "true", jump=(target, auth))
    assert failed.outcome is Outcome.UNREACHABLE
    assert "the jump host cannot reach" in failed.message


def test_runner_honours_its_concurrency_limit(
    sshd_server: SshServer, target: SshTarget, auth: SshAuth, tmp_path: Path
) -> None:
    limited = JobRunner(tmp_path / "limited", max_workers=2)
    KnownHosts.in_data_dir(limited.data_dir).add(
        sshd_server.host, sshd_server.port, sshd_server.host_pkey()
    )
    try:
        jobs = [
            limited.submit(JobRequest(recipe("sleep 0.3"), {}, target, auth, "ana.lopez"))
            for _ in range(4)
        ]
        results = [job.result(30) for job in jobs]
    finally:
        limited.shutdown()
    assert all(r.outcome is Outcome.OK for r in results)
    events = sorted([(r.started_at, 1) for r in results] + [(r.finished_at, -1) for r in results])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2
    assert len(limited.audit_path.read_text("utf-8").splitlines()) == 4


class SteppingClock:
    """Each reading is `step` after the one before: a job takes exactly one step."""

    def __init__(self, step: timedelta) -> None:
        self.now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
        self.step = step

    def __call__(self) -> datetime:
        value = self.now
        self.now += self.step
        return value


def _job_on_ticket(
    sshd_server: SshServer, tmp_path: Path, seconds: float, job: JobRequest
) -> JobResult:
    data_dir = tmp_path / "jobs"
    runner = JobRunner(data_dir, clock=SteppingClock(timedelta(seconds=seconds)))
    KnownHosts.in_data_dir(data_dir).add(sshd_server.host, sshd_server.port,
                                         sshd_server.host_pkey())  # fmt: skip
    try:
        return runner.submit(job).result(30)
    finally:
        runner.shutdown()


# The worklog's time is the job's own duration to the nearest minute: never an invented one.
@pytest.mark.parametrize(("seconds", "minutes"), [(0.0, 0), (20, 0), (45, 1), (95, 2)])
def test_a_failed_job_logs_its_duration_and_its_last_lines_on_the_ticket(
    sshd_server: SshServer, target: SshTarget, auth: SshAuth, service: TicketService,
    tmp_path: Path, seconds: float, minutes: int,
) -> None:  # fmt: skip
    ref = service.create(title="Disk full", category="hardware", impact=3, urgency=3).ticket.ref
    failing = recipe(
        'for n in 1 2 3 4 5 6 7; do echo "step $n"; done; sleep 0.3; '
        'printf "\\033[31mdisk full %s\\n" "$(printf "x%.0s" $(seq 400))" >&2; exit 3'
    )
    job = JobRequest(failing, {}, target, auth, AGENT.login, ticket_ref=ref)
    result = _job_on_ticket(sshd_server, tmp_path, seconds, job)
    assert (result.outcome, result.exit_code, result.seconds) == (Outcome.FAILED, 3, seconds)
    entry = RemoteService(service).record(result)
    assert entry is not None and entry.minutes == minutes
    lines = entry.text.splitlines()
    assert lines[0].startswith(f"Remote job test.recipe on {target.username}@")
    assert f": failed, exit code 3 after {seconds:.1f} s (no parameters)." in lines[0]
    # The last five lines of both streams, in the order they came.
    assert lines[1:6] == ["Last output:", "  step 4", "  step 5", "  step 6", "  step 7"]
    # The remote's escape shown, not sent; a long line cut short.
    assert (
        len(lines) == 8
        and lines[-2].startswith("  [stderr] ^[[31mdisk full xxx")
        and lines[-2].endswith("…")
    )
    assert len(lines[-2]) < 200 and "\x1b" not in entry.text
    assert lines[-1] == f"Full output: {result.log_path.name}"
    assert service.detail(ref).minutes_spent == minutes


def test_attempts_refused_or_unreachable_log_no_time(
    sshd_server: SshServer, target: SshTarget, service: TicketService, tmp_path: Path
) -> None:
    ref = service.create(title="No answer", category="hardware", impact=3, urgency=3).ticket.ref
    stranger = tmp_path / "stranger"
    _write_ed25519_key(stranger, "stranger")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = SshTarget("127.0.0.1", target.username, sock.getsockname()[1])
    attempts = [
        (target, SshAuth(identity=stranger), Outcome.AUTH_FAILED),
        (closed, SshAuth(identity=sshd_server.client_key_path), Outcome.UNREACHABLE),
    ]
    for where, login, outcome in attempts:
        job = JobRequest(recipe("echo hi"), {}, where, login, AGENT.login, ticket_ref=ref)
        result = _job_on_ticket(sshd_server, tmp_path, 120, job)
        assert result.outcome is outcome and result.seconds == 120
        entry = RemoteService(service).record(result)
        assert entry is not None and entry.minutes == 0, entry.text
        assert f": {outcome.label} after 120.0 s" in entry.text
    assert service.detail(ref).minutes_spent == 0
