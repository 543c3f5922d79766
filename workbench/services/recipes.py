"""The recipe library in effect: the shipped recipes plus those stored in the cache.

Stored recipes were imported on this cache or pulled from the central database, where any
cache may have put them. They are commands run on other people's machines, so every read
validates them again: one that does not validate is never used — it is skipped with a logged
warning and listed as invalid — and a shipped recipe of its id, if any, stays in effect. A
valid stored recipe wins over a shipped one of the same id.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from workbench.core.errors import BadInput
from workbench.core.files import is_directory
from workbench.remote.profiles import check_host
from workbench.remote.recipes import (
    RECIPES_DIR,
    Recipe,
    RecipeError,
    RecipeLibrary,
    Target,
    load_library,
    parse_recipe,
    read_recipes,
)
from workbench.services.tickets import utc_now
from workbench.store import Store
from workbench.store import recipes as recipe_store
from workbench.store.documents import Approvals

log = logging.getLogger(__name__)

CACHE, LIBRARY = "cache", "library"


@dataclass(frozen=True, slots=True)
class RecipeInfo:
    id: str
    title: str
    protocol: str
    origin: str  # "cache", "library", or "cache (invalid: FIRST PROBLEM)"
    recipe: Recipe | None  # None when the stored recipe is invalid (never used)
    problem: str = ""  # why it is invalid


def digest(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def parse_stored(stored: recipe_store.StoredRecipe) -> Recipe:
    """A stored recipe, validated like a file; RecipeError says why it cannot be used."""
    where = Path(f"<cache:{stored.id}>")
    found = parse_recipe(stored.source, where)
    if found.id != stored.id:
        raise RecipeError([f"{where}: the YAML says id {found.id!r}, the row {stored.id!r}"])
    return found


def recipe_files(paths: Iterable[Path]) -> list[Path]:
    """The files given, with each directory standing for its *.yaml files."""
    return [f for p in paths for f in (sorted(p.glob("*.yaml")) if is_directory(p) else [p])]


class RecipeService:
    """Keep one to read the library again and again (the window): the shipped recipes are
    parsed once, the stored ones at every read, so a sync's recipes count at once."""

    def __init__(
        self,
        store: Store,
        library_dir: Path = RECIPES_DIR,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.library_dir = library_dir
        self.clock = clock
        # (id, source) -> what it parsed to: each stored version is parsed (and an invalid one
        # warned about) once, though the window reads the library at every ticket shown.
        self._parsed: dict[tuple[str, str], Recipe | RecipeError] = {}

    @cached_property
    def _shipped(self) -> RecipeLibrary:
        return load_library(self.library_dir)

    def infos(self) -> list[RecipeInfo]:
        """Every recipe in effect, plus the invalid stored ones (listed, never used)."""
        with self.store.read() as db:
            stored = recipe_store.stored_recipes(db)
            approvals = Approvals.of(db)
        used: dict[str, RecipeInfo] = {}
        invalid: list[RecipeInfo] = []
        for row in stored:
            found = self._parse(row)
            if not isinstance(found, RecipeError) and not approvals.approved(row.approved_by):
                reason = "not approved by a lead: never run"
                origin = f"{CACHE} (unapproved: {row.approved_by or 'nobody'} stored it)"
                invalid.append(RecipeInfo(row.id, row.title, row.protocol, origin, None, reason))
                continue
            if isinstance(found, RecipeError):
                reason = found.problems[0]
                origin = f"{CACHE} (invalid: {reason})"
                invalid.append(RecipeInfo(row.id, row.title, row.protocol, origin, None, reason))
                continue
            used[found.id] = RecipeInfo(found.id, found.title, found.protocol.value, CACHE, found)
        for shipped in self._shipped:
            used.setdefault(
                shipped.id,
                RecipeInfo(shipped.id, shipped.title, shipped.protocol.value, LIBRARY, shipped),
            )
        return sorted([*used.values(), *invalid], key=lambda i: (i.id, i.recipe is None))

    def _parse(self, row: recipe_store.StoredRecipe) -> Recipe | RecipeError:
        key = (row.id, row.source)
        if key not in self._parsed:
            try:
                self._parsed[key] = parse_stored(row)
            except RecipeError as exc:
                log.warning("stored recipe %r is invalid and not used: %s", row.id, exc.problems[0])
                self._parsed[key] = exc
        return self._parsed[key]

    def library(self) -> RecipeLibrary:
        infos = self.infos()
        used = {i.id: i.recipe for i in infos if i.recipe is not None}
        # An invalid stored recipe is named only where no shipped one of its id stands in.
        invalid = {i.id: i.problem for i in infos if i.recipe is None and i.id not in used}
        return RecipeLibrary(used, invalid)

    def import_files(self, paths: Iterable[Path]) -> list[tuple[Recipe, str]]:
        """Check every file, then store all recipes or none; (recipe, what happened) pairs.

        RecipeError (a BadInput) lists every problem when any file does not validate.
        """
        files = recipe_files(paths)
        recipes, problems = read_recipes(files)
        if problems:
            raise RecipeError(problems)
        if not recipes:
            raise RecipeError(["no recipe files found in the given paths"])
        now = self.clock()
        done: list[tuple[Recipe, str]] = []
        with self.store.write() as tx:
            approver = Approvals.of(tx).approver()
            for found, source in recipes:
                before = recipe_store.stored_recipe(tx, found.id)
                if before is not None and before.source == source:
                    done.append((found, "unchanged"))
                    continue
                record = recipe_store.StoredRecipe(
                    found.id, found.title, found.protocol.value, found.shell.value,
                    source, digest(source), now, approver,
                )  # fmt: skip
                recipe_store.save_recipe(tx, record)
                done.append((found, "imported" if before is None else "updated"))
        return done


def library_for(store: Store) -> RecipeLibrary:
    """The recipes in effect for this cache: shipped ones, overridden by valid stored ones."""
    return RecipeService(store).library()


# This technician's own settings in the cache (never synced): the hosts that recipes not meant
# for the ticket's machine run on.
_SERVICE_HOST_KEYS = {
    Target.DIRECTORY_HOST: "remote.directory_host",
    Target.FOG_SERVER: "remote.fog_server",
}
SERVICE_TARGETS = tuple(_SERVICE_HOST_KEYS)


class ServiceHosts:
    """The directory host (a server with RSAT) and the FOG server this cache runs recipes on."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def all(self) -> dict[Target, str | None]:
        with self.store.read() as db:
            return {target: db.meta(key) or None for target, key in _SERVICE_HOST_KEYS.items()}

    def set(self, target: Target, host: str | None) -> None:
        """Name the host (checked like any target), or forget it with None."""
        value = "" if host is None else check_host(host)
        with self.store.write() as tx:
            tx.set_meta(_SERVICE_HOST_KEYS[target], value)


def setting_hint(target: Target) -> str:
    return f"`workbench remote service-host {target.value} HOST`"


def where_it_runs(
    recipe: Recipe, host: str | None, service_hosts: dict[Target, str | None], machine: str | None
) -> str:
    """The host ``recipe`` runs on: ``host`` as given, else (for a recipe that runs on a service
    host) the one this cache names. BadInput when there is none, or when ``host`` is a user's
    machine (``machine``: the asset ``host`` names, if any) and the recipe is not for one."""
    if recipe.target is Target.ASSET:
        if not host:
            raise BadInput(f"{recipe.id} runs on {recipe.target.label}: name its host")
        return host
    configured = service_hosts.get(recipe.target)
    runs_on = f"{recipe.id} runs on {recipe.target.label}"
    if not host:
        if configured is None:
            raise BadInput(
                f"{runs_on}, and this cache names none: set it with "
                f"{setting_hint(recipe.target)}, or name the host"
            )
        return configured
    if machine is not None and host != configured:
        instead = (
            f"leave the host out to run it on {configured}"
            if configured
            else f"name that host, or set it with {setting_hint(recipe.target)}"
        )
        raise BadInput(f"{runs_on}, not on the user's machine {machine}: {instead}")
    return host
