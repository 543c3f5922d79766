"""Store benchmarks on a 100,000-ticket cache: seeding, FTS search, list pages.

Run with `make bench`; prints the figures and rewrites tests/bench/RESULTS.md. These are
measurements, not tests: nothing here fails because a goal is missed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.bench.results import RESULTS, TABLE_HEAD, run_stamp
from workbench.core.models import OPEN_STATUSES
from workbench.core.query import TicketQuery
from workbench.resources import load_policy
from workbench.services.demo import seed_demo
from workbench.store import Store


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[int(len(ordered) * 0.95) - 1],
        "max": ordered[-1],
    }


def search_queries(store: Store, count: int, rng: random.Random) -> list[str]:
    """Varied queries: title words and prefixes, serials, hostnames, people, numbers, pairs."""
    with store.engine.connect() as db:
        titles = [r[0] for r in db.exec_driver_sql("SELECT title FROM tickets LIMIT 3000")]
        serials = [r[0] for r in db.exec_driver_sql("SELECT serial FROM assets LIMIT 500")]
        hosts = [r[0] for r in db.exec_driver_sql("SELECT hostname FROM assets LIMIT 500")]
        names = [r[0] for r in db.exec_driver_sql("SELECT name FROM requesters LIMIT 500")]
        numbers = [r[0] for r in db.exec_driver_sql("SELECT number FROM tickets LIMIT 5000")]
    words = [w for t in titles for w in t.split() if len(w) > 3]
    makers: list[Callable[[], str]] = [
        lambda: rng.choice(words),
        lambda: rng.choice(words)[:3],
        lambda: " ".join(rng.sample(words, 2)),
        lambda: rng.choice(serials),
        lambda: rng.choice(serials)[:5],
        lambda: rng.choice(hosts),
        lambda: str.lower(rng.choice(hosts)[:8]),
        lambda: rng.choice(names).split()[-1],
        lambda: rng.choice(numbers),
        lambda: rng.choice(
            [
                "printer",
                "vpn",
                "password",
                "outlook",
                "reimage",
                "driver",
                "toner",
                "locked",
                "wifi",
                "dock",
            ]
        ),
    ]
    return [makers[i % len(makers)]() for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        store = Store.open(Path(tmp))
        seconds = timed(lambda: seed_demo(store, load_policy(), args.tickets, seed=1)) / 1000
        size = (Path(tmp) / "workbench.sqlite3").stat().st_size / 2**20
        report(
            f"| seed {args.tickets:,} tickets (`demo seed`) | {seconds:.1f} s | "
            f"≤ 60 s | cache file {size:.0f} MiB |"
        )

        queries = search_queries(store, args.queries, rng)
        with store.read() as db:
            db.search(queries[0])  # warm the page cache, as a running window would be
            samples = [timed(lambda q=q: db.search(q, 50)) for q in queries]  # type: ignore[misc]
        p = percentiles(samples)
        report(
            f"| FTS search, {len(queries)} varied queries, top 50 | p50 {p['p50']:.1f} ms, "
            f"p95 {p['p95']:.1f} ms | p95 ≤ 20 ms | max {p['max']:.1f} ms |"
        )

        now = datetime.now(UTC)
        views = {
            "all, by SLA due": TicketQuery(sort="sla_due"),
            "open in one queue, by SLA due": TicketQuery(
                queue="service-desk", statuses=OPEN_STATUSES
            ),
            "breaching, by SLA due": TicketQuery(breaching_at=now),
        }
        with store.read() as db:
            for name, query in views.items():
                first = [timed(lambda q=query: db.tickets(q, 0, 200)) for _ in range(20)]
                deep = [timed(lambda q=query: db.tickets(q, 50_000, 200)) for _ in range(5)]
                count = [timed(lambda q=query: db.count(q)) for _ in range(5)]
                report(
                    f"| list page of 200, {name} | first page p50 "
                    f"{statistics.median(first):.1f} ms; page at row 50,000 "
                    f"{statistics.median(deep):.1f} ms; count {statistics.median(count):.1f} ms"
                    " | — | |"
                )
        store.close()

    RESULTS.write_text(
        "# Benchmark results\n\n"
        "Written by `make bench` (tests/bench/run.py); measurements, never asserted in tests.\n\n"
        f"Last run: {run_stamp()}.\n\n" + TABLE_HEAD + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
