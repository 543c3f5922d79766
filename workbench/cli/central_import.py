"""`central import requesters|assets|sites FILE.csv`: bulk upserts from CSV exports (GLPI,
Snipe-IT or a spreadsheet), all or nothing per file (DESIGN.md §11; the reading rules are in
workbench/services/csv_import.py, the upserts in workbench/sync/imports.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from workbench.cli import render
from workbench.cli.central import central_url, url_option
from workbench.cli.context import AppContext
from workbench.cli.lazy import LazyGroup
from workbench.cli.options import json_option, with_app
from workbench.core.errors import BadInput
from workbench.core.imports import ImportReport
from workbench.services import csv_import
from workbench.services.admin import CentralAdmin

# What each kind's command says it does (the reading and upserting are CentralAdmin's).
_HELP = {
    "requesters": "Upsert requesters by e-mail (case-insensitive).",
    "assets": "Upsert assets by asset tag, else serial; owners are requesters.",
    "sites": "Upsert sites by name (case-insensitive); a new one needs a time zone.",
}


# `directory` loads ldap3, so its module is imported only when it runs.
@click.group(
    "import", cls=LazyGroup, lazy={"directory": "workbench.cli.central_directory:directory"}
)
def import_group() -> None:
    """Upsert requesters, assets or sites from a CSV file (admins), all or nothing."""


def _report_json(report: ImportReport) -> dict[str, Any]:
    return {
        "kind": report.kind,
        "new": report.new,
        "changed": report.changed,
        "unchanged": report.unchanged,
        "refused": [{"line": r.line, "reason": r.reason} for r in report.refused],
        "deactivated": report.deactivated,
        "dry_run": report.dry_run,
    }


def _show(report: ImportReport, source: str, as_json: bool) -> None:
    if as_json:
        render.emit_json(_report_json(report))
        return
    counts = (
        f"{report.kind} from {source}: {report.new} new, {report.changed} changed, "
        f"{report.unchanged} unchanged, {len(report.refused)} refused"
    )
    if report.deactivated:
        counts += f", {report.deactivated} deactivated"
    render.say(counts + (" (dry run: nothing written)" if report.dry_run else ""))


def _import(
    app: AppContext,
    kind: str,
    path: Path,
    mappings: tuple[str, ...],
    dry_run: bool,
    url: str | None,
    as_json: bool,
) -> None:
    report = CentralAdmin(central_url(app, url)).import_csv(
        kind, path, csv_import.parse_mappings(mappings), dry_run=dry_run
    )
    _show(report, path.name, as_json)
    if report.refused:
        count = len(report.refused)
        raise BadInput(
            csv_import.refusal_listing(
                path.name, f"{count} row{'s' if count != 1 else ''} refused", report.refused
            )
        )


def _command(kind: str) -> click.Command:
    @click.argument(
        "path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path)
    )
    @click.option(
        "--map",
        "mappings",
        multiple=True,
        metavar="COLUMN=FIELD",
        help="Fill FIELD from the file's COLUMN (COLUMN= leaves it out); repeat.",
    )
    @click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
    @url_option
    @json_option
    @with_app
    def command(
        app: AppContext,
        path: Path,
        mappings: tuple[str, ...],
        dry_run: bool,
        url: str | None,
        as_json: bool,
    ) -> None:
        _import(app, kind, path, mappings, dry_run, url, as_json)

    return click.command(
        kind,
        help=f"{_HELP[kind]} GLPI's and Snipe-IT's export columns are recognised (README).",
    )(command)


for _kind in _HELP:
    import_group.add_command(_command(_kind))
