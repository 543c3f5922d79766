"""How SLA targets, time left and due times read in the CLI: in business terms on business
hours, in clock time on 24x7, due times in the site's zone and naming it; JSON stays ISO."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli import workbench
from tests.support.workbench import REQUESTER
from workbench.resources import RESOURCES
from workbench.services.tickets import TicketService
from workbench.store import Store


@pytest.fixture
def cache(store: Store, service: TicketService, data_dir: Path) -> tuple[Path, str, str]:
    """A P3 and a P1 of REQUESTER (site in Los Angeles), opened Mon 16 Nov 2026 08:00 PST."""
    p3 = service.create(
        title="Outlook asks for the password", category="email", impact=3, urgency=1,
        requester=REQUESTER.email,
    )  # fmt: skip
    p1 = service.create(
        title="Whole floor offline", category="network", impact=1, urgency=1,
        requester=REQUESTER.email,
    )  # fmt: skip
    store.close()
    return data_dir, p3.ticket.ref, p1.ticket.ref


def test_ticket_show_gives_targets_in_business_days_and_due_times_with_the_zone(
    cache: tuple[Path, str, str],
) -> None:
    data_dir, p3, p1 = cache
    shown = workbench(data_dir, "ticket", "show", p3)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert "  response  2 business hours · due Mon 16 Nov 10:00 PST" in lines
    assert "  resolve   3 business days · due Wed 18 Nov 17:00 PST" in lines
    # Long past by now: how much, in business time.
    [sla] = [line for line in lines if line.startswith("  SLA ")]
    assert re.fullmatch(r"  SLA       \d+ business days?( \d+ h)? over", sla), sla
    assert any(re.match(r"  2026-11-16 08:00 PST  ana\.lopez", line) for line in lines), lines

    urgent = workbench(data_dir, "ticket", "show", p1).stdout.splitlines()
    assert "  response  15 min · due Mon 16 Nov 08:15 PST" in urgent
    assert "  resolve   4 h · due Mon 16 Nov 12:00 PST" in urgent
    [sla] = [line for line in urgent if line.startswith("  SLA ")]
    assert re.fullmatch(r"  SLA       24×7: \d+ days( \d+ h)? over", sla), sla


def test_ticket_list_sla_column_and_json_keep_iso_times(cache: tuple[Path, str, str]) -> None:
    data_dir, p3, p1 = cache
    listed = workbench(data_dir, "ticket", "list")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:] if "-" in line[:3]}
    assert re.search(r"\d+ business days?( \d+ h)? over$", rows[p3]), rows[p3]
    assert re.search(r"24×7: \d+ days( \d+ h)? over$", rows[p1]), rows[p1]
    shown = json.loads(workbench(data_dir, "ticket", "show", p3, "--json").stdout)
    assert shown["ticket"]["response_due"] == "2026-11-16T18:00:00+00:00"
    assert shown["ticket"]["resolve_due"] == "2026-11-19T01:00:00+00:00"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("clock: 24x7", "clock: 25x8", "target P1 clock must be 24x7 or business, not '25x8'"),
        ("warn_fraction: 0.25", "warn_fraction: 7", "warn_fraction must be a share between 0"),
        ("P2: {response: 30m,", "P2: {\n  response: [30m,", "not valid YAML"),
    ],
)
def test_a_bad_policy_file_stops_every_command_with_one_located_line(
    cache: tuple[Path, str, str], tmp_path: Path, old: str, new: str, message: str
) -> None:
    data_dir, _p3, _p1 = cache
    policy = tmp_path / "sla.yaml"
    policy.write_text((RESOURCES / "sla.yaml").read_text(encoding="utf-8").replace(old, new))
    result = subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), "ticket", "list"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "WORKBENCH_SLA_FILE": str(policy)},
    )  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"workbench: error: the SLA policy is not used: {policy}:"), line
    assert message in line and "Traceback" not in result.stderr
