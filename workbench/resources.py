"""Files shipped with the program (resources/) and the policy read from them."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import yaml

from workbench.core.errors import WorkbenchError
from workbench.core.policy import SlaPolicy, policy_from_mapping
from workbench.core.yaml_loader import safe_load

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


@cache
def load_policy(path: Path | None = None) -> SlaPolicy:
    """The SLA policy from WORKBENCH_SLA_FILE, or the shipped resources/sla.yaml."""
    path = path or Path(os.environ.get("WORKBENCH_SLA_FILE", RESOURCES / "sla.yaml"))
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise WorkbenchError(f"cannot read the SLA policy {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise WorkbenchError(f"the SLA policy {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"the SLA policy {path} must be a mapping")
    return policy_from_mapping(data)
