"""`workbench doctor` through a real subprocess: what it reports, in text and JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.test_cli import new_args, ok_json, workbench
from workbench.store import Store, sync_state
from workbench.store.database import DB_FILENAME, HEAD

SECRET = "Tr0ub4dor&3"


def test_doctor_reports_a_sound_cache_and_exits_0(store: Store, data_dir: Path) -> None:
    with store.write() as tx:  # a URL with its password, as no login would keep it
        sync_state.set_login(tx, f"postgresql://ana:{SECRET}@central.example/helpdesk", "ana.lopez")
    store.close()
    ok_json(data_dir, *new_args("Kiosk dead", "hardware", "3", "3"))
    result = workbench(data_dir, "doctor", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["ok"] is True and found["problems"] == [] and found["advice"] is None
    assert found["data_dir"] == str(data_dir) and found["cache"] == str(data_dir / DB_FILENAME)
    assert (found["revision"], found["integrity"], found["unsent"]) == (HEAD, "ok", 2)
    assert found["central"]["technician"] == "ana.lopez"
    assert "central.example" in found["central"]["url"] and SECRET not in result.stdout
    assert found["secrets"]  # which backend keeps the secrets, in words
    assert found["open_now"] == 0 and found["size_bytes"] > 0

    text = workbench(data_dir, "doctor")
    assert text.returncode == 0, text.stderr
    for label in ("Data directory", "Cache", "Integrity", "Unsent changes", "Central", "Secrets"):
        assert label in text.stdout
    assert f"revision {HEAD}" in text.stdout and "as ana.lopez" in text.stdout
    assert SECRET not in text.stdout and "Problem" not in text.stdout


def test_doctor_on_a_new_data_dir_finds_nothing_wrong(tmp_path: Path) -> None:
    result = workbench(tmp_path / "new", "doctor", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["integrity"], found["unsent"], found["central"]) == ("no cache yet", 0, None)
    assert not (tmp_path / "new" / DB_FILENAME).exists()  # looking creates no cache


def test_doctor_names_each_problem_and_what_to_do(store: Store, data_dir: Path) -> None:
    store.close()
    cache = data_dir / DB_FILENAME
    with sqlite3.connect(cache) as db:
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'requesters'"
        ).fetchone()
    with cache.open("r+b") as handle:  # junk over the requesters' page
        handle.seek((root - 1) * 4096)
        handle.write(b"\xff" * 4096)
    result = workbench(data_dir, "doctor")
    assert result.returncode == 1
    assert "Problem: " in result.stdout and "What to do: " in result.stdout
    assert "no central database is configured to rebuild from" in result.stdout
    assert (
        "Traceback" not in result.stderr + result.stdout and "internal error" not in result.stderr
    )
