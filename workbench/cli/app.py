"""The command tree: global options, gui, demo, search, whoami; tickets live in tickets.py."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import render
from workbench.cli.context import AppContext, chosen_data_dir, setup_logging
from workbench.cli.lazy import LazyGroup
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import vault_passphrase
from workbench.core import secrets

DEMO_TICKETS = 3000
# Command groups in modules of their own, imported when their command runs.
LAZY_COMMANDS = {
    "ticket": "workbench.cli.tickets:ticket",
    "requester": "workbench.cli.requesters:requester",
    "tree": "workbench.cli.trees:tree",
    "central": "workbench.cli.central:central_group",
    "login": "workbench.cli.sync:login",
    "sync": "workbench.cli.sync:sync",
    "conflicts": "workbench.cli.sync:conflicts",
    "status": "workbench.cli.sync:status",
    "recipe": "workbench.cli.remote:recipe",
    "remote": "workbench.cli.remote:remote",
    "profile": "workbench.cli.profiles:profile",
    "connect": "workbench.cli.connect:connect",
    "doctor": "workbench.cli.doctor:doctor",
    "secrets": "workbench.cli.secrets:secrets_group",
}


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--data-dir",
    metavar="DIR",
    envvar="WORKBENCH_DATA_DIR",
    help="Where the local cache lives (default: the per-user data directory).",
)
@click.option(
    "--as",
    "technician",
    metavar="LOGIN",
    envvar="WORKBENCH_TECHNICIAN",
    help="Act as this technician (default: the one set with `whoami --set`).",
)
@click.option(
    "--demo",
    is_flag=True,
    help=f"Use the demo data directory, seeded with {DEMO_TICKETS} tickets if empty.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also log to stderr.")
@click.version_option(package_name="workbench")
@click.pass_context
def cli(
    ctx: click.Context, data_dir: str | None, technician: str | None, demo: bool, verbose: bool
) -> None:
    """The Workbench: tickets, troubleshooting trees and remote actions for IT support."""
    if demo and data_dir is not None:
        raise click.UsageError("--demo and --data-dir exclude each other")
    directory = chosen_data_dir(data_dir, demo)
    setup_logging(directory, verbose)
    secrets.ask_passphrase_with(vault_passphrase)  # the vault's, typed on the terminal
    app = AppContext(directory, technician)
    ctx.obj = app
    ctx.call_on_close(app.close)
    if demo:
        _seed_if_empty(app, DEMO_TICKETS)
    if ctx.invoked_subcommand is None:
        ctx.invoke(gui)


def _seed_if_empty(app: AppContext, tickets: int) -> None:
    from workbench.core.query import TicketQuery  # noqa: PLC0415
    from workbench.resources import load_policy  # noqa: PLC0415
    from workbench.services.demo import seed_demo  # noqa: PLC0415

    if app.tickets.count(TicketQuery()) == 0:
        render.say(f"Seeding the demo cache in {app.data_dir} with {tickets} tickets…", err=True)
        seed_demo(app.store, load_policy(), tickets)


@cli.command()
@click.option(
    "--screenshot",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Open the window, wait until it is loaded, save a PNG here and exit.",
)
@with_app
def gui(app: AppContext, screenshot: Path | None) -> int:
    """Open the workbench window (the default command)."""
    from workbench.gui.app import run_gui  # noqa: PLC0415  (Qt loads only for the window)

    return run_gui(app.tickets, screenshot=screenshot)


@cli.group()
def demo() -> None:
    """Demo data for trying the workbench out."""


@demo.command("seed")
@click.option("--tickets", type=WholeNumber(1, 1_000_000), default=1000, show_default=True)
@click.option(
    "--seed", type=WholeNumber(0, 2**32 - 1), default=1, show_default=True, help="Random seed."
)
@json_option
@with_app
def demo_seed(app: AppContext, tickets: int, seed: int, as_json: bool) -> None:
    """Fill an empty cache with realistic sites, people, assets and tickets."""
    import time  # noqa: PLC0415

    from workbench.resources import load_policy  # noqa: PLC0415
    from workbench.services.demo import seed_demo  # noqa: PLC0415

    started = time.perf_counter()
    summary = seed_demo(app.store, load_policy(), tickets, seed=seed)
    seconds = round(time.perf_counter() - started, 2)
    counts = {name: getattr(summary, name) for name in summary.__dataclass_fields__}
    if as_json:
        render.emit_json({"seeded": counts, "seconds": seconds, "data_dir": str(app.data_dir)})
    else:
        parts = ", ".join(f"{value} {name}" for name, value in counts.items())
        render.say(f"Seeded {parts} in {seconds} s into {app.data_dir}")


@cli.command()
@click.argument("query")
@click.option("--limit", type=WholeNumber(1, 500), default=20, show_default=True)
@json_option
@with_app
def search(app: AppContext, query: str, limit: int, as_json: bool) -> None:
    """Full-text search: numbers, titles, descriptions, worklog, people, asset tags, serials,
    hostnames. Words are prefixes and all must match."""
    hits = app.tickets.search(query, limit)
    now = app.now()
    if as_json:
        render.emit_json({"query": query, "hits": [render.hit_json(h, now) for h in hits]})
        return
    if not hits:
        render.say(f"No ticket matches {query!r}.")
        return
    render.print_table(
        [
            [*render.summary_row(h.summary, now, app.sla_clock)[:4], h.snippet.replace("\n", " ")]
            for h in hits
        ],
        ["REF", "PRI", "STATUS", "TITLE", "MATCH"],
    )


@cli.command()
@click.option("--set", "login", metavar="LOGIN", help="Remember this technician for this cache.")
@json_option
@with_app
def whoami(app: AppContext, login: str | None, as_json: bool) -> None:
    """Show (or set) the technician this cache works as."""
    if login:
        app.tickets.set_technician(login)
    current = app.tickets.technician
    with app.store.read() as db:
        technician = db.technician(current) if current else None
        client_id = db.client_id
    if as_json:
        render.emit_json(
            {
                "technician": current,
                "name": technician.name if technician else None,
                "tier": technician.tier if technician else None,
                "client_id": client_id,
                "data_dir": str(app.data_dir),
                "secrets": secrets.describe_backend(),
            }
        )
        return
    who = f"{technician.name} ({current}, tier {technician.tier})" if technician else "nobody"
    render.say(f"Working as {who} in {app.data_dir}")
