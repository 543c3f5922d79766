"""Sync benchmarks against a real PostgreSQL (DESIGN.md §9): push 10,000 operations vs. a raw
bulk insert of the same rows, pull 100,000 tickets vs. a raw COPY of them, a no-change round.

Run with `.venv/bin/python -m tests.bench.sync` (`make bench` does): starts its own throw-away
PostgreSQL (or uses WORKBENCH_TEST_PG_URL), prints the figures and replaces the "Sync" section
of tests/bench/RESULTS.md. Measurements, not tests: nothing fails because a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.bench.results import RESULTS, write_section
from tests.integration.sync.conftest import prepare_central
from tests.support.postgres import (
    PG_URL_ENV,
    PgServer,
    _external_server,
    find_pg_bindir,
    temp_pg_server,
)
from tests.support.workbench import AGENT, Clock
from workbench.core.models import Role, WorklogEntry, WorklogKind
from workbench.resources import load_policy
from workbench.services.tickets import TicketService, new_id
from workbench.store import Store, codec, schema
from workbench.sync import admin, central
from workbench.sync.client import Synchronizer

SECTION = "## Sync"


@contextlib.contextmanager
def postgres() -> Iterator[PgServer]:
    if os.environ.get(PG_URL_ENV):
        yield _external_server(os.environ[PG_URL_ENV])
        return
    bindir = find_pg_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL (initdb/pg_ctl) found; `make test` installs it")
    with temp_pg_server(bindir) as server:
        yield server


def central_database(server: PgServer) -> str:
    """A new central database, reached without TLS: the test server offers it, and its cost
    per byte would weigh on the raw baselines more than on the sync and flatter the ratios."""
    url = make_url(prepare_central(server.create_database()))
    return url.update_query_dict({"sslmode": "disable"}).render_as_string(hide_password=False)


def fresh_cache(base: Path, name: str) -> Store:
    data_dir = base / name
    data_dir.mkdir()
    return Store.open(data_dir)


def queue_operations(store: Store, total: int, tickets: int) -> None:
    """`tickets` tickets made through the service (ticket + opening entry each), then notes
    on them written in one transaction, up to `total` operations."""
    service = TicketService(store, load_policy(), AGENT.login, Clock(datetime.now(UTC)))
    ids = [
        service.create(title=f"bench {n}", category="hardware", impact=3, urgency=3).ticket.id
        for n in range(tickets)
    ]
    now = datetime.now(UTC)
    with store.write() as tx:
        for n in range(total - 2 * tickets):
            tx.append_worklog(
                WorklogEntry(
                    new_id(), ids[n % len(ids)], WorklogKind.NOTE, AGENT.login,
                    f"bench note {n} on the printer in room {n % 97}", n % 30, now,
                )
            )  # fmt: skip


def raw_insert(url: str, table: str, rows: list[dict[str, Any]]) -> float:
    """Seconds for psycopg's executemany of `rows` into an empty twin of `table`, one
    transaction (what the push writes, without the protocol)."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        db.execute(text(f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING ALL)"))
    columns = list(rows[0])
    statement = (
        f"INSERT INTO raw_{table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('%s' for _ in columns)})"
    )
    values = [tuple(row[c] for c in columns) for row in rows]
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.executemany(statement, values)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()


def central_rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as db:
        rows = [dict(r) for r in db.execute(select(central.metadata.tables[table])).mappings()]
    engine.dispose()
    return rows


BENCH_PASSWORD = "bench-Pa55-word"


def signed_in_as_agent(url: str) -> str:
    """The URL signed in with the agent's own login role (enrolled here with a password):
    row-level security and the role checks apply, as on a technician's laptop."""
    with admin.admin_session(url, Role.ADMIN, "enrol") as session:
        admin.edit_technician(session, AGENT.login, {}, BENCH_PASSWORD)
    return (
        make_url(url)
        .set(username=AGENT.login, password=BENCH_PASSWORD)
        .render_as_string(hide_password=False)
    )


