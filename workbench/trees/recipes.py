"""What the validator needs to know about remote recipes: their ids and parameters.

The remote package owns recipes and their loader; the validator sees only ids and parameter
kinds. With no catalog at all, recipe references are reported as warnings instead of errors
(resources/trees/README.md).
A parameter of type `secret` is asked for when the recipe runs and never written in a tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from workbench.remote.recipes import Param, ParamType, Recipe

REQUIRED, OPTIONAL, SECRET = "required", "optional", "secret"


class RecipeCatalog(Protocol):
    @property
    def installed(self) -> bool:
        """False when no recipes are known at all: references cannot be checked."""
        ...

    def params(self, recipe_id: str) -> Mapping[str, str] | None:
        """Parameter name → REQUIRED, OPTIONAL or SECRET; None for an unknown recipe."""
        ...


@dataclass(frozen=True)
class StaticCatalog:
    recipes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    installed: bool = True

    def params(self, recipe_id: str) -> Mapping[str, str] | None:
        return self.recipes.get(recipe_id)


NO_CATALOG = StaticCatalog({}, installed=False)


def catalog_of(library: Iterable[Recipe]) -> StaticCatalog:
    """The catalog of these recipes (e.g. the shipped ones with the cache's)."""
    recipes = {
        recipe.id: {param.name: _kind(param) for param in recipe.params} for recipe in library
    }
    # A library with no recipe in it is no catalog either.
    return StaticCatalog(recipes) if recipes else NO_CATALOG


def _kind(param: Param) -> str:
    if param.type is ParamType.SECRET:
        return SECRET
    return REQUIRED if param.required else OPTIONAL
