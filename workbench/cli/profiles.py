"""`workbench profile ...`: credential profiles (secrets only through a hidden prompt, or one
line of stdin when there is no terminal)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click

from workbench.cli import render
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import read_secret
from workbench.core.errors import BadInput, NotFound
from workbench.core.labels import plural
from workbench.core.models import Asset
from workbench.remote.profiles import AUTH_KINDS, PROTOCOLS, CredentialProfile, keeps_secret
from workbench.services.profiles import ProfileService

_ALL_AUTH = sorted({kind for kinds in AUTH_KINDS.values() for kind in kinds})
_CLEARABLE = {"port": "port", "key": "key_path", "jump": "jump", "ca-file": "ca_file"}


def _profile_json(profile: CredentialProfile, assets: list[str]) -> dict[str, Any]:
    return {**render.record_json(profile), "assets": assets}


def _ask_secret(profile: CredentialProfile) -> str:
    what = "key passphrase" if profile.auth in ("key", "agent") else "password"
    return read_secret(f"{what} for profile {profile.name} ({profile.user})", what)


def _saved(app: AppContext, profile: CredentialProfile, ask: bool, forget: bool,
           as_json: bool, verb: str) -> None:  # fmt: skip
    service = ProfileService(app.store)
    profile.check()  # nothing is asked for a profile that is refused anyway
    secret = _ask_secret(profile) if ask else None
    saved = service.save(profile, secret, keep_secret=not forget)
    if as_json:
        render.emit_json(_profile_json(saved, service.assets_of(saved.name)))
        return
    note = "; its secret is in the keyring" if saved.has_secret else ""
    if saved.needs_secret and not saved.has_secret:
        note = f"; it has no password yet: `workbench profile edit {saved.name} --ask-secret`"
    render.say(f"{verb} profile {saved.name} ({saved.protocol} {saved.auth} as {saved.user}){note}")


@click.group()
def profile() -> None:
    """Credential profiles: who logs in to machines and how (secrets in the OS keyring)."""


@profile.command("list")
@json_option
@with_app
def profile_list(app: AppContext, as_json: bool) -> None:
    """Every profile, with the assets linked to it."""
    service = ProfileService(app.store)
    found = [(p, service.assets_of(p.name)) for p in service.profiles()]
    if as_json:
        render.emit_json({"profiles": [_profile_json(p, assets) for p, assets in found]})
        return
    if not found:
        render.say("No credential profiles yet: `workbench profile add NAME ...`")
        return
    render.print_table(
        [[p.name, p.protocol, p.auth, p.user, str(p.effective_port),
          "yes" if p.has_secret else "", p.key_path or p.jump or p.ca_file or "",
          str(len(assets))] for p, assets in found],
        ["NAME", "PROTOCOL", "AUTH", "USER", "PORT", "SECRET", "KEY / JUMP / CA", "ASSETS"],
    )  # fmt: skip


def _profile_options(func: Any) -> Any:
    options = [
        click.option("--user", help="Login name (DOMAIN\\user or user@domain for Windows)."),
        click.option("--auth", type=click.Choice(_ALL_AUTH),
                     help="ssh: key, agent, password; winrm: ntlm, kerberos, credssp, "
                          "certificate, basic (HTTPS only)."),
        click.option("--port", type=WholeNumber(1, 65535),
                     help="Default: 22 for SSH, 5986 for WinRM (5985 with --http)."),
        click.option("--key", "key_path", metavar="PATH",
                     help="SSH private key, or the WinRM client certificate + key (one PEM)."),
        click.option("--jump", metavar="[USER@]HOST[:PORT]", help="SSH: reach hosts through it."),
        click.option("--http/--https", "http", default=None,
                     help="WinRM over plain HTTP (not with basic or certificate)."),
        click.option("--ca-file", metavar="PATH", help="WinRM: trust this (internal) CA."),
        click.option("--ask-secret", is_flag=True,
                     help="Prompt for the password or key passphrase (hidden; else one line of "
                     "stdin) for the keyring."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


@profile.command("add")
@click.argument("name")
@click.option("--protocol", type=click.Choice(PROTOCOLS), required=True)
@_profile_options
@json_option
@with_app
def profile_add(app: AppContext, name: str, protocol: str, as_json: bool, **options: Any) -> None:
    """Create profile NAME. A password profile asks for its password (hidden) at once."""
    if not options["user"] or not options["auth"]:
        raise BadInput("a new profile needs --user and --auth")
    service = ProfileService(app.store)
    if any(p.name == name for p in service.profiles()):
        raise BadInput(f"profile {name!r} exists already: change it with `profile edit`")
    created = CredentialProfile(
        name, protocol, options["user"], options["auth"], port=options["port"],
        key_path=options["key_path"], jump=options["jump"], https=not options["http"],
        ca_file=options["ca_file"],
    )  # fmt: skip
    ask = options["ask_secret"] or created.needs_secret
    _saved(app, created, ask, False, as_json, "Added")


@profile.command("edit")
@click.argument("name")
@_profile_options
@click.option("--forget-secret", is_flag=True, help="Remove its secret from the keyring.")
@click.option("--clear", "clear", multiple=True, type=click.Choice(sorted(_CLEARABLE)),
              help="Unset this setting (repeatable).")  # fmt: skip
@json_option
@with_app
def profile_edit(
    app: AppContext,
    name: str,
    forget_secret: bool,
    clear: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Change profile NAME: only the options given change."""
    if forget_secret and options["ask_secret"]:
        raise BadInput("--ask-secret and --forget-secret exclude each other")
    current = ProfileService(app.store).profile(name)
    changes: dict[str, Any] = {
        field: options[field]
        for field in ("user", "auth", "port", "key_path", "jump", "ca_file")
        if options[field] is not None
    }
    for setting in clear:
        if _CLEARABLE[setting] in changes:
            raise BadInput(f"--clear {setting} and a new value for it exclude each other")
        changes[_CLEARABLE[setting]] = None
    if options["http"] is not None:
        changes["https"] = not options["http"]
    if not changes and not forget_secret and not options["ask_secret"]:
        raise BadInput("nothing to change: give the settings to change (see --help)")
    edited = replace(current, **changes)
    # A new user or way of logging in drops the old secret: ask for the new one if it needs one.
    ask = options["ask_secret"] or (
        edited.needs_secret and not forget_secret and not keeps_secret(current, edited)
    )
    _saved(app, edited, ask, forget_secret, as_json, "Changed")


