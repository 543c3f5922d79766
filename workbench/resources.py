"""Files shipped with the program (resources/) and the policy read from them."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.policy import PolicyProblems, SlaPolicy, policy_from_text

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@cache
def load_policy(path: Path | None = None) -> SlaPolicy:
    """The SLA policy from WORKBENCH_SLA_FILE, or the shipped resources/sla.yaml, checked as
    `central policy set` checks one; a policy that does not check stops with its first
    located problem (one line)."""
    path = path or Path(os.environ.get("WORKBENCH_SLA_FILE", RESOURCES / "sla.yaml"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise WorkbenchError(f"cannot read the SLA policy {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise WorkbenchError(f"the SLA policy {path} is not UTF-8 text") from None
    try:
        return policy_from_text(text, str(path))
    except PolicyProblems as exc:
        raise WorkbenchError(exc.one_line("the SLA policy")) from None
