"""Shared fixtures for the domain-core unit tests: the shipped SLA policy and a lifecycle."""

from __future__ import annotations

import pytest

from workbench.core.lifecycle import Lifecycle
from workbench.core.policy import SlaPolicy
from workbench.resources import RESOURCES, load_policy

SHIPPED_SLA = RESOURCES / "sla.yaml"


@pytest.fixture(scope="session")
def policy() -> SlaPolicy:
    # The shipped file itself, whatever WORKBENCH_SLA_FILE says in the environment.
    return load_policy(SHIPPED_SLA)


@pytest.fixture(scope="session")
def lifecycle(policy: SlaPolicy) -> Lifecycle:
    return Lifecycle(policy)
