"""Remote-action recipes through the central PostgreSQL: one imported on a laptop reaches the
others and is the one they run; one that arrives broken is never used; a central database of
the previous revision gains the table and keeps its rows."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.command import upgrade
from alembic.config import Config
from sqlalchemy import create_engine, insert, select, text, update
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.support.recipes import (
    BROKEN_HELLO,
    HELLO_ID,
    HELLO_RECIPE,
    HELLO_TREE,
    HELLO_TREE_ID,
    sh_output,
)
from workbench.cli import run
from workbench.core.errors import BadInput
from workbench.resources import RESOURCES
from workbench.services.recipes import RecipeService, digest, library_for
from workbench.store import recipes as recipe_store
from workbench.sync import central
from workbench.trees.recipes import catalog_of
from workbench.trees.service import TreeService

pytestmark = pytest.mark.services

Laptops = Callable[..., Laptop]


def _cli(laptop: Laptop, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = run(["--data-dir", str(laptop.data_dir), "--as", "ana.lopez", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _write(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def test_an_imported_recipe_reaches_other_laptops_and_is_the_one_they_run(
    laptops: Laptops, central_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor", scope="mine")
    _cli(ana, capsys, "recipe", "import", str(_write(tmp_path, "hello.yaml", HELLO_RECIPE)))
    # A tree may name it once it is in the cache (`tree import` checks its checks' recipes).
    _cli(ana, capsys, "tree", "import", str(_write(tmp_path, "say-hello.yaml", HELLO_TREE)))
    assert ana.sync().pushed == 2

    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        (row,) = db.execute(select(central.recipes)).mappings()
    engine.dispose()
    assert (row["id"], row["source"], row["changed_by"]) == (HELLO_ID, HELLO_RECIPE, "ana.lopez")

    with pytest.raises(BadInput, match="no recipe 'site.hello'"):
        library_for(ben.store).get(HELLO_ID)
    assert not ben.sync().mismatched  # recipes are reference data: in every scope
    with ben.store.read() as db:
        stored = recipe_store.stored_recipe(db, HELLO_ID)
    assert stored is not None and (stored.source, stored.digest) == (
        HELLO_RECIPE,
        digest(HELLO_RECIPE),
    )
    # What `remote run` on Ben's laptop would run.
    rendered = library_for(ben.store).get(HELLO_ID).render({"name": "ben"})
    assert sh_output(rendered.command) == "hello ben\n"
    listed = json.loads(_cli(ben, capsys, "recipe", "list", "--json"))["recipes"]
    assert {r["id"]: r["origin"] for r in listed}[HELLO_ID] == "cache"
    # The synced tree validates there against the synced recipe.
    trees = TreeService(ben.service, catalog_of(library_for(ben.store)), RESOURCES / "trees")
    assert trees.tree(HELLO_TREE_ID).nodes["greet"].recipe == HELLO_ID


def test_a_pulled_recipe_that_does_not_validate_is_skipped_with_the_reason(
    laptops: Laptops,
    central_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ben = laptops("ben.okafor")
    # Written straight into the central database: no cache would have let it through.
    engine = create_engine(central_url, poolclass=NullPool)
    with engine.begin() as db:
        clock = db.execute(select(central.sync_clock.c.clock)).scalar_one() + 1
        db.execute(update(central.sync_clock).values(clock=clock))
        db.execute(
            insert(central.recipes).values(
                id=HELLO_ID, title="Say hello", protocol="ssh", shell="sh", source=BROKEN_HELLO,
                digest=digest(BROKEN_HELLO), updated_at=datetime.now(UTC), version=clock,
                changed_by="mallory",
            )
        )  # fmt: skip
    engine.dispose()
    assert ben.sync().pulled >= 1
    with ben.store.read() as db:
        assert recipe_store.stored_recipe(db, HELLO_ID) is not None  # kept, as pulled

    with caplog.at_level(logging.WARNING, logger="workbench.services.recipes"):
        library = RecipeService(ben.store).library()
    assert HELLO_ID not in library.recipes
    with pytest.raises(BadInput, match="'site.hello' in the cache is invalid and is not used"):
        library.get(HELLO_ID)
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "workbench.services.recipes"]
    assert f"stored recipe '{HELLO_ID}' is invalid and not used" in warning
    assert "'protocol' must be one of ssh, winrm, not 'telnet'" in warning
    listed = json.loads(_cli(ben, capsys, "recipe", "list", "--json"))["recipes"]
    (origin,) = [r["origin"] for r in listed if r["id"] == HELLO_ID]
    assert origin.startswith("cache (invalid: <cache:site.hello>:3:11: 'protocol' must be")


def test_one_recipe_id_imported_on_two_laptops_makes_conflicts(
    laptops: Laptops, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana, ben = laptops("ana.lopez"), laptops("ben.okafor")
    (tmp_path / "ana").mkdir()
    (tmp_path / "ben").mkdir()
    _cli(ana, capsys, "recipe", "import", str(_write(tmp_path / "ana", "h.yaml", HELLO_RECIPE)))
    greet = HELLO_RECIPE.replace("Say hello", "Greet")
    _cli(ben, capsys, "recipe", "import", str(_write(tmp_path / "ben", "h.yaml", greet)))
    ana.sync()
    report = ben.sync()  # his insert finds Ana's recipe there: the first one stands
    assert report.pushed == 1 and report.new_conflicts >= 1
    assert library_for(ben.store).get(HELLO_ID).title == "Say hello"


def test_a_central_database_at_c0002_gains_recipes_and_keeps_its_trees(pg_database: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(central.__file__).parent / "migrations"))
    engine = create_engine(pg_database, poolclass=NullPool)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        upgrade(config, "c0002")
        connection.execute(
            text(
                "INSERT INTO trees (id, tree_version, title, category, source, digest, "
                "updated_at, version) VALUES ('t', 1, 'T', '', 'id: t', 'd', now(), 1)"
            )
        )
        connection.commit()
    assert central.init_central(pg_database) == "c0004"
    assert central.init_central(pg_database) == "c0004"  # rerun: nothing to do
    with engine.connect() as db:
        assert db.execute(select(central.trees.c.id)).scalars().all() == ["t"]
        assert db.execute(select(central.recipes)).all() == []
    engine.dispose()
