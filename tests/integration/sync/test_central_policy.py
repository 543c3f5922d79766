"""The help desk's policy and sites, held centrally: set by a lead, checked with located
errors first, pulled and used by every cache; the shipped sla.yaml is only the default."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.sync.conftest import Laptop
from workbench.cli import run
from workbench.core.models import Priority
from workbench.resources import RESOURCES, load_policy
from workbench.services.policy import policy_for

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def wb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_policy_set_centrally_is_pulled_and_used_by_every_cache(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = laptops("ana.lopez")
    assert policy_for(ana.store).matrix == load_policy().matrix  # nothing central yet
    shipped = (RESOURCES / "sla.yaml").read_text(encoding="utf-8")
    stricter = shipped.replace("3: {1: P3, 2: P4, 3: P4}", "3: {1: P2, 2: P3, 3: P3}")
    path = tmp_path / "sla.yaml"
    path.write_text(stricter, encoding="utf-8")
    data = tmp_path / "admin"
    code, out, err = wb(capsys, "--data-dir", str(data), "central", "policy", "set", str(path),
                        "--url", central_url, "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == {"policy_version": 1}
    ana.sync()
    assert policy_for(ana.store).matrix[(3, 1)] == Priority.P2
    # Setting the same text again changes nothing; the history lists each version once.
    wb(capsys, "--data-dir", str(data), "central", "policy", "set", str(path), "--url", central_url)
    code, out, _ = wb(capsys, "--data-dir", str(data), "central", "policy", "history",
                      "--url", central_url, "--json")  # fmt: skip
    assert [v["policy_version"] for v in json.loads(out)["versions"]] == [1]


def test_a_broken_policy_lists_every_problem_where_it_is_and_stores_nothing(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = laptops("ana.lopez")
    shipped = (RESOURCES / "sla.yaml").read_text(encoding="utf-8")
    broken = shipped.replace("P2: {response: 30m,", "P2: {response: soon,")
    broken = broken.replace("reopen_window_days: 14", "reopen_window_days: 14\nescalate: yes")
    path = tmp_path / "sla.yaml"
    path.write_text(broken, encoding="utf-8")
    code, out, err = wb(capsys, "--data-dir", str(tmp_path / "a"), "central", "policy", "set",
                        str(path), "--url", central_url)  # fmt: skip
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    targets_line = next(n for n, t in enumerate(broken.splitlines(), 1) if t.startswith("targets"))
    p2_at = f"sla.yaml:{targets_line + 2}:18: target P2 response: duration 'soon'"
    assert any(line.startswith(p2_at) for line in lines), lines
    assert any("unknown section 'escalate'" in line for line in lines)
    ana.sync()
    assert policy_for(ana.store).matrix == load_policy().matrix


def test_sites_added_centrally_reach_the_caches(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = laptops("ana.lopez")
    data = str(tmp_path / "admin")
    code, out, err = wb(capsys, "--data-dir", data, "central", "site", "add", "Tumwater Depot",
                        "--timezone", "America/Los_Angeles", "--address", "1 Depot Rd",
                        "--url", central_url, "--json")  # fmt: skip
    assert code == 0, err
    site = json.loads(out)["site"]
    assert site["id"] == "site-tumwater-depot"
    code, _, err = wb(capsys, "--data-dir", data, "central", "site", "add", "Elsewhere",
                      "--timezone", "Mars/Olympus", "--url", central_url)  # fmt: skip
    assert code == 2 and "not a time zone" in err and len(err.strip().splitlines()) == 1
    code, _, err = wb(capsys, "--data-dir", data, "central", "technician", "add", "Ed Wu",
                      "--name", "Ed", "--email", "ed@x.example", "--tier", "2", "--role",
                      "field", "--site", "Nowhere", "--url", central_url)  # fmt: skip
    assert code == 2 and "login 'Ed Wu'" in err
    code, _, err = wb(capsys, "--data-dir", data, "central", "technician", "add", "ed.wu",
                      "--name", "Ed Wu", "--email", "ed@x.example", "--tier", "2", "--role",
                      "field", "--site", "Nowhere", "--url", central_url)  # fmt: skip
    assert code == 2 and "no site 'Nowhere'" in err and "Tumwater Depot" in err
    ana.sync()
    with ana.store.read() as db:
        assert "Tumwater Depot" in {s.name for s in db.sites()}
        assert db.technician("ed.wu") is None  # the refused enrolment changed nothing