@profile.command("remove")
@click.argument("name")
@json_option
@with_app
def profile_remove(app: AppContext, name: str, as_json: bool) -> None:
    """Delete profile NAME, its keyring entry and its asset links."""
    unlinked = ProfileService(app.store).delete(name)
    if as_json:
        render.emit_json({"removed": name, "unlinked_assets": unlinked})
    else:
        unlinked_text = f"; {plural(len(unlinked), 'asset')} unlinked" if unlinked else ""
        render.say(f"Removed profile {name}{unlinked_text}")


@profile.command("assign")
@click.argument("asset_key", metavar="ASSET")
@click.argument("name", required=False)
@click.option("--none", "unassign", is_flag=True, help="Remove the asset's profile link.")
@json_option
@with_app
def profile_assign(
    app: AppContext, asset_key: str, name: str | None, unassign: bool, as_json: bool
) -> None:
    """Link ASSET (tag, serial, hostname, or a ticket's asset by ticket ref) to profile NAME."""
    if (name is None) == (not unassign):
        raise BadInput("give a profile NAME, or --none to remove the link")
    asset = find_asset(app, asset_key)
    if asset is None:
        raise NotFound(f"no asset with tag, serial or hostname {asset_key!r}, and no such ticket")
    service = ProfileService(app.store)
    service.assign(asset.id, name)
    if as_json:
        render.emit_json({"asset": asset.id, "tag": asset.tag, "profile": name})
    elif name is None:
        render.say(f"Asset {asset.tag} has no profile link now")
    else:
        render.say(f"Asset {asset.tag} ({asset.hostname or 'no hostname'}) uses profile {name}")


def find_asset(app: AppContext, key: str) -> Asset | None:
    """The asset named by tag, serial or hostname, else the asset of the ticket ``key``.

    None when neither matches; BadInput when the ticket has no asset.
    """
    with app.store.read() as db:
        try:
            return db.asset_by_key(key)
        except NotFound:
            ticket = db.find_ticket(key)
            if ticket is None:
                return None
            asset = db.asset(ticket.asset_id) if ticket.asset_id else None
            if asset is None:
                raise BadInput(f"ticket {ticket.ref} has no asset") from None
            return asset
