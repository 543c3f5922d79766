"""`workbench secrets status|vault`: where passwords and passphrases are kept.

Where no OS keyring runs (a minimal or headless Linux), `secrets vault` creates an encrypted
vault file unlocked by a passphrase (``workbench.core.secrets``); never a plaintext file.
"""

from __future__ import annotations

import click

from workbench.cli import render
from workbench.cli.options import json_option
from workbench.cli.passwords import read_secret, stdin_line
from workbench.core import secrets


@click.group("secrets")
def secrets_group() -> None:
    """Where the Workbench keeps secrets: the OS keyring, or an encrypted vault."""


@secrets_group.command("status")
@json_option
def secrets_status(as_json: bool) -> None:
    """Which backend holds the secrets."""
    backend = secrets.describe_backend()
    if as_json:
        render.emit_json({"backend": backend, "vault": str(secrets.vault_path())})
        return
    render.say(f"Secrets are kept in: {backend}")


@secrets_group.command("vault")
@click.option(
    "--passphrase-stdin", is_flag=True, help="Read the new passphrase from stdin (one line)."
)
@json_option
def secrets_vault(passphrase_stdin: bool, as_json: bool) -> None:
    """Create an encrypted vault for the secrets, unlocked by a passphrase (for computers
    without an OS keyring). From then on every secret is kept there; the passphrase is asked
    once per command, or taken from $WORKBENCH_VAULT_PASSPHRASE."""
    if passphrase_stdin:
        passphrase = stdin_line("vault passphrase")
    else:
        passphrase = read_secret(
            "New passphrase of the secrets vault",
            "vault passphrase",
            stdin_option="--passphrase-stdin",
            confirm=True,
        )
    path = secrets.create_vault(passphrase)
    if as_json:
        render.emit_json({"vault": str(path), "backend": secrets.describe_backend()})
        return
    render.say(
        f"Created the encrypted secrets vault {path}: secrets are kept there from now on "
        "(those already in a keyring stay there: save them again to move them)."
    )
