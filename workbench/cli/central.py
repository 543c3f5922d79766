"""`workbench central …`: the central database's schema and its administration (DESIGN.md
§11). Each command takes `--url`, defaulting to the URL this cache logged in with; the
central decides whether the signed-in technician may do it."""

from __future__ import annotations

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.lazy import LazyGroup
from workbench.cli.options import json_option, with_app
from workbench.core.errors import BadInput
from workbench.store import sync_state
from workbench.store.database import DB_FILENAME
from workbench.sync import central

# Sub-groups in modules of their own, loaded when they run.
LAZY_COMMANDS = {
    "technician": "workbench.cli.central_people:technician",
    "site": "workbench.cli.central_people:site",
    "audit": "workbench.cli.central_people:audit",
    "policy": "workbench.cli.central_people:policy",
    "import": "workbench.cli.central_import:import_group",
    "demo": "workbench.cli.central_demo:demo_group",
}


@click.group("central", cls=LazyGroup, lazy=LAZY_COMMANDS)
def central_group() -> None:
    """The central PostgreSQL database: schema, people, sites, imports, policy, audit."""


def url_option(func):  # type: ignore[no-untyped-def]
    """--url, defaulting to the central database this cache logged in with."""
    return click.option(
        "--url",
        default=None,
        help="postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…] (default: this cache's).",
    )(func)


def central_url(app: AppContext, given: str | None) -> str:
    """The URL given, else the one `workbench login` stored. Either signs in with this
    cache's password (its keyring entry) when it names the same login."""
    if given:
        central.parse_url(given)  # refused before a file is read or a password asked for
    if given and not (app.data_dir / DB_FILENAME).exists():
        return given  # no cache here: nothing to read, nor to create
    with app.store.read() as db:
        stored = sync_state.state(db).central_url
        central.use_cache_key(central.cache_key(db))
    if given:
        return given
    if not stored:
        raise BadInput(
            "no central database: give --url postgresql://USER@HOST/DATABASE, "
            "or sign this cache in with `workbench login` first"
        )
    return stored


@central_group.command("init")
@click.option("--url", required=True, help="postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=…]")
@json_option
def central_init(url: str, as_json: bool) -> None:
    """Create or upgrade the central schema (safe to run again)."""
    revision = central.init_central(url)
    if as_json:
        render.emit_json({"url": central.masked(url), "revision": revision})
    else:
        render.say(f"Central database {central.masked(url)} is at revision {revision}.")


__all__ = ["central_group", "central_url", "url_option", "with_app"]
