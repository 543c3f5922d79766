"""`workbench doctor [--rebuild]`: the state of this data directory, and a way out of a
damaged cache."""

from __future__ import annotations

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import json_option, with_app
from workbench.core.labels import plural
from workbench.store import repair
from workbench.store.database import DB_FILENAME
from workbench.sync import central


@click.command()
@click.option(
    "--rebuild",
    is_flag=True,
    help="Rebuild a damaged cache from the central database, keeping its unsent changes "
    "and credential profiles; the damaged file is moved aside, never deleted.",
)
@json_option
@with_app
def doctor(app: AppContext, rebuild: bool, as_json: bool) -> int:
    """Check the cache (revision, integrity, unsent changes), the central database it syncs
    with and where the secrets are kept; exit 1 when something is wrong."""
    # The cache is looked at as a file, never opened as a Store: opening would migrate it,
    # and a damaged one would stop the command before it could say anything.
    if rebuild:
        from workbench.services.sync import rebuild_cache  # noqa: PLC0415

        done = rebuild_cache(app.data_dir)
        if as_json:
            render.emit_json(
                {
                    "rebuilt": True,
                    "moved_to": str(done.moved_to),
                    "kept": done.kept,
                    "renumbered": done.renumbered,
                    "profiles": done.profiles,
                    "asset_links": done.asset_links,
                    "pushed": done.report.pushed,
                    "pulled": done.report.pulled,
                }
            )
            return 0
        render.say(
            f"Rebuilt the cache from the central database: {done.report.pulled} rows pulled, "
            f"{plural(done.kept, 'unsent change')} kept and {done.report.pushed} sent, "
            f"{plural(done.profiles, 'credential profile')} kept. "
            f"The damaged file is {done.moved_to}."
        )
        if done.renumbered:
            render.say(
                "Some unsent changes could not be read: they remain only in the damaged file; "
                "the rest were sent under a new client id."
            )
        return 0
    health = repair.examine(app.data_dir / DB_FILENAME)
    from workbench.core.secrets import describe_backend  # noqa: PLC0415  (loads keyring)

    secrets = describe_backend()
    url = central.masked(health.central_url) if health.central_url else None
    advice = _advice(health) if health.problems else None
    if as_json:
        render.emit_json(
            {
                "ok": not health.problems,
                "data_dir": str(app.data_dir),
                "cache": str(health.path),
                "size_bytes": health.size,
                "revision": health.revision,
                "integrity": health.integrity,
                "unsent": health.unsent,
                "open_now": health.open_now,
                "central": {"url": url, "technician": health.technician} if url else None,
                "secrets": secrets,
                "problems": list(health.problems),
                "advice": advice,
            }
        )
    else:
        size = f"{health.size / 1e6:.1f} MB" if health.size is not None else "none yet"
        revision = f", revision {health.revision}" if health.revision else ""
        central_text = f"{url} as {health.technician}" if url else "none configured"
        render.print_table(
            [
                ["Data directory", str(app.data_dir)],
                ["Cache", f"{health.path} ({size}{revision})"],
                ["Integrity", health.integrity],
                ["Unsent changes", "—" if health.unsent is None else str(health.unsent)],
                ["Central", central_text],
                ["Secrets", secrets],
            ],
            ["CHECK", "FOUND"],
        )
        for problem in health.problems:
            render.say(f"Problem: {problem}")
        if advice:
            render.say(f"What to do: {advice}")
    return 1 if health.problems else 0


def _advice(health: repair.Health) -> str:
    if health.size is None:
        return "move it away, or choose another --data-dir"
    if health.disk_full:
        return "free some space on that disk, then run `workbench doctor` again"
    if health.log_damaged and len(health.problems) == 1 and not health.open_now:
        # SQLite cannot read such a log: without it the file is as it was last checkpointed.
        return f"move {health.path.name}-wal aside, or rebuild with `workbench doctor --rebuild`"
    if health.central_url and health.technician:
        busy = " (close the Workbench windows using it first)" if health.open_now else ""
        return (
            "`workbench doctor --rebuild` rebuilds the cache from the central database, "
            f"keeping its unsent changes; the damaged file is moved aside{busy}"
        )
    return (
        "no central database is configured to rebuild from: restore a backup copy of the "
        "file, or move it aside to start with an empty cache"
    )
