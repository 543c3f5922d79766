"""`central demo seed`: the demo data set on an empty central database, with a login for every
demo technician, so a team can try several laptops against it (README "Try it with a team")."""

from __future__ import annotations

import time

import click

from workbench.cli import render
from workbench.cli.central import central_url, url_option
from workbench.cli.context import AppContext
from workbench.cli.options import WholeNumber, json_option, with_app
from workbench.resources import load_policy
from workbench.services.demo import MAX_TICKETS, seed_demo
from workbench.sync import central, demo_central


@click.group("demo")
def demo_group() -> None:
    """Demo data on the central database, for trying the workbench as a team."""


@demo_group.command("seed")
@click.option("--tickets", type=WholeNumber(1, MAX_TICKETS), default=1000, show_default=True)
@click.option(
    "--seed", type=WholeNumber(0, 2**32 - 1), default=1, show_default=True, help="Random seed."
)
@url_option
@json_option
@with_app
def demo_seed(app: AppContext, tickets: int, seed: int, url: str | None, as_json: bool) -> None:
    """Fill an empty central database with the demo data and enrol every demo technician
    with a database login; their passwords are printed once (the database owner only)."""
    target = central_url(app, url)
    started = time.perf_counter()
    demo = demo_central.seed_central(
        target, lambda store: seed_demo(store, load_policy(), tickets, seed=seed)
    )
    seconds = round(time.perf_counter() - started, 2)
    technicians = [
        {
            "login": d.technician.login,
            "name": d.technician.name,
            "tier": d.technician.tier,
            "role": d.technician.role.value,
            "password": d.password,
        }
        for d in demo.logins
    ]
    if as_json:
        render.emit_json(
            {
                "url": central.masked(target),
                "seeded": demo.counts,
                "technicians": technicians,
                "seconds": seconds,
            }
        )
        return
    parts = ", ".join(f"{count:,} {name}" for name, count in demo.counts.items())
    render.say(f"Seeded {parts} in {seconds} s into {central.masked(target)}.")
    render.say("Each technician's own database login (passwords are shown only this once):")
    render.print_table(
        [[d.technician.login, d.technician.role.value, d.password] for d in demo.logins],
        ["LOGIN", "ROLE", "PASSWORD"],
    )
