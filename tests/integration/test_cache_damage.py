"""A damaged cache, an unclean shutdown and a full disk, through the real CLI: one line that
says what is wrong and what to do, no "internal error", nothing changed or lost."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_one_line_error, new_args, ok_json, workbench
from tests.support.services import require_or_skip
from workbench.store import Store
from workbench.store.database import DB_FILENAME, HEAD

PAGE = 4096


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    """A cache with demo tickets, closed cleanly."""
    data_dir = tmp_path / "data"
    ok_json(data_dir, "demo", "seed", "--tickets", "300")
    return data_dir


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spoil(path: Path, page: int, pages: int = 1) -> None:
    """Overwrite whole pages with junk (a bad sector, a half-copied file)."""
    with path.open("r+b") as handle:
        handle.seek(page * PAGE)
        handle.write(bytes(range(256)) * (PAGE * pages // 256))


def _middle_page(path: Path) -> int:
    return path.stat().st_size // PAGE // 2


def _root_page(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return (
            int(
                db.execute(
                    "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
                ).fetchone()[0]
            )
            - 1
        )


def _sqlite(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for statement in statements:
        db.execute(statement)
    db.commit()
    db.close()


def _doctor(data_dir: Path) -> tuple[int, dict[str, object]]:
    result = workbench(data_dir, "doctor", "--json")
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def test_a_damaged_page_is_named_where_it_is_read_and_by_doctor(seeded: Path) -> None:
    cache = seeded / DB_FILENAME
    _spoil(cache, _root_page(cache, "tickets"))
    before = _digest(cache)
    for args in (["ticket", "list"], ["ticket", "show", "HD-000001"], ["search", "printer"]):
        assert_one_line_error(
            workbench(seeded, *args), 1, "is damaged (database disk image is malformed)"
        )
    code, found = _doctor(seeded)
    assert code == 1 and found["ok"] is False and found["integrity"] != "ok"
    assert "no central database is configured" in str(found["advice"])
    assert _digest(cache) == before


def test_a_damaged_middle_page_stops_a_sync_before_it_sends(seeded: Path) -> None:
    ok_json(seeded, *new_args("Kiosk dead", "hardware", "3", "3"))
    cache = seeded / DB_FILENAME
    _spoil(cache, _middle_page(cache), 4)
    before = _digest(cache)
    code, found = _doctor(seeded)
    assert code == 1 and found["unsent"] == 2 and found["integrity"] != "ok"
    store = Store.open(seeded)  # a clean shutdown: not checked at open (cheap), but before a push
    try:
        with pytest.raises(Exception, match="damaged .*found before sending 2 unsent change"):
            store.check_before_push()
    finally:
        store.close()
    assert _digest(cache) == before


@pytest.mark.parametrize(
    "wal",
    [
        os.urandom(100_000),  # junk
        # A log header of SQLite's shape whose checksum is wrong (a bit flipped on disk).
        (0x377F0682).to_bytes(4, "big")
        + (3007000).to_bytes(4, "big")
        + bytes(24)
        + os.urandom(PAGE),
    ],
    ids=["junk", "bad-checksum"],
)
def test_a_junk_write_ahead_log_is_refused_and_left_alone(seeded: Path, wal: bytes) -> None:
    log = seeded / f"{DB_FILENAME}-wal"
    log.write_bytes(wal)
    assert_one_line_error(workbench(seeded, "ticket", "list"), 1, f"{DB_FILENAME}-wal beside it")
    assert_one_line_error(
        workbench(seeded, *new_args("X", "hardware", "3", "3")),
        1,
        "move workbench.sqlite3-wal aside",
    )
    code, found = _doctor(seeded)
    assert code == 1 and "move workbench.sqlite3-wal aside" in str(found["advice"])
    assert log.read_bytes() == wal  # SQLite would have reset it: it was never opened
    log.unlink()
    assert ok_json(seeded, "ticket", "list")["total"] == 300


def test_a_directory_in_place_of_the_cache(tmp_path: Path) -> None:
    (tmp_path / DB_FILENAME).mkdir()
    assert_one_line_error(
        workbench(tmp_path, "ticket", "list"), 1, "is a directory, not a Workbench cache"
    )
    code, found = _doctor(tmp_path)
    assert code == 1 and "move it away" in str(found["advice"])
    assert (tmp_path / DB_FILENAME).is_dir()


@pytest.mark.parametrize(
    ("craft", "said"),
    [
        # Says 0003, holds the tables of the head: the migration cannot create them again.
        (["UPDATE alembic_version SET version_num = '0003'"], "not those of revision 0003"),
        (
            ["UPDATE alembic_version SET version_num = '0005'", "DROP TABLE tree_runs"],
            "not those of revision 0005",
        ),
        (["DROP TABLE worklog"], f"tables missing: worklog, although it says revision {HEAD}"),
        (["ALTER TABLE requesters DROP COLUMN phone"], "table requesters lacks columns phone"),
        (["DROP TABLE ticket_fts"], "tables missing: ticket_fts"),
        (["UPDATE alembic_version SET version_num = '9999'"], "newer than this Workbench knows"),
    ],
    ids=[
        "old-with-head-tables",
        "old-missing-table",
        "head-missing-table",
        "missing-column",
        "no-index",
        "newer",
    ],
)
def test_a_hand_crafted_revision_is_refused_unchanged(
    seeded: Path, craft: list[str], said: str
) -> None:
    cache = seeded / DB_FILENAME
    _sqlite(cache, *craft)
    with sqlite3.connect(cache) as db:
        before = db.execute("SELECT version_num FROM alembic_version").fetchone()
    for args in (["ticket", "list"], new_args("X", "hardware", "3", "3")):
        assert_one_line_error(workbench(seeded, *args), 1, said)
    with sqlite3.connect(cache) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == before
        assert db.execute("SELECT count(*) FROM tickets").fetchone() == (300,)
    assert not list(seeded.glob("*.bak"))  # a failed migration leaves no copy per try


_OPEN_WRITE_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from workbench.store import Store
    store = Store.open(Path(sys.argv[1]))
    with store.write() as tx:
        tx.set_meta("written_before_the_kill", "yes")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _killed_while_open(data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _OPEN_WRITE_AND_DIE, str(data_dir)], check=False, timeout=60
    )
    assert result.returncode == -9
    assert list(data_dir.glob(f"{DB_FILENAME}.open-*")), "the killed process left its marker"


def test_after_an_unclean_shutdown_a_sound_cache_is_checked_and_opens(seeded: Path) -> None:
    _killed_while_open(seeded)
    assert ok_json(seeded, "ticket", "list")["total"] == 300
    assert "not closed cleanly: checking it" in (seeded / "workbench.log").read_text()
    with sqlite3.connect(seeded / DB_FILENAME) as db:  # the committed write survived the kill
        assert db.execute(
            "SELECT value FROM meta WHERE key = 'written_before_the_kill'"
        ).fetchone() == ("yes",)
    assert not list(seeded.glob(f"{DB_FILENAME}.open-*")), "checked: the stale marker is gone"


def test_after_an_unclean_shutdown_damage_is_found_at_open_every_time(seeded: Path) -> None:
    _killed_while_open(seeded)
    cache = seeded / DB_FILENAME
    _spoil(cache, _middle_page(cache), 4)
    for _ in range(2):  # found again: the stale marker stays until a check passes
        assert_one_line_error(
            workbench(seeded, "ticket", "list"), 1, "damaged (found after an unclean shutdown"
        )


def _mounted(point: Path, size: str) -> bool:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB file system of its own, to fill up."""
    point = tmp_path / "tiny"
    point.mkdir()
    if os.geteuid() != 0 or not _mounted(point, "4m"):
        require_or_skip("a tmpfs of its own needs root (mount -t tmpfs)")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(bytes(PAGE))
        except OSError:  # no space left on device
            pass
    return filler


