"""`central technician|site|audit|policy`: who works here, where, what they ran, the policy."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from workbench.cli import render
from workbench.cli.central import central_url, url_option
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.cli.passwords import stdin_line
from workbench.core.errors import BadInput
from workbench.core.models import Role, Site, Technician
from workbench.services.admin import CentralAdmin, generate_password

ROLES = [r.value for r in Role]


def _password(password_stdin: bool, generate: bool) -> tuple[str | None, bool]:
    """The new password: read from stdin (its length checked with the rest of the input),
    generated (then printed once), or none."""
    if password_stdin:
        return stdin_line("password"), False  # theirs: never printed
    if generate:
        return generate_password(), True
    return None, False


def _admin(app: AppContext, url: str | None) -> CentralAdmin:
    return CentralAdmin(central_url(app, url))


def _show_technician(tech: Technician, as_json: bool, password: str | None = None) -> None:
    if as_json:
        shown = render.record_json(tech)
        if password is not None:
            shown["password"] = password
        render.emit_json({"technician": shown})
        return
    state = "active" if tech.active else "retired"
    render.say(
        f"{tech.login}: {tech.name} <{tech.email}>, tier {tech.tier}, {tech.role.value}, "
        f"sites {', '.join(tech.sites) or '-'}, {state}"
    )
    if password is not None:
        render.say(f"Password for {tech.login} (shown once, give it to them): {password}")


@click.group()
def technician() -> None:
    """Technicians: enrol, change, retire, list (admins; leads may list)."""


@technician.command("add")
@click.argument("login")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--tier", type=WholeNumber(1, 3), required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--site", "sites", multiple=True, help="A site's name or id (repeat).")
@click.option("--password-stdin", is_flag=True, help="Read their password from stdin.")
@click.option(
    "--no-password",
    is_flag=True,
    help="No password: they sign in by client certificate or Kerberos (pg_hba.conf).",
)
@url_option
@json_option
@with_app
def technician_add(
    app: AppContext,
    login: str,
    name: str,
    email: str,
    tier: int,
    role: str,
    sites: tuple[str, ...],
    password_stdin: bool,
    no_password: bool,
    url: str | None,
    as_json: bool,
) -> None:
    """Enrol a technician with their own database login: a SCRAM-SHA-256 password read
    from stdin, else generated and printed once; or none (--no-password)."""
    if no_password and password_stdin:
        raise BadInput("--no-password and --password-stdin exclude each other")
    password, generated = (None, False) if no_password else _password(password_stdin, True)
    added = _admin(app, url).add_technician(
        login, name=name, email=email, tier=tier, role=Role(role), sites=sites,
        password=password,
    )  # fmt: skip
    _show_technician(added, as_json, password if generated else None)


@technician.command("edit")
@click.argument("login")
@click.option("--name")
@click.option("--email")
@click.option("--tier", type=WholeNumber(1, 3))
@click.option("--role", type=click.Choice(ROLES))
@click.option("--site", "sites", multiple=True, help="Replace the sites (repeat).")
@click.option("--reactivate", is_flag=True, help="Let a retired technician sign in again.")
@click.option("--password-stdin", is_flag=True, help="Read a new password from stdin.")
@click.option(
    "--generate-password", "generate", is_flag=True, help="Make a new one and print it once."
)
@url_option
@json_option
@with_app
def technician_edit(
    app: AppContext,
    login: str,
    name: str | None,
    email: str | None,
    tier: int | None,
    role: str | None,
    sites: tuple[str, ...],
    reactivate: bool,
    password_stdin: bool,
    generate: bool,
    url: str | None,
    as_json: bool,
) -> None:
    """Change only what is given; a new password with --password-stdin or --generate."""
    if password_stdin and generate:
        raise BadInput("--password-stdin and --generate-password exclude each other")
    password, generated = _password(password_stdin, generate)
    given = (name, email, tier, role, password)
    if all(value is None for value in given) and not sites and not reactivate:
        raise BadInput("nothing to change: give --name, --email, --tier, --role, --site, …")
    changed = _admin(app, url).edit_technician(
        login, name=name, email=email, tier=tier, role=Role(role) if role else None,
        sites=sites or None, password=password, reactivate=reactivate,
    )  # fmt: skip
    _show_technician(changed, as_json, password if generated else None)


@technician.command("retire")
@click.argument("login")
@url_option
@json_option
@with_app
def technician_retire(app: AppContext, login: str, url: str | None, as_json: bool) -> None:
    """Retire: history kept, the login can no longer sign in or sync."""
    retired = _admin(app, url).retire_technician(login)
    _show_technician(retired, as_json)


@technician.command("list")
@url_option
@json_option
@with_app
def technician_list(app: AppContext, url: str | None, as_json: bool) -> None:
    """Everyone enrolled, active first."""
    found = _admin(app, url).list_technicians()
    if as_json:
        render.emit_json({"technicians": [render.record_json(t) for t in found]})
        return
    render.print_table(
        [
            [
                t.login,
                t.name,
                t.email,
                str(t.tier),
                t.role.value,
                ", ".join(t.sites),
                "active" if t.active else "retired",
            ]
            for t in found
        ],
        ["LOGIN", "NAME", "E-MAIL", "TIER", "ROLE", "SITES", "STATE"],
    )


def _show_site(site: Site, as_json: bool) -> None:
    if as_json:
        render.emit_json({"site": render.record_json(site)})
    else:
        render.say(f"{site.id}: {site.name}, {site.address or '-'} ({site.timezone})")


@click.group()
def site() -> None:
    """Sites: add, change, list (admins; leads may list)."""


@site.command("add")
@click.argument("name")
@click.option("--address", default="")
@click.option("--timezone", required=True, help="IANA name, e.g. Europe/Berlin.")
@url_option
@json_option
@with_app
def site_add(
    app: AppContext, name: str, address: str, timezone: str, url: str | None, as_json: bool
) -> None:
    """Add a site (its time zone drives the SLA clocks of its tickets)."""
    added = _admin(app, url).add_site(name, address, timezone)
    _show_site(added, as_json)


@site.command("edit")
@click.argument("site_key", metavar="SITE")
@click.option("--name")
@click.option("--address")
@click.option("--timezone")
@url_option
@json_option
@with_app
def site_edit(
    app: AppContext,
    site_key: str,
    name: str | None,
    address: str | None,
    timezone: str | None,
    url: str | None,
    as_json: bool,
) -> None:
    """Change a site's name, address or time zone (SITE: its name or id)."""
    if name is None and address is None and timezone is None:
        raise BadInput("nothing to change: give --name, --address or --timezone")
    changed = _admin(app, url).edit_site(site_key, name=name, address=address, timezone=timezone)
    _show_site(changed, as_json)


