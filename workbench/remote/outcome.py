"""How a remote run ended (DESIGN.md section 7), shared by the SSH runner and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    OK = "ok"
    REBOOT_NEEDED = "reboot_needed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_REJECTED = "host_key_rejected"

    @property
    def succeeded(self) -> bool:
        return self in (Outcome.OK, Outcome.REBOOT_NEEDED)

    @property
    def label(self) -> str:
        if self is Outcome.AUTH_FAILED:
            return "authentication failed"
        return self.value.replace("_", " ")


@dataclass(frozen=True, slots=True)
class RunResult:
    """What the transport saw: the outcome, the exit code if the command ended, and why."""

    outcome: Outcome
    exit_code: int | None = None
    message: str = ""
    host_key_fingerprint: str | None = None  # set when the key is unknown or changed