def test_a_full_disk_says_so_for_writes_and_reads_and_loses_nothing(tiny_disk: Path) -> None:
    data_dir = tiny_disk / "data"
    ok_json(data_dir, "demo", "seed", "--tickets", "50")
    filler = _fill(tiny_disk)
    full = "the disk holding"
    assert_one_line_error(
        workbench(data_dir, "ticket", "note", "HD-000010", "on a full disk"), 1, full
    )
    for args in (["ticket", "list"], ["ticket", "show", "HD-000010"], ["search", "printer"]):
        result = workbench(data_dir, *args)
        assert_one_line_error(result, 1, "is full")
        assert (
            "nothing in the cache was lost" in result.stderr
            and "cannot be read" not in result.stderr
        )
    code, found = _doctor(data_dir)
    assert code == 1 and "free some space" in str(found["advice"])
    filler.unlink()
    # Writes until the disk is full again, each whole or not at all.
    created, description = 0, "x" * 60_000
    for _ in range(100):
        result = workbench(
            data_dir, *new_args("Big", "hardware", "3", "3"), "--description", description
        )
        if result.returncode != 0:
            assert_one_line_error(result, 1, full)
            break
        created += 1
    else:
        pytest.fail("the disk never filled up")
    assert created > 0
    filler = _fill(tiny_disk)
    filler.unlink()
    listed = ok_json(data_dir, "ticket", "list", "--limit", "500")
    assert listed["total"] == 50 + created
    assert (
        ok_json(data_dir, "ticket", "show", "HD-000010")["worklog"][-1]["text"] != "on a full disk"
    )
