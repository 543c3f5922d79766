"""Stored remote-action recipes: the SQL for the recipe library's cache part.

Recipes sync like trees (reference data, ids people choose); the YAML is kept as written and
is validated again whenever it is read, since a synced row may come from any cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from workbench.store import schema
from workbench.store.store import Reader, Writer

_recipes = schema.recipes


@dataclass(frozen=True, slots=True)
class StoredRecipe:
    id: str
    title: str
    protocol: str
    shell: str
    source: str
    digest: str
    updated_at: datetime


def _recipe(row: Any) -> StoredRecipe:
    return StoredRecipe(**{name: row[name] for name in StoredRecipe.__dataclass_fields__})


def stored_recipes(db: Reader) -> list[StoredRecipe]:
    rows = db._db.execute(select(_recipes).order_by(_recipes.c.id)).mappings()
    return [_recipe(row) for row in rows]


def stored_recipe(db: Reader, recipe_id: str) -> StoredRecipe | None:
    row = db._db.execute(select(_recipes).where(_recipes.c.id == recipe_id)).mappings().first()
    return _recipe(row) if row else None


def save_recipe(tx: Writer, recipe: StoredRecipe) -> None:
    """Insert the recipe, or replace the stored one of the same id."""
    fields = {name: getattr(recipe, name) for name in StoredRecipe.__dataclass_fields__}
    del fields["id"]
    row_version = tx._db.scalar(select(_recipes.c.version).where(_recipes.c.id == recipe.id))
    if row_version is None:
        tx._db.execute(insert(_recipes).values(id=recipe.id, **fields))
        tx._queue("recipe", recipe.id, "insert", fields, 0)
    else:
        tx._db.execute(update(_recipes).where(_recipes.c.id == recipe.id).values(**fields))
        tx._queue("recipe", recipe.id, "update", fields, row_version)
