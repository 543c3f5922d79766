"""`central import requesters|assets|sites` against a real PostgreSQL: GLPI and Snipe-IT
exports round trip, a rerun changes nothing, a dry run writes nothing, every problem of a file
is listed and nothing of it imported, only admins import, and caches pull what was imported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.workbench import ASSET, REQUESTER, SITE
from workbench.cli import run
from workbench.core.imports import RequesterRecord
from workbench.core.models import Role, Technician
from workbench.sync import central
from workbench.sync.admin import add_technician, admin_session
from workbench.sync.imports import upsert_requesters

pytestmark = pytest.mark.services

CSV = Path(__file__).parents[2] / "support" / "csv"
TABLES = ("sites", "requesters", "assets")


def wb(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    code = run(["--data-dir", str(tmp_path / "admin"), "central", "import", *args])
    out, err = capsys.readouterr()
    return code, out, err


def imported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str, *args: str
) -> dict[str, Any]:
    code, out, err = wb(capsys, tmp_path, *args, "--url", url, "--json")
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def counts(result: dict[str, Any]) -> tuple[int, int, int]:
    assert result["refused"] == [] and result["deactivated"] == 0
    return result["new"], result["changed"], result["unchanged"]


def snapshot(url: str) -> dict[str, Any]:
    """Every row of the imported tables, the clock and the audit: what an import may change."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as db:
            tables = {
                name: sorted(
                    (dict(r) for r in db.execute(select(central.metadata.tables[name])).mappings()),
                    key=lambda row: row["id"],
                )
                for name in TABLES
            }
            clock = db.scalar(select(central.sync_clock.c.clock))
            audit = [
                r.detail
                for r in db.execute(
                    select(central.audit_events).order_by(central.audit_events.c.at)
                )
            ]
    finally:
        engine.dispose()
    return {**tables, "clock": clock, "audit": audit}


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in rows}


def test_glpi_exports_round_trip_and_a_rerun_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    before = snapshot(central_url)
    sites = imported(
        capsys, tmp_path, central_url, "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone",
    )  # fmt: skip
    assert sites["kind"] == "sites" and sites["dry_run"] is False
    assert counts(sites) == (2, 1, 0)  # Olympia HQ gets its full address
    people = imported(capsys, tmp_path, central_url, "requesters", str(CSV / "glpi_users.csv"))
    assert counts(people) == (3, 0, 1)  # Dana Whitfield is as GLPI has her
    machines = imported(capsys, tmp_path, central_url, "assets", str(CSV / "glpi_computers.csv"))
    assert counts(machines) == (2, 0, 1)  # WA-004217: same owner ("Whitfield Dana"), dates

    after = snapshot(central_url)
    site_rows = by(after["sites"], "name")
    assert site_rows["Zürich Büro"] == {
        "id": "site-z-rich-b-ro", "name": "Zürich Büro",
        "address": "Bahnhofstrasse 12, Zürich, 8001, Schweiz", "timezone": "Europe/Zurich",
        "version": site_rows["Zürich Büro"]["version"], "changed_by": "postgres",
    }  # fmt: skip
    assert site_rows[SITE.name]["timezone"] == SITE.timezone
    people_rows = by(after["requesters"], "email")
    zoe = people_rows["zoe.odegard@agency.example"]
    assert (zoe["name"], zoe["active"], zoe["site_id"]) == ("Zoë Ødegård", 0, "site-tacoma-annex")
    assert people_rows[REQUESTER.email] == by(before["requesters"], "email")[REQUESTER.email]
    jurgen = people_rows["juergen.mueller@agency.example"]
    assets = by(after["assets"], "hostname")
    desktop = assets["OLY-FAC-DT0102"]
    assert (desktop["tag"], desktop["owner_id"], desktop["status"]) == (
        "WA-004301", jurgen["id"], "in_repair",
    )  # fmt: skip
    assert str(desktop["purchase_date"]) == "2023-06-15"
    untagged = assets["TAC-IT-MB0007"]
    assert (untagged["tag"], untagged["serial"], untagged["status"]) == (
        "", "C02XK1ZJH7JY", "retired",
    )  # fmt: skip
    assert assets[ASSET.hostname] == by(before["assets"], "id")[ASSET.id]

    # Every row written has a version of its own above the clock it started from, and the
    # clock ends at the last one: caches pull each of them.
    written = [
        row["version"]
        for name in TABLES
        for row in after[name]
        if row not in before[name]
    ]  # fmt: skip
    assert len(written) == 3 + 3 + 2
    assert sorted(written) == list(range(before["clock"] + 1, after["clock"] + 1))
    assert after["audit"] == [
        "imported sites from glpi_locations.csv: 2 new, 1 changed, 0 unchanged",
        "imported requesters from glpi_users.csv: 3 new, 0 changed, 1 unchanged",
        "imported assets from glpi_computers.csv: 2 new, 0 changed, 1 unchanged",
    ]

    for args in (
        ("sites", str(CSV / "glpi_locations.csv"), "--map", "Comments=timezone"),
        ("requesters", str(CSV / "glpi_users.csv")),
        ("assets", str(CSV / "glpi_computers.csv")),
    ):
        again = imported(capsys, tmp_path, central_url, *args)
        assert counts(again) == (0, 0, {"sites": 3, "requesters": 4, "assets": 3}[args[0]])
    rerun = snapshot(central_url)
    assert {k: rerun[k] for k in (*TABLES, "clock")} == {k: after[k] for k in (*TABLES, "clock")}


