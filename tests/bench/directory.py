"""Directory import benchmark: 10,000 people from a real OpenLDAP slapd (server size limit
1,000, so only a paged search gets them all) into a real PostgreSQL central, over LDAPS.

Run with `.venv/bin/python -m tests.bench.directory`: starts its own throw-away slapd
(tests/support/slapd.py) and PostgreSQL (or uses WORKBENCH_TEST_PG_URL), prints the figures
and replaces the "Directory import" section of tests/bench/RESULTS.md. Measurements, not
tests: nothing fails because a figure is slow.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from tests.bench.results import RESULTS, write_section
from tests.bench.sync import central_database, postgres
from tests.support.slapd import (
    PEOPLE,
    TECHNICIANS_GROUP,
    SlapdServer,
    find_slapd,
    numbered_people,
    running_slapd,
)
from workbench.services.directory import (
    DEFAULT_FILTER,
    DEFAULT_MAP,
    Bind,
    DirectorySearch,
    directory_server,
    import_directory,
    read_directory,
)

SECTION = "## Directory import"
SIZE_LIMIT = 1000  # Active Directory's MaxPageSize
T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    done = work()
    return done, time.perf_counter() - started


def ldapsearch_seconds(slapd: SlapdServer, page_size: int) -> float:
    """OpenLDAP's own client reading the same entries and attributes, paged, over LDAPS."""
    with tempfile.TemporaryDirectory() as tmp:
        password = Path(tmp) / "password"
        password.write_text(slapd.reader_password, encoding="ascii")  # -y: not on argv
        password.chmod(0o600)
        started = time.perf_counter()
        subprocess.run(
            ["ldapsearch", "-x", "-LLL", "-H", slapd.ldaps_url, "-D", slapd.reader_dn,
             "-y", str(password), "-b", PEOPLE, "-E", f"pr={page_size}/noprompt",
             DEFAULT_FILTER, *sorted({a for s in DEFAULT_MAP.values() for p in s for a in p}),
             "userAccountControl"],
            env={**os.environ, "LDAPTLS_CACERT": str(slapd.ca_file)},
            stdout=subprocess.DEVNULL, check=True,
        )  # fmt: skip
        return time.perf_counter() - started


def bench(people: int, rounds: int) -> list[str]:
    tools = find_slapd()
    if tools is None:
        raise SystemExit("no OpenLDAP slapd/slapadd/ldapadd found; `make test` installs them")
    members = [p.dn() for p in numbered_people(20)]
    with (
        running_slapd(*tools, numbered_people(people), members, SIZE_LIMIT) as slapd,
        postgres() as pg,
    ):
        server = directory_server(slapd.ldaps_url, starttls=False, ca_file=slapd.ca_file)
        search = DirectorySearch(PEOPLE, technicians_group=TECHNICIANS_GROUP)
        bind = Bind(slapd.reader_dn, slapd.reader_password)
        url = central_database(pg)
        listing, first_read = timed(partial(read_directory, server, search, bind))
        first, first_write = timed(partial(import_directory, url, server, search, listing))
        assert first.requesters.new == people and len(first.enrolled) == 20, first
        reruns = []
        for _ in range(rounds):
            listing, read_s = timed(partial(read_directory, server, search, bind))
            again, write_s = timed(partial(import_directory, url, server, search, listing))
            assert again.requesters.unchanged == people, again.requesters
            reruns.append((read_s, write_s))
        raw = statistics.median(ldapsearch_seconds(slapd, search.page_size) for _ in range(rounds))
    read_median = statistics.median(r for r, _ in reruns)
    write_median = statistics.median(w for _, w in reruns)
    pages = -(-people // search.page_size)
    return [
        f"| directory import of {people:,} people (first run: all new, 20 technicians "
        f"enrolled) | {first_read + first_write:.2f} s: read {first_read:.2f} s "
        f"({people / first_read:,.0f} entries/s) + central upsert {first_write:.2f} s | — | "
        f"LDAPS to slapd on loopback, server size limit {SIZE_LIMIT:,}, {pages} pages of "
        f"{search.page_size}; one PostgreSQL transaction |",
        f"| directory import rerun, nothing changed (median of {rounds}) | "
        f"{read_median + write_median:.2f} s: read {read_median:.2f} s + central compare "
        f"{write_median:.2f} s; OpenLDAP's `ldapsearch` reading the same pages "
        f"{raw:.2f} s = {read_median / raw:.1f}× | — | the read is ldap3 (pure Python) "
        "decoding every entry |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    lines = bench(args.people, args.rounds)
    for line in lines:
        print(line, flush=True)
    if not args.no_write:
        write_section(SECTION, "tests/bench/directory.py", lines)
        print(f"wrote the {SECTION[3:]} section of {RESULTS}")


if __name__ == "__main__":
    main()
