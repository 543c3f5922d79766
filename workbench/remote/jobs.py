"""Jobs: a recipe run on a worker thread, streaming lines, ending in a JobResult.

Each job writes its full output to ``<data dir>/remote-jobs/<job>.log`` and one JSON line to
``<data dir>/audit.log`` (who, recipe, host, parameters with secrets masked, outcome, time).
Secret values are also masked in the streamed and logged output, in case the remote echoes them.
The ticket's worklog entry is written by the caller (workbench.services.remote), on the thread
that owns the store.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from uuid6 import uuid7

from workbench.core.display import visible
from workbench.core.errors import BadInput
from workbench.remote import winrm
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.locks import path_lock
from workbench.remote.outcome import Outcome, RunResult
from workbench.remote.recipes import SECRET_MASK, Recipe, Rendered
from workbench.remote.ssh import LineCallback, SshAuth, SshTarget, run_command
from workbench.remote.winrm import WinrmTarget

AUDIT_FILENAME = "audit.log"
JOBS_DIRNAME = "remote-jobs"
TAIL_LINES = 200
MAX_WORKLOG_MINUTES = 24 * 60
# The end of the output the worklog entry quotes: enough to see why a job failed, no more.
WORKLOG_LINES = 5
WORKLOG_LINE_CHARS = 160
# Attempts that never ran the recipe: they took no work time.
NOT_RUN = frozenset({Outcome.UNREACHABLE, Outcome.AUTH_FAILED, Outcome.HOST_KEY_REJECTED})


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class JobRequest:
    recipe: Recipe
    values: Mapping[str, str] = field(repr=False)  # may hold secrets
    target: SshTarget | WinrmTarget  # the transport follows the target's type
    auth: SshAuth | None  # SSH only; a WinrmTarget carries its own credentials
    technician: str
    ticket_ref: str | None = None
    accept_host_key: str | None = None  # SSH only
    jump: tuple[SshTarget, SshAuth] | None = None  # SSH only: reach the target through this host


@dataclass(frozen=True, slots=True)
class JobResult:
    id: str
    recipe_id: str
    host: str
    port: int
    username: str
    technician: str
    ticket_ref: str | None
    params: Mapping[str, str]  # secrets masked
    outcome: Outcome
    exit_code: int | None
    message: str
    started_at: datetime
    finished_at: datetime
    log_path: Path
    stdout_tail: tuple[str, ...]
    stderr_tail: tuple[str, ...]
    host_key_fingerprint: str | None = None
    last_lines: tuple[str, ...] = ()  # the end of stdout and stderr as they came, masked

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def minutes(self) -> int:
        """Work time for the worklog: the job's duration to the nearest minute (so under 30 s
        is 0), and none for an attempt that never ran (unreachable, refused)."""
        if self.outcome in NOT_RUN:
            return 0
        return min(MAX_WORKLOG_MINUTES, int((self.seconds + 30) // 60))

    def summary(self) -> str:
        """The worklog text: what ran where and how it ended, the last lines of its output
        (their control characters shown, each line cut short) and the log file's name."""
        params = ", ".join(f"{k}={v}" for k, v in self.params.items()) or "no parameters"
        code = f", exit code {self.exit_code}" if self.exit_code is not None else ""
        head = (
            f"Remote job {self.recipe_id} on {self.username}@{self.host}:{self.port}: "
            f"{self.outcome.label}{code} after {self.seconds:.1f} s ({params})."
        )
        if self.message not in ("", f"exit code {self.exit_code}"):
            head += f" {self.message}."
        tail = [_cut(visible(line)) for line in self.last_lines[-WORKLOG_LINES:]]
        output = "".join(f"\n  {line}" for line in tail) if tail else " (no output)"
        return f"{visible(head)}\nLast output:{output}\nFull output: {self.log_path.name}"

    def audit_record(self) -> dict[str, Any]:
        return {
            "time": self.finished_at.isoformat(),
            "started": self.started_at.isoformat(),
            "job": self.id,
            "technician": self.technician,
            "recipe": self.recipe_id,
            "host": self.host,
            "port": self.port,
            "user": self.username,
            "params": dict(self.params),
            "outcome": self.outcome.value,
            "exit_code": self.exit_code,
            "ticket": self.ticket_ref,
            "log": str(self.log_path),
        }


class Job:
    """A submitted run: cancel it, or wait for its result."""

    def __init__(self, job_id: str, rendered: Rendered, future: Future[JobResult],
                 cancel: threading.Event) -> None:  # fmt: skip
        self.id = job_id
        self.rendered = rendered
        self._future = future
        self._cancel = cancel

    def cancel(self) -> None:
        """Close the channel at the next poll (within a fraction of a second)."""
        self._cancel.set()

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> JobResult:
        return self._future.result(timeout)


def _masker(secrets: list[str]) -> Callable[[str], str]:
    secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def mask(line: str) -> str:
        for secret in secrets:
            line = line.replace(secret, SECRET_MASK)
        return line

    return mask


