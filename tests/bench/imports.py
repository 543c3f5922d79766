"""Import benchmark against a real PostgreSQL (DESIGN.md §11): `central import requesters` of a
100,000-row CSV (GLPI's export shape) vs. a raw `COPY` of the same file into a bare table, and
a rerun of the same file (nothing changes).

Run with `.venv/bin/python -m tests.bench.imports`: starts its own throw-away PostgreSQL (or
uses WORKBENCH_TEST_PG_URL), prints the figures and replaces the "Imports" section of
tests/bench/RESULTS.md. Measurements, not tests: nothing fails because a goal is missed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.bench.results import RESULTS, write_section
from tests.bench.sync import central_database, postgres
from tests.support.postgres import PgServer
from workbench.core.imports import ImportReport
from workbench.core.models import Role
from workbench.services.csv_import import read_requesters
from workbench.sync.admin import admin_session
from workbench.sync.imports import upsert_requesters

SECTION = "## Imports"
HEADER = ("Login", "Last name", "First name", "Emails", "Phone", "Location", "Category", "Active")
DEPARTMENTS = ("Accounting", "Facilities", "HR", "IT", "Payroll", "Legal", "Fleet")


def write_export(path: Path, count: int) -> None:
    """A GLPI-shaped Users export: `;`, a byte order mark, every cell quoted."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        out.write(";".join(f'"{h}"' for h in HEADER) + "\r\n")
        for n in range(count):
            cells = (
                f"user{n:06d}", f"Lastname{n}", f"Firstname{n % 997}",
                f"user{n:06d}@agency.example", f"360-555-{n % 10_000:04d}", "Olympia HQ",
                DEPARTMENTS[n % len(DEPARTMENTS)], "Yes" if n % 50 else "No",
            )  # fmt: skip
            out.write(";".join(f'"{c}"' for c in cells) + "\r\n")


def import_file(url: str, path: Path) -> tuple[ImportReport, float, float]:
    """What `central import requesters FILE` does: (report, seconds reading the file, seconds
    in all, the connection and commit included)."""
    started = time.perf_counter()
    parsed = read_requesters(path, {})
    read_s = time.perf_counter() - started
    with admin_session(url, Role.ADMIN, "import requesters") as session:
        report = upsert_requesters(
            session, parsed.records, fields=parsed.fields, refused=parsed.refused, source=path.name
        )
    return report, read_s, time.perf_counter() - started


def timed_copy(url: str, create: str, statement: str, data: bytes) -> float:
    """Seconds to COPY `data` into the table `create` makes, one transaction."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        db.execute(text(create))
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
            copy.write(data)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()


def raw_copy(url: str, path: Path) -> float:
    """The baseline: the same file into a bare table of text columns (no key, no index)."""
    columns = ", ".join(f"c{n} text" for n in range(len(HEADER)))
    return timed_copy(
        url,
        f"CREATE TABLE bare_requesters ({columns})",
        "COPY bare_requesters FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')",
        path.read_bytes(),
    )


def indexed_copy(url: str) -> float:
    """A second reference: the rows the import wrote, copied into a twin of the central
    table with its key and indexes (what storing them costs the server at the least)."""
    engine = create_engine(url, poolclass=NullPool)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor, cursor.copy("COPY requesters TO STDOUT") as copy:  # type: ignore[attr-defined]
            rows = b"".join(bytes(block) for block in copy)
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return timed_copy(
        url,
        "CREATE TABLE twin_requesters (LIKE requesters INCLUDING ALL)",
        "COPY twin_requesters FROM STDIN",
        rows,
    )


def import_round(server: PgServer, path: Path) -> tuple[float, ...]:
    """One fresh central database: (import s, of which reading s, rerun s, raw COPY s, COPY
    into the indexed twin s)."""
    url = central_database(server)
    report, read_s, import_s = import_file(url, path)
    assert report.refused == () and report.new > 0, report
    again, _, rerun_s = import_file(url, path)
    assert again.new == again.changed == 0, again
    return import_s, read_s, rerun_s, raw_copy(url, path), indexed_copy(url)


def bench_import(server: PgServer, base: Path, count: int, rounds: int) -> list[str]:
    path = base / "glpi_users_100k.csv"
    write_export(path, count)
    # Each round compares within itself: this machine's speed drifts by tens of per cent.
    measured = [import_round(server, path) for _ in range(rounds)]
    import_s, read_s, rerun_s, copy_s, twin_s = (
        statistics.median(m[i] for m in measured) for i in range(5)
    )
    ratio = statistics.median(m[0] / m[3] for m in measured)
    twin_ratio = statistics.median(m[0] / m[4] for m in measured)
    size = path.stat().st_size / 2**20
    return [
        f"| `central import requesters` of {count:,} new requesters from a CSV "
        f"(GLPI Users export, {size:.0f} MiB; median of {rounds} rounds) | {import_s:.2f} s "
        f"({count / import_s:,.0f} rows/s; reading and checking the file {read_s:.2f} s) vs "
        f"raw `COPY` of the same file into a bare table {copy_s:.2f} s = {ratio:.1f}×; vs "
        f"`COPY` of the rows it wrote into a twin of the central table (key and indexes) "
        f"{twin_s:.2f} s = {twin_ratio:.1f}× | ≤ 3× | import: decode, header mapping, "
        "e-mail checks, site lookup, one query for existing e-mails, one INSERT over arrays "
        "with a version per row, audit, commit; bare COPY: text columns, no key, no index; "
        "ratios are medians of each round's own; loopback without TLS |",
        f"| rerun of the same file ({count:,} unchanged) | median {rerun_s:.2f} s | — | reads "
        "and compares, writes only the audit row |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requesters", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with postgres() as server, tempfile.TemporaryDirectory() as tmp:
        lines = bench_import(server, Path(tmp), args.requesters, args.rounds)
    for line in lines:
        print(line, flush=True)
    if not args.no_write:
        write_section(SECTION, "tests/bench/imports.py", lines)
        print(f"wrote the {SECTION[3:]} section of {RESULTS}")


if __name__ == "__main__":
    main()
