"""The policy a cache uses: a central one pulled into it, checked again when read; and the
SLA clock built from the policy and the cache's sites."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from tests.support.workbench import SITE
from workbench.core.models import Priority
from workbench.resources import RESOURCES, load_policy
from workbench.services.policy import digest, policy_for, sla_clock
from workbench.store import Store, schema

SHIPPED = (RESOURCES / "sla.yaml").read_text(encoding="utf-8")


def _pull(store: Store, source: str, version: int = 3) -> None:
    """What a sync writes when it pulls the help desk's policy."""
    with store.write() as tx:
        tx._db.execute(
            insert(schema.policies).values(
                id="sla",
                policy_version=version,
                source=source,
                digest=digest(source),
                updated_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )


def test_a_pulled_policy_is_used(store: Store) -> None:
    _pull(
        store,
        SHIPPED.replace("P4: {response: 1bd, resolve: 5bd}", "P4: {response: 1bd, resolve: 10bd}"),
    )
    assert policy_for(store).targets[Priority.P4].resolve_minutes == 10 * 9 * 60


@pytest.mark.parametrize(
    "source",
    [
        SHIPPED.replace("clock: 24x7", "clock: 25x8").replace(
            "warn_fraction: 0.25", "warn_fraction: 7"
        ),
        "not: [a policy",
        "\x00\x01 binary",
        "",
    ],
    ids=["two-problems", "bad-yaml", "binary", "empty"],
)
def test_a_pulled_policy_that_does_not_check_is_logged_in_one_line_and_the_shipped_one_stands(
    store: Store, source: str, caplog: pytest.LogCaptureFixture
) -> None:
    _pull(store, source)
    with caplog.at_level("WARNING", logger="workbench.services.policy"):
        assert policy_for(store) == load_policy()
    [record] = caplog.records
    message = record.getMessage()
    assert "\n" not in message
    assert message.startswith("the central policy v3 is not used: <central policy v3>:")
    assert message.endswith("; the shipped one stands")


def test_the_sla_clock_knows_each_sites_zone(store: Store) -> None:
    clock = sla_clock(store, load_policy())
    assert clock.site_zones == {SITE.id: SITE.timezone}
