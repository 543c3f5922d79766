"""Standing up a help desk from nothing, through the command line only (issue 13, "done
means"): an empty central database, two technicians enrolled, sites, requesters from a GLPI
export and assets from a Snipe-IT export, two laptops signed in with their own passwords,
work offline on both, sync, and each sees the other's work."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support.keyrings import JsonFileKeyring
from workbench.cli import run

pytestmark = pytest.mark.services

CSV = Path(__file__).parents[2] / "support" / "csv"


def wb(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    *args: str,
    stdin: str = "",
) -> Any:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = run(["--data-dir", str(data_dir), *args, *([] if args[0] == "login" else ["--json"])])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out) if args[0] != "login" else out


def test_a_help_desk_stands_up_from_an_empty_central_database(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    pg_database: str,
    file_keyring: JsonFileKeyring,
) -> None:
    owner, admin_dir = pg_database, tmp_path / "admin"
    assert wb(capsys, monkeypatch, admin_dir, "central", "init", "--url", owner)["revision"]
    wb(capsys, monkeypatch, admin_dir, "central", "import", "sites",
       str(CSV / "glpi_locations.csv"), "--map", "Comments=timezone", "--url", owner)  # fmt: skip
    passwords = {}
    for login, tier, role in (("ana.lopez", "1", "agent"), ("ben.okafor", "2", "field")):
        added = wb(
            capsys, monkeypatch, admin_dir, "central", "technician", "add", login,
            "--name", login.replace(".", " ").title(), "--email", f"{login}@agency.example",
            "--tier", tier, "--role", role, "--site", "Olympia HQ", "--url", owner,
        )  # fmt: skip
        passwords[login] = added["technician"]["password"]
    requesters = wb(capsys, monkeypatch, admin_dir, "central", "import", "requesters",
                    str(CSV / "glpi_users.csv"), "--url", owner)  # fmt: skip
    # People GLPI does not know (Snipe-IT's users) come in as well; Dana is in both.
    more = wb(capsys, monkeypatch, admin_dir, "central", "import", "requesters",
              str(CSV / "snipeit_users.csv"), "--url", owner)  # fmt: skip
    assert more["new"] > 0 and more["changed"] + more["unchanged"] > 0
    assets = wb(capsys, monkeypatch, admin_dir, "central", "import", "assets",
                str(CSV / "snipeit_assets.csv"), "--url", owner)  # fmt: skip
    assert requesters["new"] > 0 and requesters["refused"] == []
    assert assets["new"] > 0 and assets["refused"] == []

    laptops = {}
    for login, password in passwords.items():
        data_dir = tmp_path / login
        url = make_url(owner).set(username=login).render_as_string()
        wb(capsys, monkeypatch, data_dir, "login", "--central", url, "--technician", login,
           "--password-stdin", stdin=password + "\n")  # fmt: skip
        assert wb(capsys, monkeypatch, data_dir, "sync")["pulled"] > 0
        laptops[login] = data_dir
    assert len(file_keyring.entries()) == 2  # each password in the keyring, nowhere else
    for data_dir in laptops.values():
        for path in data_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert not any(p.encode() in data for p in passwords.values()), path

    # Offline: Ana records a call about Dana's laptop; Ben notes a bench repair.
    ana, ben = laptops["ana.lopez"], laptops["ben.okafor"]
    made = wb(capsys, monkeypatch, ana, "ticket", "new", "--title", "Laptop will not charge",
              "--category", "hardware", "--impact", "3", "--urgency", "2",
              "--requester", "dana.whitfield@agency.example", "--asset", "WA-004217",
              "--assignee", "ben.okafor")  # fmt: skip
    provisional = made["ticket"]["ref"]
    assert provisional.startswith("P-")
    assert wb(capsys, monkeypatch, ana, "sync")["pushed"] > 0
    assert wb(capsys, monkeypatch, ben, "sync")["pulled"] > 0
    shown = wb(capsys, monkeypatch, ben, "ticket", "show", made["ticket"]["id"])
    number = shown["ticket"]["number"]
    assert number.startswith("HD-") and shown["asset"]["serial"] == "5CD2143XKQ"
    wb(capsys, monkeypatch, ben, "ticket", "note", number, "Replaced the charging port")
    wb(capsys, monkeypatch, ben, "sync")
    wb(capsys, monkeypatch, ana, "sync")
    seen = wb(capsys, monkeypatch, ana, "ticket", "show", provisional)  # the old ref still finds it
    notes = [(e["author"], e["text"]) for e in seen["worklog"]]
    assert ("ben.okafor", "Replaced the charging port") in notes
    # Ana's cache cannot speak for Ben.
    capsys.readouterr()
    code = run(["--data-dir", str(ana), "--as", "ben.okafor", "ticket", "note", number, "x"])
    refused = capsys.readouterr().err
    assert code == 2 and "signs in to the central database as 'ana.lopez'" in refused
