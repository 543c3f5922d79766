"""`--as LOGIN` and `whoami --set LOGIN` follow one rule, and a command that records an actor
says how to set one (issue 13, first run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.workbench import AGENT, FIELD
from workbench.cli import run
from workbench.store import Store, sync_state


def wb(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str]:
    code = run(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out + err


NOTE = ("ticket", "new", "--title", "Mouse", "--category", "hardware", "--impact", "3",
        "--urgency", "3")  # fmt: skip


def test_an_empty_cache_takes_any_login_both_ways(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, said = wb(capsys, tmp_path, *NOTE)
    assert code == 2 and "no technician is set" in said and "workbench login" in said
    assert wb(capsys, tmp_path, "--as", "alice", *NOTE)[0] == 0
    assert wb(capsys, tmp_path, "whoami", "--set", "alice")[0] == 0
    assert wb(capsys, tmp_path, *NOTE)[0] == 0  # as alice now


def test_a_cache_with_technicians_takes_only_its_own_both_ways(
    capsys: pytest.CaptureFixture[str], data_dir: Path, store: Store
) -> None:
    store.close()  # the fixture's cache knows AGENT, FIELD and LEAD
    for args in (("--as", "mallory", *NOTE), ("whoami", "--set", "mallory")):
        code, said = wb(capsys, data_dir, *args)
        assert code == 2 and "no technician with login 'mallory'" in said
    assert wb(capsys, data_dir, "--as", FIELD.login, *NOTE)[0] == 0
    assert wb(capsys, data_dir, "whoami", "--set", FIELD.login)[0] == 0


def test_a_signed_in_cache_works_only_as_its_technician_both_ways(
    capsys: pytest.CaptureFixture[str], data_dir: Path, store: Store
) -> None:
    with store.write() as tx:
        sync_state.set_login(tx, "postgresql://ana.lopez@db.example/helpdesk", AGENT.login)
    store.close()
    for args in (("--as", FIELD.login, *NOTE), ("whoami", "--set", FIELD.login)):
        code, said = wb(capsys, data_dir, *args)
        assert code == 2 and f"signs in to the central database as {AGENT.login!r}" in said
    assert wb(capsys, data_dir, "--as", AGENT.login, *NOTE)[0] == 0
    code, said = wb(capsys, data_dir, "whoami")
    assert code == 0 and AGENT.login in said
