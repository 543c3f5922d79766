"""The central password is kept per cache, and stored only once it signed in: two data
directories of one technician against the real PostgreSQL, through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.integration.sync.conftest import Laptop
from tests.support.keyrings import JsonFileKeyring
from workbench.core.errors import WorkbenchError
from workbench.core.models import Role
from workbench.store import Store
from workbench.sync import admin, central
from workbench.sync.client import Synchronizer

pytestmark = pytest.mark.services

LOGIN = "ana.lopez"
PASSWORD = "ana-Pa55-word-kept"
TYPO = "ana-Pa55-wrod-kept"


def workbench(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), *args],
        input=stdin, capture_output=True, text=True, timeout=90, check=False,
        start_new_session=True, env=dict(os.environ),
    )  # fmt: skip


def one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), result.stderr
    return lines[0]


def syncs(data_dir: Path) -> bool:
    result = workbench(data_dir, "sync", "--json")
    assert PASSWORD not in result.stdout + result.stderr
    return result.returncode == 0 and "pushed" in json.loads(result.stdout)


def own_account(data_dir: Path, url: str) -> str:
    store = Store.open(data_dir)
    try:
        with store.read() as db:
            key = central.cache_key(db)
    finally:
        store.close()
    assert key
    return central.keyring_account(central.parse_url(url), key)


@pytest.fixture
def ana_url(central_url: str) -> str:
    """The central URL as Ana's own login role (SCRAM), without a password."""
    with admin.admin_session(central_url, Role.ADMIN, "enrol") as session:
        admin.edit_technician(session, LOGIN, {}, PASSWORD)
    return make_url(central_url).set(username=LOGIN).render_as_string()


def test_a_mistyped_password_in_one_cache_leaves_the_other_syncing(
    tmp_path: Path, ana_url: str, profile_keyring: JsonFileKeyring
) -> None:
    desk, laptop = tmp_path / "desk", tmp_path / "laptop"
    login = ("login", "--central", ana_url, "--technician", LOGIN, "--password-stdin")
    for data_dir in (desk, laptop):
        signed_in = workbench(data_dir, *login, stdin=PASSWORD + "\n")
        assert signed_in.returncode == 0, signed_in.stderr
        assert syncs(data_dir)
    entries = profile_keyring.entries()
    accounts = {own_account(desk, ana_url), own_account(laptop, ana_url)}
    assert len(accounts) == 2  # one entry each, none shared
    assert entries == {f"{central.KEYRING_SERVICE}/{a}": PASSWORD for a in accounts}

    # A typo at a new login on the laptop: refused before anything is stored.
    before = profile_keyring.path.read_bytes()
    typo = one_line(workbench(laptop, *login, stdin=TYPO + "\n"), 1)
    assert f"wrong password for {LOGIN}" in typo and "nothing was changed" in typo
    assert TYPO not in typo
    assert profile_keyring.path.read_bytes() == before
    assert syncs(desk) and syncs(laptop)

    # Even a wrong password in the laptop's entry (say, set by hand) breaks only the laptop.
    profile_keyring.set_password(central.KEYRING_SERVICE, own_account(laptop, ana_url), TYPO)
    failed = one_line(workbench(laptop, "sync"), 1)
    assert f"wrong password for {LOGIN}" in failed and TYPO not in failed
    assert syncs(desk)
    # Logging in again with the right one repairs it.
    assert workbench(laptop, *login, stdin=PASSWORD + "\n").returncode == 0
    assert syncs(laptop) and syncs(desk)

    # Neither password is in a cache, its WAL or its log.
    for data_dir in (desk, laptop):
        for path in data_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert PASSWORD.encode() not in data and TYPO.encode() not in data, path


def test_a_cache_logged_in_before_reads_the_shared_entry(
    laptops: Callable[..., Laptop], ana_url: str, file_keyring: JsonFileKeyring
) -> None:
    # A cache from before per-cache entries: logged in, but with no key of its own.
    laptop = laptops(LOGIN)
    old_style = Synchronizer(laptop.store, ana_url, LOGIN)
    with pytest.raises(WorkbenchError, match="no password supplied|wrong password"):
        old_style.sync()
    shared = central.keyring_account(central.parse_url(ana_url))
    file_keyring.set_password(central.KEYRING_SERVICE, shared, PASSWORD)
    assert old_style.sync().client_id
