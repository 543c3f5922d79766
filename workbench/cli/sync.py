"""`login`, `sync`, `conflicts list|resolve`, `status` (DESIGN.md §5)."""

from __future__ import annotations

import os

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import read_secret, stdin_line
from workbench.core.errors import BadInput
from workbench.core.labels import plural, word
from workbench.services.sync import connect_central
from workbench.store import sync_state
from workbench.sync import central
from workbench.sync.client import Synchronizer


@click.command()
@click.option("--central", "url", required=True, help="URL of the central database.")
@click.option("--technician", required=True, metavar="LOGIN", help="Who syncs from this cache.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from stdin (one line) instead of a prompt.",
)
@click.option(
    "--scope",
    type=click.Choice(sync_state.SCOPES),
    default=None,
    help="What this cache holds: mine (my tickets and my tier's queue, closed ones for 90 "
    "days, my sites' assets, all reference data; the default) or all.",
)
@with_app
def login(
    app: AppContext, url: str, technician: str, password_stdin: bool, scope: str | None
) -> None:
    """Remember the central database and the technician; the password, once it signed in,
    goes to the keyring (this cache's entry)."""
    parsed = central.parse_url(url)
    password = parsed.password
    if password is None and password_stdin:
        password = stdin_line("password")
    elif password is None and "PGPASSWORD" not in os.environ:
        password = read_secret(
            "Password (empty: the saved one, or none)",
            "password",
            stdin_option="--password-stdin",
            allow_empty=True,
        )
    connected = connect_central(app.store, url, technician, password, scope)
    render.say(f"Syncing as {technician} with {central.masked(url)} (scope: {connected.scope}).")


def _synchronizer(app: AppContext) -> Synchronizer:
    with app.store.read() as db:
        status = sync_state.state(db)
    if not status.central_url or not status.technician:
        raise BadInput(
            "this cache is not connected to a central database; "
            "run `workbench login --central URL --technician LOGIN` first"
        )
    return Synchronizer(app.store, status.central_url, status.technician)


@click.command()
@json_option
@with_app
def sync(app: AppContext, as_json: bool) -> None:
    """Push pending changes to the central database, then pull what others did."""
    report = _synchronizer(app).sync()
    if as_json:
        render.emit_json(
            {
                "pushed": report.pushed,
                "duplicates": report.duplicates,
                "pulled": report.pulled,
                "conflicts": report.open_conflicts,
                "new_conflicts": report.new_conflicts,
                "renumbered": report.renumbered,
                "client_id": report.client_id,
                "cursor": report.cursor,
                "clock_skew_s": round(report.clock_skew_s, 1),
                "clock_flagged": report.clock_flagged,
                "resynced": report.resynced,
                "mismatched": list(report.mismatched),
                "duration_s": report.seconds,
            }
        )
        return
    render.say(
        f"Pushed {report.pushed}, pulled {report.pulled}, "
        f"{plural(report.open_conflicts, 'open conflict')} in {report.seconds} s."
    )
    if report.renumbered:
        render.say("This cache was restored from a backup: its pending changes were renumbered.")
    if report.clock_flagged:
        render.say(
            f"Warning: this computer's clock is {report.clock_skew_s:+.0f} s off the server's."
        )


@click.group()
def conflicts() -> None:
    """Edits that collided with someone else's: list and resolve them."""


@conflicts.command("list")
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved conflicts.")
@json_option
@with_app
def conflicts_list(app: AppContext, include_resolved: bool, as_json: bool) -> None:
    """Open conflicts with both values and both authors."""
    with app.store.read() as db:
        found = sync_state.conflicts(db, include_resolved)
    if as_json:
        render.emit_json({"conflicts": [render.record_json(c) for c in found]})
        return
    if not found:
        render.say("No conflicts.")
        return
    render.print_table(
        [
            [
                str(c.id),
                f"{c.entity} {c.entity_id}",
                "(whole row)" if c.field == sync_state.WHOLE_ROW else word(c.field),
                # A refused row: "theirs" is why (the server lacks it or its parent).
                c.their_author
                if c.field == sync_state.WHOLE_ROW
                else f"{c.their_value!r} ({c.their_author})",
                f"{plural(len(c.mine_value), 'field')} ({c.my_author})"
                if c.field == sync_state.WHOLE_ROW
                else f"{c.mine_value!r} ({c.my_author})",
                c.resolution or "open",
            ]
            for c in found
        ],
        ["ID", "WHAT", "FIELD", "THEIRS", "MINE", "STATE"],
    )


@conflicts.command("resolve")
@click.argument("conflict_id", type=WholeNumber(1))
@click.option("--keep", type=click.Choice(["theirs", "mine"]), required=True)
@with_app
def conflicts_resolve(app: AppContext, conflict_id: int, keep: str) -> None:
    """Keep the server's value, or apply mine (sent at the next sync)."""
    who = app.tickets.technician
    if not who:
        raise BadInput("who resolves? set the technician with `workbench login` or --as")
    with app.store.write() as tx:
        sync_state.resolve_conflict(tx, conflict_id, keep, who)
    render.say(f"Conflict {conflict_id}: kept {keep}; `workbench sync` sends the decision.")


@click.command()
@json_option
@with_app
def status(app: AppContext, as_json: bool) -> None:
    """Pending changes, last sync, cursor and client id of this cache."""
    with app.store.read() as db:
        current = sync_state.state(db)
    last = current.last_sync.isoformat() if current.last_sync else None
    if as_json:
        render.emit_json(
            {
                "pending": current.pending,
                "last_sync": last,
                "cursor": current.cursor,
                "client_id": current.client_id,
                "open_conflicts": current.open_conflicts,
                "central": current.central_url,
                "technician": current.technician,
                "scope": current.scope,
            }
        )
        return
    render.say(
        f"{plural(current.pending, 'pending change')}, last sync {last or 'never'}, "
        f"cursor {current.cursor}, {plural(current.open_conflicts, 'open conflict')}, "
        f"client {current.client_id}"
    )
