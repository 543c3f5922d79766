"""`workbench connect ssh|rdp|powershell REF_OR_HOST`: an interactive session in the system's
own client, for a ticket's asset, an asset, or a plain host."""

from __future__ import annotations

import shlex

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import json_option, with_app
from workbench.cli.profiles import find_asset
from workbench.core.errors import BadInput, NotFound
from workbench.core.refs import looks_like_ref, normalize_ref
from workbench.remote import hostkeys
from workbench.remote.launchers import KINDS, launch, missing_programs, missing_text, plan
from workbench.services.profiles import ProfileService


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("target", metavar="REF_OR_HOST")
@click.option("--profile", "profile_name", metavar="NAME",
              help="Log in with this credential profile (default: the asset's).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print the client command instead of starting it.")
@json_option
@with_app
def connect(
    app: AppContext,
    kind: str,
    target: str,
    profile_name: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Open an interactive KIND session on REF_OR_HOST: a ticket ref (its asset), an asset tag,
    serial or hostname, or any host name. The client asks for passwords itself."""
    service = ProfileService(app.store)
    asset = find_asset(app, target)
    if asset is None and looks_like_ref(target):
        raise NotFound(f"no ticket {normalize_ref(target)} in this cache")
    host = target
    port = None
    profile = service.profile(profile_name) if profile_name else None
    if asset is not None:
        if not asset.hostname:
            raise BadInput(f"asset {asset.tag} has no hostname: set it, or connect to a host")
        host = asset.hostname
        if profile is None:
            profile = service.profile_for_asset(asset.id)
        # The asset's port is its SSH port only when SSH is how it is reached.
        if kind == "ssh" and asset.protocol == "ssh":
            port = asset.port
    planned = plan(kind, host, profile, known_hosts=app.data_dir / hostkeys.FILENAME, port=port)
    if not dry_run:
        launch(planned)
    # A dry run says what a real one would refuse: it started nothing, so it still succeeds.
    missing = missing_programs(planned) if dry_run else []
    if missing:
        render.say("warning: " + missing_text(planned, missing), err=True)
    if as_json:
        render.emit_json({
            "kind": kind, "host": host, "profile": profile.name if profile else None,
            "argv": list(planned.argv), "description": planned.description,
            "started": not dry_run, "missing": missing,
        })  # fmt: skip
    else:
        render.say(("Would start: " if dry_run else "Started: ") + planned.description
                   + (f" with profile {profile.name}" if profile else ""))  # fmt: skip
        if dry_run:
            render.say(shlex.join(planned.argv))
