"""The recipe library in effect: shipped recipes plus the cache's, the cache's checked again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.support.recipes import (
    BROKEN_HELLO,
    HELLO_ID,
    HELLO_RECIPE,
    HELLO_TREE,
    HELLO_TREE_ID,
    sh_output,
)
from tests.support.workbench import Clock
from workbench.core.errors import BadInput
from workbench.remote.recipes import RECIPES_DIR, RecipeError, parse_recipe
from workbench.services.recipes import RecipeService, digest, library_for
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store import recipes as recipe_store
from workbench.trees.recipes import catalog_of
from workbench.trees.service import TreeService

DIAGNOSTICS = RECIPES_DIR / "linux.diagnostics.yaml"


@pytest.fixture
def recipes(store: Store, clock: Clock) -> RecipeService:
    return RecipeService(store, RECIPES_DIR, clock)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _store_row(store: Store, recipe_id: str, source: str, clock: Clock) -> None:
    """A row as a pull leaves it: whatever another cache (or anyone with the database) sent."""
    with store.write() as tx:
        recipe_store.save_recipe(
            tx,
            recipe_store.StoredRecipe(
                recipe_id, "From elsewhere", "ssh", "sh", source, digest(source), clock()
            ),
        )


def test_an_import_is_stored_queued_for_sync_and_in_effect(
    recipes: RecipeService, store: Store, tmp_path: Path
) -> None:
    path = _write(tmp_path, "hello.yaml", HELLO_RECIPE)
    assert [(r.id, result) for r, result in recipes.import_files([path])] == [
        (HELLO_ID, "imported")
    ]
    with store.read() as db:
        stored = recipe_store.stored_recipe(db, HELLO_ID)
        (op,) = db.outbox()
    assert stored is not None and stored.source == HELLO_RECIPE
    assert (stored.protocol, stored.shell, stored.digest) == ("ssh", "sh", digest(HELLO_RECIPE))
    assert (op.entity, op.entity_id, op.op, op.fields["source"]) == (
        "recipe", HELLO_ID, "insert", HELLO_RECIPE,
    )  # fmt: skip
    found = library_for(store).get(HELLO_ID)
    assert sh_output(found.render({"name": "ana"}).command) == "hello ana\n"
    origins = {i.id: i.origin for i in recipes.infos()}
    assert origins[HELLO_ID] == "cache" and origins["linux.diagnostics"] == "library"

    # Again unchanged: nothing queued; changed: an update of the same row.
    assert recipes.import_files([path])[0][1] == "unchanged"
    _write(tmp_path, "hello.yaml", HELLO_RECIPE.replace("Say hello", "Greet"))
    assert recipes.import_files([path])[0][1] == "updated"
    with store.read() as db:
        assert [o.op for o in db.outbox()] == ["insert", "update"]
    assert library_for(store).get(HELLO_ID).title == "Greet"


def test_a_stored_recipe_wins_over_the_shipped_one_of_its_id(
    recipes: RecipeService, tmp_path: Path
) -> None:
    changed = DIAGNOSTICS.read_text(encoding="utf-8").replace("echo", "printf '%s\\n'", 1)
    assert changed != DIAGNOSTICS.read_text(encoding="utf-8")
    recipes.import_files([_write(tmp_path, "diag.yaml", changed)])
    used = recipes.library().get("linux.diagnostics")
    assert used.script == parse_recipe(changed, Path("x")).script
    assert [i.origin for i in recipes.infos() if i.id == "linux.diagnostics"] == ["cache"]


def test_one_invalid_file_refuses_the_whole_import(
    recipes: RecipeService, store: Store, tmp_path: Path
) -> None:
    good = _write(tmp_path, "hello.yaml", HELLO_RECIPE)
    bad = _write(tmp_path, "broken.yaml", BROKEN_HELLO.replace(HELLO_ID, "site.broken"))
    twin = _write(tmp_path, "twin.yaml", HELLO_RECIPE)
    with pytest.raises(RecipeError) as refused:
        recipes.import_files([good, bad, twin])
    assert isinstance(refused.value, BadInput)
    problems = refused.value.problems
    assert f"{bad}:3:11: 'protocol' must be one of ssh, winrm, not 'telnet'" in problems
    assert any(p.startswith(f"{twin}: id 'site.hello' is also used by {good}") for p in problems)
    with store.read() as db:
        assert recipe_store.stored_recipes(db) == [] and db.outbox() == ()


def test_a_stored_recipe_that_does_not_validate_is_never_used(
    recipes: RecipeService,
    store: Store,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _store_row(store, HELLO_ID, BROKEN_HELLO, clock)
    # A row whose YAML names another id would run under a name it does not have.
    _store_row(store, "linux.diagnostics", HELLO_RECIPE, clock)
    _store_row(store, "site.nul", "id: site.nul\x00\n", clock)
    with caplog.at_level(logging.WARNING, logger="workbench.services.recipes"):
        library = recipes.library()
        recipes.library()  # read again: the warning is not repeated

    with pytest.raises(BadInput, match=r"'site.hello' in the cache is invalid and is not used: "
                       r"<cache:site.hello>:3:11: 'protocol' must be one of"):  # fmt: skip
        library.get(HELLO_ID)
    # The shipped recipe of a broken row's id stays in effect.
    assert library.get("linux.diagnostics").source == DIAGNOSTICS
    with pytest.raises(BadInput, match="control characters are not allowed"):
        library.get("site.nul")
    origins = [(i.id, i.origin) for i in recipes.infos() if i.id != "linux.diagnostics"]
    assert [(i, o.split(":", 1)[0]) for i, o in origins if i.startswith("site.")] == [
        ("site.hello", "cache (invalid"),
        ("site.nul", "cache (invalid"),
    ]
    diag = [i.origin for i in recipes.infos() if i.id == "linux.diagnostics"]
    assert diag[0] == "library" and "the YAML says id 'site.hello'" in diag[1]
    warned = [r.getMessage() for r in caplog.records if r.name == "workbench.services.recipes"]
    assert len(warned) == 3 and all("is invalid and not used" in w for w in warned)


def test_a_tree_may_name_a_stored_recipe(
    service: TicketService, store: Store, clock: Clock, tmp_path: Path
) -> None:
    tree_file = _write(tmp_path, "say-hello.yaml", HELLO_TREE)
    library = tmp_path / "no-trees"
    library.mkdir()
    before = TreeService(service, catalog_of(library_for(store)), library, clock)
    _trees, problems = before.validate([tree_file])
    assert [p.message for p in problems] == ["unknown recipe 'site.hello'"]

    RecipeService(store, RECIPES_DIR, clock).import_files(
        [_write(tmp_path, "h.yaml", HELLO_RECIPE)]
    )
    after = TreeService(service, catalog_of(library_for(store)), library, clock)
    trees, problems = after.validate([tree_file])
    assert problems == [] and [t.id for t in trees] == [HELLO_TREE_ID]
