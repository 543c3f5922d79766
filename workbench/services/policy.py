"""The SLA policy in effect for a cache: the help desk's, pulled from the central database,
else the shipped resources/sla.yaml (DESIGN.md §11)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from workbench.core.errors import BadInput, WorkbenchError
from workbench.core.policy import SlaPolicy, policy_from_text
from workbench.resources import load_policy
from workbench.store import Store
from workbench.store.documents import stored_policy

log = logging.getLogger(__name__)


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def read_policy_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read the policy {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise BadInput(f"the policy {path} is not UTF-8 text") from None


def policy_for(store: Store) -> SlaPolicy:
    """The central policy this cache pulled, checked again (a pulled row may be anyone's);
    one that does not check is logged and the shipped policy stands."""
    with store.read() as db:
        stored = stored_policy(db)
    if stored is None:
        return load_policy()
    try:
        return policy_from_text(stored.source, f"<central policy v{stored.policy_version}>")
    except WorkbenchError as exc:
        log.warning("the central policy is not used: %s", exc)
        return load_policy()