@site.command("list")
@url_option
@json_option
@with_app
def site_list(app: AppContext, url: str | None, as_json: bool) -> None:
    """All sites."""
    found = _admin(app, url).list_sites()
    if as_json:
        render.emit_json({"sites": [render.record_json(s) for s in found]})
        return
    render.print_table(
        [[s.id, s.name, s.address, s.timezone] for s in found],
        ["ID", "NAME", "ADDRESS", "TIME ZONE"],
    )


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--since {value!r}: use a date (2026-12-01) or an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.option("--host", help="Only jobs on this host.")
@click.option("--technician", "who", metavar="LOGIN", help="Only this technician's.")
@click.option("--since", help="From this date or time (UTC unless it says).")
@click.option("--limit", type=WholeNumber(1, 100_000), default=1000, show_default=True)
@url_option
@json_option
@with_app
def audit(
    app: AppContext,
    host: str | None,
    who: str | None,
    since: str | None,
    limit: int,
    url: str | None,
    as_json: bool,
) -> None:
    """The central audit: remote jobs and administrative changes, newest first (leads)."""
    found = _admin(app, url).audit(
        host=host or "", technician=who or "", since=_since(since), limit=limit
    )
    if as_json:
        render.emit_json({"events": [render.record_json(e) for e in found]})
        return
    render.print_table(
        [
            [
                e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                e.technician,
                e.kind.replace("_", " "),
                e.host or "",
                e.recipe_id or "",
                e.outcome or "",
                "" if e.exit_code is None else str(e.exit_code),
                e.ticket_ref or "",
                e.detail,
            ]
            for e in found
        ],
        ["WHEN (UTC)", "WHO", "WHAT", "HOST", "RECIPE", "OUTCOME", "EXIT", "TICKET", "DETAIL"],
    )


@click.group()
def policy() -> None:
    """The help desk's SLA policy, held centrally and pulled by every cache."""


@policy.command("set")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@url_option
@json_option
@with_app
def policy_set(app: AppContext, file: Path, url: str | None, as_json: bool) -> None:
    """Check FILE (as resources/sla.yaml) and make it the help desk's policy (leads)."""
    number = _admin(app, url).set_policy_from_file(file)
    if as_json:
        render.emit_json({"policy_version": number})
    else:
        render.say(f"The help desk's policy is now version {number}; caches take it at sync.")


@policy.command("history")
@url_option
@json_option
@with_app
def policy_history(app: AppContext, url: str | None, as_json: bool) -> None:
    """Every version set, newest first."""
    found = [(v.number, v.set_by, v.set_at) for v in _admin(app, url).policy_versions()]
    if as_json:
        render.emit_json(
            {
                "versions": [
                    {"policy_version": n, "set_by": who, "set_at": at.isoformat()}
                    for n, who, at in found
                ]
            }
        )
        return
    render.print_table(
        [[str(n), who, at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")] for n, who, at in found],
        ["VERSION", "SET BY", "WHEN (UTC)"],
    )
