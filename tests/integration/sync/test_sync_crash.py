"""kill -9 of the syncing process at seeded random moments of push and pull: afterwards a
normal sync leaves every queued operation on the server exactly once and the cache equal to it."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from tests.integration.sync.conftest import Laptop
from tests.integration.sync.test_sync_simulation import _cache_state, _server_state
from workbench.store import sync_state
from workbench.sync import central

pytestmark = [pytest.mark.services, pytest.mark.slow]

# Small batches and windows: many commit points to be killed between.
SYNC_SCRIPT = """
import sys
from pathlib import Path
from workbench.store import Store
from workbench.sync.client import Synchronizer
store = Store.open(Path(sys.argv[1]))
print("ready", flush=True)
Synchronizer(store, sys.argv[2], sys.argv[3], push_batch=5, pull_window=7).sync()
"""


def _kill_sync_at(laptop: Laptop, url: str, delay: float) -> bool:
    """Run a sync in a child process, SIGKILL it `delay` s into the sync; True if it finished."""
    laptop.store.close()  # the child opens the file itself
    child = subprocess.Popen(
        [sys.executable, "-c", SYNC_SCRIPT, str(laptop.data_dir), url, "ana.lopez"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdout.readline() == b"ready\n"
    time.sleep(delay)  # counted from the start of the sync, not of the interpreter
    child.kill()
    _, err = child.communicate(timeout=30)
    assert child.returncode in (0, -9), err.decode()
    return child.returncode == 0


@pytest.mark.parametrize("seed", range(3))
def test_kill_9_during_push_and_pull_loses_and_doubles_nothing(
    laptops: Callable[..., Laptop], central_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    ana = laptops("ana.lopez")
    tickets = [
        ana.service.create(title=f"t{n}", category="hardware", impact=3, urgency=3).ticket.id
        for n in range(8)
    ]
    for n in range(60):
        ana.service.note(rng.choice(tickets), f"note {n}")
    with ana.store.read() as db:
        queued = {op.entity_id for op in db.outbox() if op.entity == "worklog"}
        cursor_before = sync_state.cursor(db)

    finished = _kill_sync_at(ana, central_url, rng.uniform(0.2, 2.0))
    with ana.store.read() as db:
        assert sync_state.cursor(db) >= cursor_before
    ana.sync()

    engine = create_engine(central_url, poolclass=NullPool)
    with engine.connect() as db:
        worklog = db.execute(select(central.worklog.c.id)).scalars().all()
        logged = db.scalar(select(func.count()).select_from(central.mutation_log))
    engine.dispose()
    assert sorted(worklog) == sorted(queued)  # each exactly once
    assert logged == 8 + len(queued)
    assert ana.pending == 0
    assert _cache_state(ana) == _server_state(central_url), f"finished before kill: {finished}"
