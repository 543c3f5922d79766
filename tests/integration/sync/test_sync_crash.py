"""kill -9 of the syncing process at seeded random points of push and pull: afterwards a
normal sync leaves every queued operation on the server exactly once and the cache equal to it.

The syncing process is a fork of the test (no interpreter start-up, so a run takes a fraction
of a second). Half the kills come from inside it at a seeded step (before or after a server
commit, an acknowledgement, a pulled window: both sides of every commit point), half from
outside after a seeded delay (anywhere, including inside SQLite's own commit). Runs per seed:
WORKBENCH_SYNC_CRASH_RUNS (default 10; 5 seeds → 50 kills). Odd seeds sync the 'mine'
scope while another laptop moves tickets out of it, so evictions get killed too.
"""

from __future__ import annotations

import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.integration.sync.test_sync_simulation import _cache_state, _server_state
from workbench.core.query import TicketQuery
from workbench.store import Store, sync_state
from workbench.sync import central, server
from workbench.sync.client import Synchronizer

pytestmark = [pytest.mark.services, pytest.mark.slow]

RUNS = int(os.environ.get("WORKBENCH_SYNC_CRASH_RUNS", "10"))
# The steps a kill from inside may follow: each wrapped function, before and after it runs.
STEPS = (
    (server, "push_batch"),  # after it: applied, not yet committed on the server
    (sync_state, "acknowledge"),  # before it: committed on the server, not acknowledged
    (server, "read_window"),
    (sync_state, "apply_chunk"),  # after it: applied, not yet committed in the cache
)


def _die_at(step: int) -> None:
    """In the child: SIGKILL itself at the `step`-th wrapped call boundary."""
    seen = [0]

    def boundary() -> None:
        seen[0] += 1
        if seen[0] == step:
            os.kill(os.getpid(), signal.SIGKILL)

    for module, name in STEPS:
        real = getattr(module, name)

        def wrapped(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            boundary()
            result = _real(*args, **kwargs)
            boundary()
            return result

        setattr(module, name, wrapped)


def _sync_in_child(laptop: Laptop, url: str, step: int | None, delay: float) -> str:
    """Fork a process that syncs the laptop's file; it dies at `step` or after `delay` s.
    Returns how it ended: 'finished' or 'killed'."""
    laptop.store.close()  # the child opens the file itself
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            if step is not None:
                _die_at(step)
            store = Store.open(laptop.data_dir)
            Synchronizer(store, url, "ana.lopez", push_batch=3, pull_window=4).sync()
            code = 0
        except BaseException:
            traceback.print_exc(file=sys.stderr)
        finally:
            os._exit(code)
    if step is None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return "killed"
    assert os.WEXITSTATUS(status) == 0, "the sync failed in the child (see stderr)"
    return "finished"


@pytest.mark.parametrize("seed", range(5))
def test_kill_9_during_push_and_pull_loses_and_doubles_nothing(
    laptops: Callable[..., Laptop], central_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    scope = "mine" if seed % 2 else "all"  # mine: tickets also leave her cache mid-sync
    ana = laptops("ana.lopez", scope=scope)
    ben = laptops("ben.okafor")  # makes rows for ana to pull, moves tickets out of tier 1
    queued_worklog: set[str] = set()
    ended: list[str] = []
    for run in range(RUNS):
        for laptop in (ana, ben):
            for n in range(rng.randint(0, 3)):
                laptop.service.create(title=f"t{run}.{n}", category="hardware", impact=3, urgency=3)
        with ben.store.read() as db:
            desk = [t.ticket.id for t in db.tickets(TicketQuery(tier=1))]
        if desk and rng.random() < 0.5:
            ben.service.escalate(rng.choice(desk), "field visit")
        ben.sync()
        with ana.store.read() as db:
            tickets = [t.ticket.id for t in db.tickets(TicketQuery(), limit=1000)]
        for n in range(rng.randint(1, 8) if tickets else 0):
            ticket = rng.choice(tickets)
            if rng.random() < 0.3:
                ana.service.update(ticket, {"title": f"edit {run}.{n}"})
            else:
                ana.service.note(ticket, f"note {run}.{n}")
        with ana.store.read() as db:
            queued_worklog.update(op.entity_id for op in db.outbox() if op.entity == "worklog")
            cursor_before = sync_state.cursor(db)

        if rng.random() < 0.5:
            ended.append(_sync_in_child(ana, central_url, rng.randint(1, 12), 0))
        else:
            ended.append(_sync_in_child(ana, central_url, None, rng.uniform(0.0, 0.15)))
        with ana.store.read() as db:
            assert sync_state.cursor(db) >= cursor_before  # a kill never moves it back
        ana.sync()

        engine = create_engine(central_url, poolclass=NullPool)
        with engine.connect() as db:
            worklog = db.execute(select(central.worklog.c.id)).scalars().all()
            logged = db.execute(
                select(func.count(), func.max(central.mutation_log.c.mutation_id)).group_by(
                    central.mutation_log.c.client_id
                )
            ).all()
        engine.dispose()
        assert len(worklog) == len(set(worklog))  # each exactly once
        assert queued_worklog <= set(worklog)  # and none lost
        assert all(count == highest for count, highest in logged)  # no id skipped
        assert ana.pending == 0
        expected = _server_state(central_url, scope_of="ana.lopez" if scope == "mine" else None)
        assert _cache_state(ana) == expected, f"run {run}: {ended[-1]}"
    assert "killed" in ended  # the seeds do kill: the runs test what they claim