def test_snipeit_exports_round_trip_with_owners_by_name_and_email(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    imported(
        capsys, tmp_path, central_url, "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone",
    )  # fmt: skip
    people = imported(capsys, tmp_path, central_url, "requesters", str(CSV / "snipeit_users.csv"))
    assert counts(people) == (2, 1, 0)  # Dana's phone is another in Snipe-IT
    assets = imported(capsys, tmp_path, central_url, "assets", str(CSV / "snipeit_assets.csv"))
    assert counts(assets) == (2, 0, 1)

    after = snapshot(central_url)
    people_rows = by(after["requesters"], "email")
    assert people_rows[REQUESTER.email]["phone"] == "360-555-0150"
    assert people_rows[REQUESTER.email]["id"] == REQUESTER.id  # the same requester, updated
    assert people_rows["siobhan.nibhriain@agency.example"]["name"] == "Siobhán Ní Bhriain"
    rows = by(after["assets"], "tag")
    # Snipe-IT's export has no OS column: the OS stays what it was.
    assert rows[ASSET.tag]["os"] == ASSET.os and rows[ASSET.tag]["owner_id"] == REQUESTER.id
    zurich = rows["WA-004610"]
    assert zurich["owner_id"] == people_rows["francois.lefevre@agency.example"]["id"]
    assert (zurich["site_id"], zurich["status"]) == ("site-z-rich-b-ro", "in_repair")
    assert rows["WA-004533"]["owner_id"] is None and rows["WA-004533"]["os"] == ""


def test_a_dry_run_reports_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    before = snapshot(central_url)
    code, out, err = wb(
        capsys, tmp_path, "sites", str(CSV / "glpi_locations.csv"), "--map",
        "Comments=timezone", "--dry-run", "--url", central_url,
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        "sites from glpi_locations.csv: 2 new, 1 changed, 0 unchanged, 0 refused "
        "(dry run: nothing written)\n"
    )
    report = imported(
        capsys, tmp_path, central_url, "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone", "--dry-run",
    )  # fmt: skip
    assert report["dry_run"] is True and counts(report) == (2, 1, 0)
    assert snapshot(central_url) == before  # no row, no clock tick, no audit


def test_every_problem_of_a_file_is_listed_and_nothing_is_imported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    before = snapshot(central_url)
    bad = str(CSV / "requesters_bad.csv")
    code, out, err = wb(capsys, tmp_path, "requesters", bad, "--url", central_url)
    assert code == 2 and "Traceback" not in out + err
    assert out == "requesters from requesters_bad.csv: 1 new, 0 changed, 0 unchanged, 5 refused\n"
    assert err.splitlines() == [
        "workbench: error: nothing imported from requesters_bad.csv: 5 rows refused",
        "requesters_bad.csv:3: Email: 'not-an-address' is not an e-mail address",
        "requesters_bad.csv:4: Email is empty",
        "requesters_bad.csv:5: e-mail ana.NEW@agency.example is also on line 2",
        "requesters_bad.csv:6: no site 'Spokane' on the central database (import the sites first)",
        "requesters_bad.csv:7: no name: Name is empty; Active: 'maybe' is neither yes nor no",
    ]
    code, out, _ = wb(capsys, tmp_path, "requesters", bad, "--url", central_url, "--json")
    report = json.loads(out)
    assert code == 2 and (report["new"], len(report["refused"])) == (1, 5)
    assert report["refused"][0] == {
        "line": 3,
        "reason": "Email: 'not-an-address' is not an e-mail address",
    }

    code, _, err = wb(capsys, tmp_path, "assets", str(CSV / "assets_bad.csv"), "--url", central_url)
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == "workbench: error: nothing imported from assets_bad.csv: 6 rows refused"
    assert [line.split(":")[1] for line in lines[1:]] == ["3", "5", "6", "7", "8", "9"]
    assert lines[2] == (
        "assets_bad.csv:5: owner 'Nobody Known' is no requester (import the requesters "
        "first, or leave the column out)"
    )
    assert lines[3] == "assets_bad.csv:6: asset tag WA-009001 is also on line 2"
    # A dry run of a refused file says the same, and exits 2 as well.
    code, _, _ = wb(
        capsys, tmp_path, "assets", str(CSV / "assets_bad.csv"), "--dry-run", "--url", central_url
    )
    assert code == 2
    assert snapshot(central_url) == before


def test_a_header_without_the_needed_columns_is_refused_before_connecting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Name;Phone\nAna;1\n", encoding="utf-8")
    unreachable = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"
    code, _, err = wb(capsys, tmp_path, "requesters", str(path), "--url", unreachable)
    assert code == 2
    assert err.splitlines()[:2] == [
        "workbench: error: nothing imported from people.csv: the header",
        "people.csv:1: no column for email (recognised: Email, Emails, E-mail, Email address, "
        "Mail); name one with --map COLUMN=email",
    ]


def test_assets_match_by_serial_until_they_get_a_tag_which_then_stays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    first = tmp_path / "untagged.csv"
    first.write_text("Serial,Asset Name\nSN-77,LAB-PC-77\n", encoding="utf-8")
    assert counts(imported(capsys, tmp_path, central_url, "assets", str(first))) == (1, 0, 0)
    tagged = tmp_path / "tagged.csv"
    tagged.write_text("Asset Tag,Serial,Asset Name\nWA-7777,SN-77,LAB-PC-77\n", encoding="utf-8")
    assert counts(imported(capsys, tmp_path, central_url, "assets", str(tagged))) == (0, 1, 0)
    # Without a tag again, the serial finds it and the tag is kept.
    renamed = tmp_path / "renamed.csv"
    renamed.write_text("Serial,Asset Name\nSN-77,LAB-PC-77B\n", encoding="utf-8")
    assert counts(imported(capsys, tmp_path, central_url, "assets", str(renamed))) == (0, 1, 0)
    rows = [r for r in snapshot(central_url)["assets"] if r["serial"] == "SN-77"]
    assert [(r["tag"], r["hostname"]) for r in rows] == [("WA-7777", "LAB-PC-77B")]


def test_only_admins_may_import_and_the_row_security_lets_an_admin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    with admin_session(central_url, Role.ADMIN, "enrol technicians") as session:
        for login, role in (("eve.agent", Role.AGENT), ("ada.admin", Role.ADMIN)):
            tech = Technician(login, login.title(), 1, role, (), f"{login}@agency.example")
            add_technician(session, tech, f"{login}-s3cret-pass")

    def signed_in(login: str) -> str:
        url = make_url(central_url).set(username=login, password=f"{login}-s3cret-pass")
        return url.render_as_string(hide_password=False)

    before = snapshot(central_url)
    users = str(CSV / "glpi_users.csv")
    code, _, err = wb(capsys, tmp_path, "requesters", users, "--url", signed_in("eve.agent"))
    assert code == 1
    assert err.strip() == (
        "workbench: error: only an admin may import requesters; eve.agent is a agent"
    )
    assert snapshot(central_url) == before
    # An admin signs in with her own login role, under row-level security: the rows carry
    # her name, as the policies require.
    imported(
        capsys, tmp_path, signed_in("ada.admin"), "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone",
    )  # fmt: skip
    people = imported(capsys, tmp_path, signed_in("ada.admin"), "requesters", users)
    assert counts(people) == (3, 0, 1)
    written = [r for r in snapshot(central_url)["requesters"] if r["id"] != REQUESTER.id]
    assert {r["changed_by"] for r in written} == {"ada.admin"}


def test_a_directory_import_deactivates_who_left_and_deletes_no_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, central_url: str
) -> None:
    imported(
        capsys, tmp_path, central_url, "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone",
    )  # fmt: skip
    imported(capsys, tmp_path, central_url, "requesters", str(CSV / "glpi_users.csv"))
    directory = [RequesterRecord(REQUESTER.email.upper(), REQUESTER.name, site=SITE.id)]
    with admin_session(central_url, Role.ADMIN, "import the directory") as session:
        report = upsert_requesters(
            session,
            directory,
            deactivate_missing=True,
            fields=("email", "name", "site", "active"),
            source="ldaps://dc1.agency.example",
        )
    # Dana's address changes case only; Jürgen and the kiosk leave; Zoë was inactive already.
    assert (report.new, report.changed, report.unchanged, report.deactivated) == (0, 1, 0, 2)
    rows = snapshot(central_url)
    active = {r["email"].casefold(): r["active"] for r in rows["requesters"]}
    assert active == {
        REQUESTER.email: 1,
        "juergen.mueller@agency.example": 0,
        "zoe.odegard@agency.example": 0,
        "kiosk.lobby@agency.example": 0,
    }
    assert rows["audit"][-1] == (
        "imported requesters from ldaps://dc1.agency.example: 0 new, 1 changed, 0 unchanged, "
        "2 deactivated"
    )


def test_caches_pull_what_was_imported(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    central_url: str,
    laptops: Callable[..., Laptop],
) -> None:
    laptop = laptops("ana.lopez")
    imported(
        capsys, tmp_path, central_url, "sites", str(CSV / "glpi_locations.csv"),
        "--map", "Comments=timezone",
    )  # fmt: skip
    imported(capsys, tmp_path, central_url, "requesters", str(CSV / "snipeit_users.csv"))
    imported(capsys, tmp_path, central_url, "assets", str(CSV / "snipeit_assets.csv"))
    report = laptop.sync()
    assert report.pulled >= 3 + 3 + 2
    with laptop.store.read() as db:
        francois = db.requester_by_key("francois.lefevre@agency.example")
        assert (francois.name, francois.site_id) == ("François Lefèvre", "site-z-rich-b-ro")
        assert db.requester_by_key(REQUESTER.email).phone == "360-555-0150"
        assert db.asset_by_key("WA-004610").owner_id == francois.id