def push_round(
    server: PgServer, base: Path, operations: int, as_technician: bool = False
) -> tuple[int, float, float, float]:
    """One push into a fresh central database, then the raw inserts of the rows it wrote:
    (operations applied, push seconds, raw data rows seconds, raw log rows seconds).
    as_technician: pushed through the agent's own login role instead of the owner's."""
    url = central_database(server)
    push_url = signed_in_as_agent(url) if as_technician else url
    store = fresh_cache(base, f"push-{uuid.uuid4().hex[:8]}")
    sync = Synchronizer(store, push_url, AGENT.login, scope="all")
    sync.sync()  # reference data
    queue_operations(store, operations, operations // 20)
    engine = central.connect(push_url)
    try:
        started = time.perf_counter()
        pushed = sync.push(engine)
        push_s = time.perf_counter() - started
    finally:
        engine.dispose()
    store.close()
    raw_s = raw_insert(url, "tickets", central_rows(url, "tickets")) + raw_insert(
        url, "worklog", central_rows(url, "worklog")
    )
    log_s = raw_insert(url, "mutation_log", central_rows(url, "mutation_log"))
    return pushed.applied, push_s, raw_s, log_s


def bench_push(server: PgServer, base: Path, operations: int, rounds: int = 5) -> list[str]:
    # Each round compares within itself: this machine's speed drifts by tens of per cent.
    measured = [push_round(server, base, operations) for _ in range(rounds)]
    applied = measured[0][0]
    push_s = statistics.median(m[1] for m in measured)
    raw_s = statistics.median(m[2] for m in measured)
    data_ratio = statistics.median(m[1] / m[2] for m in measured)
    # The protocol also writes a log row per operation (its id and content hash).
    all_ratio = statistics.median(m[1] / (m[2] + m[3]) for m in measured)
    return [
        f"| push {applied:,} operations ({operations // 20:,} new tickets with their opening "
        f"entries, the rest notes), batches of 500 (median of {rounds} rounds) | "
        f"{push_s:.2f} s ({applied / push_s:,.0f} ops/s) vs raw psycopg executemany of the "
        f"same ticket and worklog rows {raw_s:.2f} s = {data_ratio:.1f}×; vs the same "
        f"executemany of those rows and the push's mutation log rows = {all_ratio:.1f}× | "
        "≤ 3× | each batch: read from the outbox, clock row lock, parent checks, ticket "
        "numbers, versions, content hashes, mutation log; outbox deleted after the commit; "
        "ratios are medians of each round's own; loopback without TLS |"
    ]


def bench_push_signed_in(
    server: PgServer, base: Path, operations: int, rounds: int = 5
) -> list[str]:
    """The push through the owner's account and through a technician's own login role
    (row-level security, role checks), rounds interleaved so drift weighs on both alike."""
    owner: list[float] = []
    technician: list[float] = []
    for _ in range(rounds):
        owner.append(push_round(server, base, operations)[1])
        technician.append(push_round(server, base, operations, as_technician=True)[1])
    owner_s, technician_s = statistics.median(owner), statistics.median(technician)
    return [
        f"| push {operations:,} operations signed in as the agent's own login role vs the "
        f"owner's account (median of {rounds} interleaved rounds each) | {technician_s:.2f} s "
        f"vs {owner_s:.2f} s = {technician_s / owner_s:.2f}× | ≤ 1.10× | row-level security "
        "policies on every written table (their functions once per statement), a statement "
        "trigger keeping versions ahead of the clock, the client id claimed per batch; "
        "identity and wb_refusal asked once per connection; the owner's account bypasses "
        "row-level security |"
    ]


def ticket_rows(count: int, first_version: int) -> Iterator[tuple[Any, ...]]:
    now = datetime.now(UTC)
    for n in range(count):
        created = now - timedelta(minutes=count - n)
        yield (
            str(uuid.uuid4()), f"HD-{n + 1:06d}", None, f"Printer {n} does not print",
            f"Ticket {n}: the printer in room {n % 97} shows an error", None, None, "site-oly",
            "printing", "phone", 3, 3, "P4", None, "service-desk", 1, None, "new", None, None,
            created, created, created + timedelta(hours=8), created + timedelta(days=5),
            None, None, None, "[]", first_version + n, "bench",
        )  # fmt: skip


def store_load(raw: Any, url: str, base: Path) -> float:
    """Seconds to select the tickets and write them with the cache's own bulk load (its
    indexes, each ticket's SLA sort key, the search index; one transaction): what the
    store's writing costs a pull, without the protocol."""
    sites = [codec.site_from_row(r) for r in central_rows(url, "sites")]
    started = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SELECT * FROM tickets")
        names = [d.name for d in cursor.description]
        tickets = [
            codec.ticket_from_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()
        ]
    store = fresh_cache(base, "load")
    with store.write() as tx:
        tx.load_snapshot(sites=sites, tickets=tickets)
    store.close()
    seconds = time.perf_counter() - started
    raw.commit()
    return seconds


def bench_pull(server: PgServer, base: Path, count: int) -> list[str]:
    url = central_database(server)
    columns = [c.name for c in central.tickets.columns]
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as db:
        first = int(db.scalar(select(central.sync_clock.c.clock)) or 0) + 1
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            with cursor.copy(f"COPY tickets ({', '.join(columns)}) FROM STDIN") as copy:
                for row in ticket_rows(count, first):
                    copy.write_row(row)
            cursor.execute("UPDATE sync_clock SET clock = %s", (first + count - 1,))
            cursor.execute("ANALYZE tickets")
        raw.commit()
        # The baseline: the same rows out of PostgreSQL with COPY, as text, into memory.
        started = time.perf_counter()
        with raw.cursor() as cursor, cursor.copy("COPY tickets TO STDOUT") as copy:  # type: ignore[attr-defined]
            received = io.BytesIO()
            for block in copy:
                received.write(block)
        copy_s = time.perf_counter() - started
        raw.commit()
        # A second reference: the same rows selected and written into a bare SQLite table
        # (no index, no FTS, one transaction) with the sqlite3 module.
        started = time.perf_counter()
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT * FROM tickets")
            rows = cursor.fetchall()
        bare = sqlite3.connect(base / "bare.sqlite3")
        bare.execute(f"CREATE TABLE tickets ({', '.join(columns)})")
        with bare:
            bare.executemany(
                f"INSERT INTO tickets VALUES ({', '.join('?' for _ in columns)})",
                [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in rows],
            )
        bare.close()
        bare_s = time.perf_counter() - started
        raw.commit()
        load_s = store_load(raw, url, base)
    finally:
        raw.close()
        engine.dispose()

    store = fresh_cache(base, "pull")
    sync = Synchronizer(store, url, AGENT.login, scope="all")
    started = time.perf_counter()
    report = sync.sync()
    pull_s = time.perf_counter() - started
    with store.read() as db:
        cached = db._db.scalar(select(func.count()).select_from(schema.tickets))
    rounds = []
    for _ in range(20):
        started = time.perf_counter()
        sync.sync()
        rounds.append(time.perf_counter() - started)
    store.close()
    return [
        f"| pull {cached:,} tickets into an empty cache (windows of 2,000, scope all) | "
        f"{pull_s:.1f} s ({report.pulled / pull_s:,.0f} rows/s) vs raw `COPY tickets TO "
        f"STDOUT` {copy_s:.2f} s ({len(received.getvalue()) / 2**20:.0f} MiB) = "
        f"{pull_s / copy_s:.0f}×; vs SELECT into a bare SQLite table {bare_s:.1f} s = "
        f"{pull_s / bare_s:.1f}×; vs the cache's own bulk load of them (its indexes, SLA sort "
        f"keys, search index; one transaction) {load_s:.1f} s = {pull_s / load_s:.1f}× | ≤ 3× | "
        "the pull also upserts, computes each ticket's SLA sort key, indexes it for search "
        "(FTS5) and commits per window of 2,000 |",
        f"| no-change sync round trip (push nothing, pull nothing, sanity counts), {cached:,} "
        f"tickets cached | median {statistics.median(rounds) * 1000:.0f} ms, max "
        f"{max(rounds) * 1000:.0f} ms (20 rounds) | — | one connection per round, its connect "
        "included |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    lines: list[str] = []
    with postgres() as server, tempfile.TemporaryDirectory() as tmp:
        for part in (
            bench_push(server, Path(tmp), args.operations),
            bench_push_signed_in(server, Path(tmp), args.operations),
            bench_pull(server, Path(tmp), args.tickets),
        ):
            for line in part:
                print(line, flush=True)
            lines.extend(part)
    if not args.no_write:
        write_section(SECTION, "tests/bench/sync.py", lines)
        print(f"wrote the {SECTION[3:]} section of {RESULTS}")


if __name__ == "__main__":
    main()
