"""What the validator needs to know about remote recipes: their ids and parameters.

The remote package owns recipes; until it provides a catalog, one is read from
resources/recipes/*.yaml (`id` plus `params: {name: {type, required}}`). With no catalog at
all, recipe references are reported as warnings instead of errors (resources/trees/README.md).
A parameter of type `secret` is asked for when the recipe runs and never written in a tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import yaml

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


def catalog_from_dir(directory: Path) -> StaticCatalog:
    """The recipes in `directory`; files that are not recipes are left to the recipe checker."""
    if not directory.is_dir():
        return NO_CATALOG
    recipes: dict[str, dict[str, str]] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        params = data.get("params") or {}
        recipes[data["id"]] = {
            str(name): _kind(spec)
            for name, spec in (params.items() if isinstance(params, dict) else ())
        }
    # A directory with no recipe in it is no catalog either.
    return StaticCatalog(recipes) if recipes else NO_CATALOG


def _kind(spec: object) -> str:
    if not isinstance(spec, dict):
        return OPTIONAL
    if spec.get("type") == "secret" or spec.get("secret"):
        return SECRET
    return REQUIRED if spec.get("required") else OPTIONAL
