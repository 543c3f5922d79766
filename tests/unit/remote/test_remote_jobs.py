"""Job results on tickets, the known-hosts file and line splitting (no network)."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import paramiko
import pytest

from tests.support.sshd import _write_ed25519_key, sha256_fingerprint
from tests.support.workbench import AGENT, Clock
from workbench.core.errors import BadInput, NotFound
from workbench.core.models import WorklogKind
from workbench.remote.hostkeys import KnownHosts, fingerprint
from workbench.remote.jobs import JobResult
from workbench.remote.outcome import Outcome
from workbench.remote.ssh import LineSplitter, classify
from workbench.services.remote import RemoteService
from workbench.services.tickets import TicketService


def result(
    clock: Clock,
    ticket_ref: str | None,
    seconds: float,
    outcome: Outcome = Outcome.OK,
    last_lines: tuple[str, ...] = ("password reset for dana.w",),
) -> JobResult:
    return JobResult(
        id="job-1",
        recipe_id="ad.reset-password",
        host="mgmt01",
        port=22,
        username="admin",
        technician=AGENT.login,
        ticket_ref=ticket_ref,
        params={"account": "dana.w", "password": "********"},
        outcome=outcome,
        exit_code=0 if outcome is Outcome.OK else None,
        message="exit code 0",
        started_at=clock.now,
        finished_at=clock.now + timedelta(seconds=seconds),
        log_path=Path("/data/remote-jobs/x.log"),
        stdout_tail=("password reset for dana.w",),
        stderr_tail=(),
        last_lines=last_lines,
    )


# The job's own duration to the nearest minute: a 0.0 s failure adds no invented minute.
@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(0, 0), (3, 0), (29.9, 0), (30, 1), (60, 1), (89, 1), (90, 2), (3600 * 30, 1440)],
)
def test_record_appends_remote_job_with_minutes(
    service: TicketService, clock: Clock, seconds: float, minutes: int
) -> None:
    ref = service.create(title="Locked out", category="account", impact=3, urgency=2).ticket.ref
    remote = RemoteService(service)
    entry = remote.record(result(clock, ref, seconds))
    assert entry is not None
    worklog = service.detail(ref).worklog
    assert worklog[-1] == entry
    assert (entry.kind, entry.minutes, entry.author) == (
        WorklogKind.REMOTE_JOB,
        minutes,
        AGENT.login,
    )
    assert "ad.reset-password on admin@mgmt01:22: ok, exit code 0" in entry.text
    assert "password=********" in entry.text
    # The entry travels to the central database like every other worklog entry.
    with service.store.read() as db:
        assert any(op.entity_id == entry.id for op in db.outbox())


@pytest.mark.parametrize(
    "outcome", [Outcome.UNREACHABLE, Outcome.AUTH_FAILED, Outcome.HOST_KEY_REJECTED]
)
def test_attempts_that_never_ran_log_no_time(
    service: TicketService, clock: Clock, outcome: Outcome
) -> None:
    ref = service.create(title="Locked out", category="account", impact=3, urgency=2).ticket.ref
    entry = RemoteService(service).record(result(clock, ref, 75, outcome, last_lines=()))
    assert entry is not None and entry.minutes == 0
    assert f": {outcome.label} after 75.0 s" in entry.text
    assert "Last output: (no output)" in entry.text


def test_worklog_quotes_the_last_lines_escaped_and_cut_short(
    service: TicketService, clock: Clock
) -> None:
    ref = service.create(title="Locked out", category="account", impact=3, urgency=2).ticket.ref
    lines = tuple(f"line {n}" for n in range(1, 10)) + ("\x1b[2Jcleared", "x" * 5000)
    entry = RemoteService(service).record(result(clock, ref, 2, Outcome.FAILED, lines))
    assert entry is not None
    text = entry.text
    assert "line 6" not in text and "line 7" in text and "line 9" in text  # the last five
    assert "\x1b" not in text and "^[[2Jcleared" in text
    assert max(len(line) for line in text.splitlines()) < 300 and "x" * 150 + "…" in text
    assert text.endswith("Full output: x.log")


def test_record_without_ticket_writes_nothing_and_unknown_ticket_is_refused(
    service: TicketService, clock: Clock
) -> None:
    remote = RemoteService(service)
    assert remote.record(result(clock, None, 5)) is None
    with pytest.raises(NotFound):
        remote.ticket_for_job("HD-424242")


def test_known_hosts_add_list_forget(tmp_path: Path) -> None:
    line = _write_ed25519_key(tmp_path / "host", "h")
    key = paramiko.PKey.from_path(tmp_path / "host")
    known = KnownHosts(tmp_path / "data" / "known_hosts")
    assert known.entries() == []
    known.add("10.0.0.5", 22, key)
    known.add("::1", 2222, key)
    assert fingerprint(key) == sha256_fingerprint(line)
    assert [(e.name, e.fingerprint) for e in known.entries()] == [
        ("10.0.0.5", fingerprint(key)),
        ("[::1]:2222", fingerprint(key)),
    ]
    assert stat.S_IMODE(known.path.stat().st_mode) == 0o600
    assert known.forget("::1", 2222) == 1
    assert [e.name for e in known.entries()] == ["10.0.0.5"]
    with pytest.raises(BadInput, match=r"no known host key for \[::1\]:2222"):
        known.forget("::1", 2222)


def test_known_hosts_of_two_runners_on_one_file_lose_no_entry(tmp_path: Path) -> None:
    """The console and the tree pane each have a runner: their trusts must all be kept."""
    _write_ed25519_key(tmp_path / "host", "h")
    key = paramiko.PKey.from_path(tmp_path / "host")
    path = tmp_path / "data" / "known_hosts"
    owners = [KnownHosts(path), KnownHosts(path)]
    hosts = [f"10.0.0.{n}" for n in range(1, 41)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: owners[n % 2].add(hosts[n], 22, key), range(len(hosts))))
    assert sorted(e.name for e in KnownHosts(path).entries()) == sorted(hosts)


def test_line_splitter_handles_split_utf8_crlf_and_long_lines() -> None:
    lines: list[tuple[str, str]] = []
    splitter = LineSplitter("stdout", lambda s, line: lines.append((s, line)))
    data = "grüße\r\nzwei\n".encode() + b"\xff" + b"x" * 70000
    for i in range(20):  # byte by byte: a multi-byte character is split across reads
        splitter.feed(data[i : i + 1])
    splitter.feed(data[20:])
    splitter.feed(b"", final=True)
    texts = [line for _, line in lines]
    assert texts[:2] == ["grüße", "zwei"]
    assert "".join(texts[2:]) == "\ufffd" + "x" * 70000
    assert max(len(t) for t in texts) <= 65536


def test_classify_exit_codes() -> None:
    assert classify(0, (0, 259), (3010,)) is Outcome.OK
    assert classify(259, (0, 259), (3010,)) is Outcome.OK
    assert classify(3010, (0, 259), (3010,)) is Outcome.REBOOT_NEEDED
    assert classify(1, (0, 259), (3010,)) is Outcome.FAILED
