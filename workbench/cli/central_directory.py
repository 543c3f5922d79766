"""`central import directory`: requesters and technicians from LDAP / Active Directory."""

from __future__ import annotations

from pathlib import Path

import click

from workbench.cli import render
from workbench.cli.central import central_url, url_option
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import read_secret, stdin_line
from workbench.core.errors import BadInput
from workbench.services import directory as ldap_directory

SKIPPED_SHOWN = 20  # of the entries left out, in the text output (--json lists all)


def _bind(bind_dn: str | None, password_stdin: bool) -> ldap_directory.Bind:
    """The bind DN and its password: from stdin, else the keyring, else a hidden prompt."""
    if bind_dn is None:
        if password_stdin:
            raise BadInput("--password-stdin needs --bind DN")
        return ldap_directory.Bind(None)
    if password_stdin:
        return ldap_directory.Bind(bind_dn, stdin_line("bind password"))
    stored = ldap_directory.stored_password(bind_dn)
    if stored:
        return ldap_directory.Bind(bind_dn, stored, from_keyring=True)
    typed = read_secret(f"Password for {bind_dn}", "bind password", stdin_option="--password-stdin")
    return ldap_directory.Bind(bind_dn, typed)


@click.command("directory")
@click.option(
    "--ldap",
    "ldap_url",
    required=True,
    metavar="ldaps://HOST[:PORT]",
    help="The directory: ldaps://, or ldap:// with --starttls.",
)
@click.option("--base", required=True, metavar="DN", help="Where the people are.")
@click.option("--bind", "bind_dn", metavar="DN", help="Bind as (default: anonymous).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the bind password from stdin (else the keyring, else a hidden prompt).",
)
@click.option(
    "--filter",
    "search_filter",
    metavar="FILTER",
    default=ldap_directory.DEFAULT_FILTER,
    show_default=True,
    help="Which entries are people.",
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="ATTR=FIELD",
    help="Take FIELD (email, name, phone, department, site, login) from ATTR instead of "
    "the default; repeat for fallbacks, ATTR+ATTR joins two, =FIELD leaves phone, "
    "department or site as they are.",
)
@click.option(
    "--technicians-group",
    metavar="DN",
    help="A group whose members become technicians (tier 1, agent) unless enrolled.",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="PEM CA certificate(s) to verify the directory's certificate (default: system CAs).",
)
@click.option("--starttls", is_flag=True, help="Upgrade ldap:// to TLS before the bind.")
@click.option(
    "--page-size",
    type=WholeNumber(1, 100_000),
    default=ldap_directory.PAGE_SIZE,
    show_default=True,
    help="Entries per page of the paged search.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")
@url_option
@json_option
@with_app
def directory(
    app: AppContext,
    ldap_url: str,
    base: str,
    bind_dn: str | None,
    password_stdin: bool,
    search_filter: str,
    mappings: tuple[str, ...],
    technicians_group: str | None,
    ca_file: Path | None,
    starttls: bool,
    page_size: int,
    dry_run: bool,
    url: str | None,
    as_json: bool,
) -> None:
    """Import the people of an LDAP / Active Directory directory as requesters (rerunnable:
    changed people are updated, people no longer there become inactive, never deleted) and
    the members of --technicians-group as technicians."""
    server = ldap_directory.directory_server(ldap_url, starttls, ca_file)
    search = ldap_directory.DirectorySearch(
        base, search_filter, ldap_directory.attribute_map(mappings), technicians_group, page_size
    )
    target = central_url(app, url)
    listing = ldap_directory.read_directory(server, search, _bind(bind_dn, password_stdin))
    result = ldap_directory.import_directory(target, server, search, listing, dry_run)
    if as_json:
        render.emit_json(render.record_json(result))
        return
    report = result.requesters
    render.say(
        f"{'Would import' if dry_run else 'Imported'} {result.entries} entries from "
        f"{result.directory} ({result.base}): {report.new} new, {report.changed} changed, "
        f"{report.unchanged} unchanged, {report.deactivated} now inactive."
    )
    if result.enrolled or result.already_enrolled:
        render.say(
            f"Technicians {'to enrol' if dry_run else 'enrolled'}: "
            f"{', '.join(result.enrolled) or 'none'}; "
            f"enrolled already (left as they are): {', '.join(result.already_enrolled) or 'none'}."
        )
    if result.skipped:
        render.say(f"Left out {len(result.skipped)} entries:")
        for skipped in result.skipped[:SKIPPED_SHOWN]:
            render.say(f"  {skipped.dn}: {skipped.reason}")
        if len(result.skipped) > SKIPPED_SHOWN:
            render.say(f"  … and {len(result.skipped) - SKIPPED_SHOWN} more (--json lists all)")
    if dry_run:
        render.say("Dry run: nothing was changed.")
