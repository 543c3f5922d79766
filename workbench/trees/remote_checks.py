"""A tree's checks and actions run as real remote jobs (workbench.remote.jobs).

The executor only knows how to reach a host through the `connect` callable it is given
(credential profiles live elsewhere): no connection known, an unreachable host, failed
authentication, an unknown host key, a timeout or a cancel all become `Unreachable` with the
reason, so the technician picks the branch by hand and the transcript says why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NamedTuple

from workbench.core.errors import BadInput, WorkbenchError
from workbench.remote.outcome import Outcome
from workbench.trees.runner import CheckResult, Unreachable

if TYPE_CHECKING:  # paramiko and pywinrm load with the first check, not with the window
    from workbench.remote.jobs import Job, JobResult, JobRunner
    from workbench.remote.recipes import RecipeLibrary
    from workbench.remote.ssh import LineCallback, SshAuth, SshTarget
    from workbench.remote.winrm import WinrmTarget
    from workbench.services.profiles import ProfileService

# Branch patterns search the whole output; a runaway command must not fill the memory.
MAX_LINES = 20_000


class Connection(NamedTuple):
    target: SshTarget | WinrmTarget
    auth: SshAuth | None  # SSH only; a WinrmTarget carries its own credentials
    accept_host_key: str | None = None  # a fingerprint the technician already accepted
    jump: tuple[SshTarget, SshAuth] | None = None  # SSH only: reach the target through this


Connect = Callable[[str], Connection | None]


def no_credentials(_host: str) -> None:
    """The connect callable without credential profiles: every host is out of reach."""
    return None


def profiles_connect(profiles: ProfileService) -> Connect:
    """Reach a host through the credential profile of the asset with that hostname."""

    def connect(host: str) -> Connection | None:
        found = profiles.connection_for_host(host)
        if found is None:
            return None
        target, auth, jump = found
        return Connection(target, auth, jump=jump)

    return connect


class RemoteCheckExecutor:
    """runner.CheckExecutor over JobRunner; `cancel()` stops the job in flight."""

    def __init__(
        self,
        jobs: JobRunner,
        recipes: RecipeLibrary,
        connect: Connect,
        technician: str,
        ticket_ref: str | None = None,
        on_line: LineCallback | None = None,
    ) -> None:
        self.jobs = jobs
        self.recipes = recipes
        self.connect = connect
        self.technician = technician
        self.ticket_ref = ticket_ref
        self.on_line = on_line
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._cancelled = False
        # The jobs that ran, for the central audit (recorded by whoever holds the store).
        self.finished: list[JobResult] = []

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._job is not None:
                self._job.cancel()

    def run(self, recipe: str, host: str, params: Mapping[str, str]) -> CheckResult | Unreachable:
        try:
            connection = self.connect(host)
        except WorkbenchError as exc:  # e.g. the profile's secret is gone from the keyring
            return Unreachable(f"no usable credentials for {host}: {exc}")
        if connection is None:
            return Unreachable(f"no credential profile for {host}")
        from workbench.remote.jobs import JobRequest  # noqa: PLC0415  (see the imports)

        lines: dict[str, list[str]] = {"stdout": [], "stderr": []}

        def collect(stream: str, text: str) -> None:
            if len(lines[stream]) < MAX_LINES:
                lines[stream].append(text)
            if self.on_line is not None:
                self.on_line(stream, text)

        request = JobRequest(
            self.recipes.get(recipe),
            dict(params),
            connection.target,
            connection.auth,
            self.technician,
            self.ticket_ref,
            accept_host_key=connection.accept_host_key,
            jump=connection.jump,
        )
        with self._lock:
            if self._cancelled:
                return Unreachable("cancelled by the technician")
            try:
                self._job = self.jobs.submit(request, collect)
            except BadInput as exc:  # e.g. a secret parameter no tree can give
                return Unreachable(f"{recipe} could not start on {host}: {exc}")
        result = self._job.result()
        self.finished.append(result)
        return as_check_result(result, "\n".join(lines["stdout"]), "\n".join(lines["stderr"]))


def as_check_result(result: JobResult, stdout: str, stderr: str) -> CheckResult | Unreachable:
    """A command that ended with an exit code is a result; anything else is out of reach."""
    ended = result.outcome in (Outcome.OK, Outcome.REBOOT_NEEDED, Outcome.FAILED)
    if ended and result.exit_code is not None:
        return CheckResult(result.exit_code, stdout, stderr)
    reason = f"{result.outcome.label}: {result.message}"
    fingerprint = result.host_key_fingerprint
    if fingerprint and fingerprint not in reason:
        reason += f" (host key {fingerprint})"
    return Unreachable(reason)
