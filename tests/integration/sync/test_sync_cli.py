"""The sync commands in-process against a real PostgreSQL: JSON shapes, errors, the keyring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support.keyrings import JsonFileKeyring
from workbench.cli import run
from workbench.store import Store, sync_state
from workbench.sync import central

pytestmark = pytest.mark.services

SECRET = "s3cret-Pa55word"


def wb(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = run(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def ok_json(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> Any:
    code, out, err = wb(capsys, data_dir, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _with_secret(url: str, in_query: bool = False) -> str:
    """The URL with the password, as its user part or as libpq's query option."""
    if in_query:
        return make_url(url).update_query_dict({"password": SECRET}).render_as_string()
    return make_url(url).set(password=SECRET).render_as_string(hide_password=False)


def test_init_login_sync_status_and_conflicts(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    central_url: str,
    file_keyring: JsonFileKeyring,
) -> None:
    first = ok_json(capsys, tmp_path, "central", "init", "--url", central_url)
    again = ok_json(capsys, tmp_path, "central", "init", "--url", central_url)  # safe to rerun
    assert first["revision"] == again["revision"] == "c0004"

    ana_dir, ben_dir = tmp_path / "ana", tmp_path / "ben"
    # Ana keeps the default scope (her tickets and tier 1's queue); Ben, in tier 2, takes all
    # to see her tier-1 ticket.
    for data_dir, who, scope in ((ana_dir, "ana.lopez", []), (ben_dir, "ben.okafor", ["all"])):
        code, out, err = wb(
            capsys, data_dir, "login", "--central", _with_secret(central_url, who == "ben.okafor"),
            "--technician", who, *[f"--scope={s}" for s in scope],
        )  # fmt: skip
        assert code == 0, err
        assert ok_json(capsys, data_dir, "status")["scope"] == (scope or ["mine"])[0]
        assert SECRET not in out + err
        for written in data_dir.iterdir():  # the cache, its WAL, the log
            assert SECRET.encode() not in written.read_bytes(), written
        ok_json(capsys, data_dir, "sync")  # brings the reference data
    # One entry per cache, none shared by both.
    shared = central.keyring_account(central.parse_url(central_url))
    assert file_keyring.get_password(central.KEYRING_SERVICE, shared) is None
    assert list(file_keyring.entries().values()) == [SECRET, SECRET]

    created = ok_json(
        capsys, ana_dir, "ticket", "new", "--title", "Kiosk", "--category", "hardware",
        "--impact", "3", "--urgency", "3",
    )  # fmt: skip
    ticket_id = created["ticket"]["id"]
    assert ok_json(capsys, ana_dir, "status")["pending"] == 2
    report = ok_json(capsys, ana_dir, "sync")
    assert (report["pushed"], report["conflicts"]) == (2, 0)
    assert report["duration_s"] >= 0 and not report["clock_flagged"]
    status = ok_json(capsys, ana_dir, "status")
    assert status["pending"] == 0 and status["cursor"] == report["cursor"] > 0
    assert status["last_sync"] is not None and status["client_id"] == report["client_id"]

    ok_json(capsys, ben_dir, "sync")
    ok_json(capsys, ana_dir, "ticket", "update", ticket_id, "--title", "Kiosk frozen")
    ok_json(capsys, ben_dir, "ticket", "update", ticket_id, "--title", "Kiosk rebooting")
    ok_json(capsys, ana_dir, "sync")
    assert ok_json(capsys, ben_dir, "sync")["conflicts"] == 1

    (conflict,) = ok_json(capsys, ben_dir, "conflicts", "list")["conflicts"]
    assert (conflict["their_value"], conflict["mine_value"]) == ("Kiosk frozen", "Kiosk rebooting")
    code, _, err = wb(capsys, ben_dir, "conflicts", "resolve", "999", "--keep", "mine")
    assert code == 2 and "no conflict 999" in err
    code, _, err = wb(
        capsys, ben_dir, "conflicts", "resolve", str(conflict["id"]), "--keep", "theirs"
    )
    assert code == 0, err
    ok_json(capsys, ben_dir, "sync")
    ok_json(capsys, ana_dir, "sync")
    for data_dir in (ana_dir, ben_dir):
        assert ok_json(capsys, data_dir, "conflicts", "list")["conflicts"] == []
        shown = ok_json(capsys, data_dir, "ticket", "show", ticket_id)
        assert shown["ticket"]["title"] == "Kiosk frozen"


def test_sync_without_login_is_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = wb(capsys, tmp_path, "sync")
    assert code == 2 and "workbench login" in err


def test_unreachable_server_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, unused_tcp_port_url: str
) -> None:
    code, out, err = wb(
        capsys, tmp_path, "login", "--central", unused_tcp_port_url, "--technician", "ana.lopez"
    )
    assert code == 1 and "central database" in err and SECRET not in err + out
    store = Store.open(tmp_path)
    with store.read() as db:  # the refused login stored nothing
        assert sync_state.state(db).central_url is None
    with store.write() as tx:  # as if the server went away after a good login
        sync_state.set_login(tx, unused_tcp_port_url, "ana.lopez")
    store.close()
    code, out, err = wb(capsys, tmp_path, "sync")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "central database" in lines[0] and "Traceback" not in err + out
    assert SECRET not in err + out


@pytest.fixture
def unused_tcp_port_url() -> str:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://ana:{SECRET}@127.0.0.1:{port}/nowhere?connect_timeout=3"
