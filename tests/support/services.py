"""Policy for tests that need a real service (DESIGN.md section 8).

Locally a missing PostgreSQL or sshd skips the test; in CI
(``WORKBENCH_REQUIRE_SERVICES=1``, set by ``.ci/run``) it fails it, so a broken
image can never turn the integration suite into a row of silent skips.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_SERVICES_ENV = "WORKBENCH_REQUIRE_SERVICES"

# Enough of a server log to diagnose a failed start without flooding the report.
_LOG_TAIL_CHARS = 6000


def services_required() -> bool:
    """True when a missing service must fail the run instead of skipping."""
    return os.environ.get(REQUIRE_SERVICES_ENV, "").strip().lower() in {"1", "true", "yes"}


def require_or_skip(reason: str) -> NoReturn:
    """Skip the requesting test, or fail it when services are required."""
    if services_required():
        pytest.fail(
            f"{reason}\n({REQUIRE_SERVICES_ENV}=1: unavailable services fail the run)",
            pytrace=False,
        )
    pytest.skip(reason)


def log_tail(path: Path, limit: int = _LOG_TAIL_CHARS) -> str:
    """The end of a server log file, for start-up error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    if len(text) > limit:
        text = "...\n" + text[-limit:]
    return text or "<empty>"


class ServiceStartError(RuntimeError):
    """A service binary exists but the server did not come up."""


def stop_process(proc: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    """Terminate a test server, killing it if it does not end within `grace_s`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
