"""`workbench recipe import`: all or nothing, then the imported recipe is the one in effect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_remote_cli import one_line_error, wb
from tests.support.recipes import BROKEN_HELLO, HELLO_ID, HELLO_RECIPE
from workbench.store import Store
from workbench.store import recipes as recipe_store


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def _listed(capsys: pytest.CaptureFixture[str], cache: Path) -> dict[str, str]:
    code, out, err = wb(capsys, cache, "recipe", "list", "--json")
    assert code == 0, err
    return {r["id"]: r["origin"] for r in json.loads(out)["recipes"]}


def test_an_invalid_file_refuses_the_import_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], cache: Path, tmp_path: Path
) -> None:
    good, bad = tmp_path / "hello.yaml", tmp_path / "broken.yaml"
    good.write_text(HELLO_RECIPE, encoding="utf-8")
    bad.write_text(BROKEN_HELLO.replace(HELLO_ID, "site.broken"), encoding="utf-8")
    before = _listed(capsys, cache)

    result = wb(capsys, cache, "recipe", "import", str(good), str(bad))
    out = result[1]
    one_line_error(result, 2, "nothing imported: 3 problems")
    assert f"{bad}:3:11: 'protocol' must be one of ssh, winrm, not 'telnet'" in out
    assert f"{bad}:7:9: script line 1: unknown parameter {{{{nobody}}}}" in out
    assert _listed(capsys, cache) == before and HELLO_ID not in before
    store = Store.open(cache)
    with store.read() as db:
        assert recipe_store.stored_recipes(db) == [] and db.outbox() == ()
    store.close()


def test_an_imported_recipe_is_listed_from_the_cache_and_runs_from_there(
    capsys: pytest.CaptureFixture[str], cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hello.yaml"
    path.write_text(HELLO_RECIPE, encoding="utf-8")
    code, out, err = wb(capsys, cache, "recipe", "import", str(path))
    assert (code, out) == (0, f"{HELLO_ID}: imported ({path})\n"), err
    listed = _listed(capsys, cache)
    assert listed[HELLO_ID] == "cache" and listed["linux.diagnostics"] == "library"
    code, out, _ = wb(capsys, cache, "recipe", "show", HELLO_ID, "--json")
    assert json.loads(out)["script"] == "echo hello {{name}}"
    # `remote run` finds it: its parameters are checked before any connection is tried.
    one_line_error(
        wb(capsys, cache, "remote", "run", HELLO_ID, "--host", "127.0.0.1"),
        2,
        f"recipe {HELLO_ID} needs the parameter 'name'",
    )
