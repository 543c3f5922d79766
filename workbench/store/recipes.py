"""Stored remote-action recipes: the SQL for the recipe library's cache part.

Recipes sync like trees (reference data, ids people choose); the YAML is kept as written and
is validated again whenever it is read, since a synced row may come from any cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workbench.store import documents, schema
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
    approved_by: str | None = None  # the lead who approved it (set centrally)


def stored_recipes(db: Reader) -> list[StoredRecipe]:
    return documents.all_of(db, _recipes, StoredRecipe, _recipes.c.id)


def stored_recipe(db: Reader, recipe_id: str) -> StoredRecipe | None:
    return documents.one_of(db, _recipes, StoredRecipe, recipe_id)


def save_recipe(tx: Writer, recipe: StoredRecipe) -> None:
    """Insert the recipe, or replace the stored one of the same id."""
    documents.save(tx, _recipes, "recipe", recipe)
