"""The SLA policy in effect for a cache: the help desk's, pulled from the central database,
else the shipped resources/sla.yaml (DESIGN.md §11)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from workbench.core.files import read_text_file
from workbench.core.policy import PolicyProblems, SlaPolicy, policy_from_text
from workbench.core.sla import SlaClock
from workbench.resources import load_policy
from workbench.store import Store
from workbench.store.documents import stored_policy

log = logging.getLogger(__name__)


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def read_policy_file(path: Path) -> str:
    return read_text_file(path, "the policy")


def policy_for(store: Store) -> SlaPolicy:
    """The central policy this cache pulled, checked again (a pulled row may be anyone's);
    one that does not check is logged in one line and the shipped policy stands."""
    with store.read() as db:
        stored = stored_policy(db)
    if stored is None:
        return load_policy()
    try:
        return policy_from_text(stored.source, f"<central policy v{stored.policy_version}>")
    except PolicyProblems as exc:
        name = f"the central policy v{stored.policy_version}"
        log.warning("%s; the shipped one stands", exc.one_line(name))
        return load_policy()


def sla_clock(store: Store, policy: SlaPolicy) -> SlaClock:
    """How SLAs read in this cache: the policy's clocks in each site's time zone."""
    with store.read() as db:
        zones = {site.id: site.timezone for site in db.sites()}
    return SlaClock(policy, zones)