class JobRunner:
    """Runs jobs on a thread pool; runners on the same data dir share its files' locks."""

    def __init__(
        self,
        data_dir: Path,
        max_workers: int = 4,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.data_dir = data_dir
        self.known_hosts = KnownHosts.in_data_dir(data_dir)
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="remote-job")
        self._audit_lock = path_lock(self.audit_path)

    @property
    def audit_path(self) -> Path:
        return self.data_dir / AUDIT_FILENAME

    def submit(self, request: JobRequest, on_line: LineCallback | None = None) -> Job:
        """Validate and render now (BadInput here, nothing run), then run on a worker thread."""
        rendered = request.recipe.render(request.values)
        # Unusable credentials are bad input, not an outcome.
        if isinstance(request.target, WinrmTarget):
            request.target.check()
        elif request.auth is None:
            raise BadInput("an SSH job needs SSH credentials")
        else:
            request.auth.private_key()
        job_id = str(uuid7())
        cancel = threading.Event()
        future = self._pool.submit(self._run, job_id, request, rendered, cancel, on_line)
        return Job(job_id, rendered, future, cancel)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)

    def _run(
        self,
        job_id: str,
        request: JobRequest,
        rendered: Rendered,
        cancel: threading.Event,
        on_line: LineCallback | None,
    ) -> JobResult:
        recipe = request.recipe
        started = self.clock()
        masked = recipe.masked(recipe.validate(request.values))
        mask = _masker([request.values[n] for n in rendered.secret_names])
        logs = self.data_dir / JOBS_DIRNAME
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{started:%Y%m%d-%H%M%S}-{recipe.id}-{job_id[-12:]}.log"
        tails: dict[str, deque[str]] = {
            "stdout": deque(maxlen=TAIL_LINES),
            "stderr": deque(maxlen=TAIL_LINES),
        }
        last_lines: deque[str] = deque(maxlen=WORKLOG_LINES)
        with _open_private(log_path) as log:
            log.write(
                f"# job {job_id} by {request.technician} at {started.isoformat()}\n"
                f"# recipe {recipe.id} on {request.target.username}@{request.target.host}:"
                f"{request.target.port}\n# params {json.dumps(masked)}\n"
                f"# script:\n" + "".join(f"#   {line}\n" for line in rendered.script.splitlines())
            )

            def line(stream: str, text: str) -> None:
                text = mask(text)
                tails[stream].append(text)
                last_lines.append(("" if stream == "stdout" else "[stderr] ") + text)
                log.write(("" if stream == "stdout" else "[stderr] ") + text + "\n")
                if on_line is not None:
                    on_line(stream, text)

            run = self._transport_run(request, rendered, line, cancel)
            finished = self.clock()
            log.write(f"# outcome {run.outcome.value} ({run.message}) at {finished.isoformat()}\n")
        result = JobResult(
            id=job_id,
            recipe_id=recipe.id,
            host=request.target.host,
            port=request.target.port,
            username=request.target.username,
            technician=request.technician,
            ticket_ref=request.ticket_ref,
            params=masked,
            outcome=run.outcome,
            exit_code=run.exit_code,
            message=run.message,
            started_at=started,
            finished_at=finished,
            log_path=log_path,
            stdout_tail=tuple(tails["stdout"]),
            stderr_tail=tuple(tails["stderr"]),
            host_key_fingerprint=run.host_key_fingerprint,
            last_lines=tuple(last_lines),
        )
        self._audit(result)
        return result

    def _transport_run(
        self,
        request: JobRequest,
        rendered: Rendered,
        on_line: LineCallback,
        cancel: threading.Event,
    ) -> RunResult:
        recipe = request.recipe
        if isinstance(request.target, WinrmTarget):
            return winrm.run_command(
                request.target,
                rendered.command,
                stdin=rendered.stdin,
                timeout_s=recipe.timeout,
                on_line=on_line,
                cancel=cancel,
                ok_codes=recipe.ok_codes,
                reboot_codes=recipe.reboot_codes,
            )
        assert request.auth is not None  # checked in submit()
        return run_command(
            request.target,
            request.auth,
            rendered.command,
            self.known_hosts,
            stdin=rendered.stdin,
            timeout_s=recipe.timeout,
            on_line=on_line,
            cancel=cancel,
            accept_host_key=request.accept_host_key,
            ok_codes=recipe.ok_codes,
            reboot_codes=recipe.reboot_codes,
            jump=request.jump,
        )

    def _audit(self, result: JobResult) -> None:
        line = json.dumps(result.audit_record(), sort_keys=True) + "\n"
        with self._audit_lock, _open_private(self.audit_path, append=True) as audit:
            audit.write(line)


def _cut(line: str) -> str:
    return line if len(line) <= WORKLOG_LINE_CHARS else line[: WORKLOG_LINE_CHARS - 1] + "…"


def _open_private(path: Path, append: bool = False) -> TextIO:
    """Open for writing, readable by the owner only (logs may hold host details)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, 0o600), "a" if append else "w", encoding="utf-8")
