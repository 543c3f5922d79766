"""Reading a secret the technician types: hidden on a terminal; without one, from stdin.

Python's getpass falls back to an echoing read with a GetPassWarning when stdin is no
terminal; here a secret is then one line of stdin read quietly, or, where the command has an
option that says so (``--password-stdin``), refused with that option named.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from workbench.core.errors import BadInput


def has_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def stdin_line(what: str) -> str:
    """One line of stdin without its line end; "" at the end of the input."""
    try:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        # Under a C locale stdin decodes with surrogateescape: undecodable bytes survive
        # until the secret is used; they are refused here instead.
        line.encode("utf-8")
    except UnicodeError:
        raise BadInput(f"the {what} on stdin is not UTF-8 text") from None
    return line.removesuffix("\n").removesuffix("\r")


def read_secret(
    prompt: str,
    what: str,
    *,
    stdin_option: str | None = None,
    allow_empty: bool = False,
    confirm: bool = False,
) -> str:
    """The secret typed at a hidden prompt on stderr (twice with ``confirm``); with no
    terminal, one line of stdin, or, when the command has ``stdin_option``, a refusal naming
    it."""
    if has_terminal():
        typed: str = click.prompt(
            prompt,
            hide_input=True,
            err=True,
            default="" if allow_empty else None,
            show_default=False,
            confirmation_prompt=confirm,
        )
        return typed
    if stdin_option is not None:
        raise BadInput(f"no terminal to type the {what} on: give it on stdin with {stdin_option}")
    return stdin_line(what)


def vault_passphrase(path: Path) -> str:
    """The passphrase of the secrets vault, typed on the terminal; "" without one (the
    refusal then names $WORKBENCH_VAULT_PASSPHRASE)."""
    if not has_terminal():
        return ""
    return read_secret(f"Passphrase of the secrets vault {path}", "vault passphrase")
