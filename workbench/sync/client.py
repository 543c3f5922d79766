"""One sync round of a cache with the central database: push the outbox, then pull.

Push: batches of outbox operations, each one PostgreSQL transaction; the cache deletes a
batch's operations only after the server committed it (a lost acknowledgement just means
the batch is sent again and recognised). Pull: versions above the cursor, window by window,
each window and the cursor that covers it in one SQLite transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from filelock import FileLock, Timeout
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from workbench.core.errors import StoreError, WorkbenchError
from workbench.store import Store, Writer, sync_state
from workbench.sync import central, server
from workbench.sync.identity import acting_as

log = logging.getLogger(__name__)

PUSH_BATCH = 500
PULL_WINDOW = 2000
# A client clock further off the server's than this is flagged (DESIGN.md §5, clocks).
CLOCK_SKEW_LIMIT_S = 300
SYNC_LOCK_NAME = "sync.lock"  # beside the cache file; held (flock) while a round runs
# How often a connect in progress looks whether the sync was asked to stop.
STOP_POLL_S = 0.05


class SyncBusy(WorkbenchError):
    """Another process is syncing this cache."""


class SyncStopped(WorkbenchError):
    """The sync was asked to stop (the window is closing) between two commits."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    pushed: int
    duplicates: int
    pulled: int
    new_conflicts: int
    open_conflicts: int
    renumbered: bool
    client_id: str
    cursor: int
    clock_skew_s: float
    resynced: bool  # the sanity check found a difference and the scope was pulled again
    mismatched: tuple[str, ...]  # tables still differing after that (normally none)
    seconds: float

    @property
    def clock_flagged(self) -> bool:
        return abs(self.clock_skew_s) > CLOCK_SKEW_LIMIT_S


@dataclass(frozen=True, slots=True)
class _Pushed:
    applied: int
    duplicates: int
    conflicts: int
    renumbered: bool

    def plus(self, other: _Pushed) -> _Pushed:
        return _Pushed(
            self.applied + other.applied,
            self.duplicates + other.duplicates,
            self.conflicts + other.conflicts,
            self.renumbered or other.renumbered,
        )


@dataclass(frozen=True, slots=True)
class _Pulled:
    rows: int
    clock_skew_s: float  # client clock minus server clock
    mismatched: tuple[str, ...]  # tables whose counts differ from the server's

    def plus(self, again: _Pulled) -> _Pulled:
        return _Pulled(self.rows + again.rows, again.clock_skew_s, again.mismatched)


def _take_new_client_id(tx: Writer) -> None:
    new_id = sync_state.take_new_client_id(tx)
    log.warning(
        "this cache was restored from a backup (or copied): pending operations renumbered, "
        "new work goes under the new client id %s",
        new_id,
    )


class Synchronizer:
    def __init__(
        self,
        store: Store,
        url: str,
        technician: str,
        *,
        push_batch: int = PUSH_BATCH,
        pull_window: int = PULL_WINDOW,
        scope: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.url = url
        self.technician = technician
        self.push_batch = push_batch
        self.pull_window = pull_window
        # mine | all; None: what `workbench login --scope` stored (default mine).
        self.scope = scope
        # Set from another thread: the sync stops before its next batch or window, so a
        # closing window waits for one commit, not for a whole first pull.
        self.stop = stop or threading.Event()

    def _go_on(self) -> None:
        if self.stop.is_set():
            raise SyncStopped("the sync stopped before it finished; what it committed is kept")

    def _reach(self, engine: Engine) -> None:
        """Connect on a helper thread, so that a stop request (the window closing) need not
        wait out a silent network (the connect timeout); left alone, the helper ends with its
        connect. The connection stays in the engine's pool for the push and the pull."""
        done = threading.Event()
        failed: list[Exception] = []

        def attempt() -> None:
            try:
                connection = engine.connect()
            except Exception as exc:  # handed over to the syncing thread below
                failed.append(exc)
            else:
                if self.stop.is_set():  # nobody waits for it any more: close it, not pool it
                    connection.invalidate()
                connection.close()
            finally:
                done.set()

        threading.Thread(target=attempt, name="sync-connect", daemon=True).start()
        while not done.wait(STOP_POLL_S):
            self._go_on()
        if failed:
            raise failed[0]

    def sync(self) -> SyncReport:
        """One round, alone: a second process syncing the same cache (the window's timer and
        `workbench sync` in a terminal) would push the same operations and race on a restore."""
        lock = FileLock(self.store.path.with_name(SYNC_LOCK_NAME))
        try:
            held = lock.acquire(timeout=0)
        except Timeout:
            raise SyncBusy(
                "another sync of this cache is running (a workbench window or `workbench "
                "sync`); nothing was done: try again when it ends"
            ) from None
        with held:
            return self._round()

    def _round(self) -> SyncReport:
        started = time.perf_counter()
        with self.store.read() as db:
            cache_key = central.cache_key(db)  # whose password: this cache's
        engine = central.connect(self.url, keep_open=True, cache_key=cache_key)
        try:
            self._reach(engine)
            self.store.check_before_push()
            pushed = self.push(engine)
            pulled = self.pull(engine)
            resynced = bool(pulled.mismatched)
            if resynced:
                log.warning("cache and server disagree on %s: resyncing", pulled.mismatched)
                # Never drop the outbox: push what is pending, then pull everything again.
                pushed = pushed.plus(self.push(engine))
                with self.store.write() as tx:
                    sync_state.restart_pull(tx)
                # Rows of those tables the server does not send again are rows it lacks.
                pulled = pulled.plus(self.pull(engine, sweep=pulled.mismatched))
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None)
            if isinstance(cause, sqlite3.Error):
                raise StoreError(f"cannot apply the sync to {self.store.path}: {cause}") from None
            # Work continues offline: the outbox and the cursor are as the last commit left them.
            raise central.unreachable(self.url, exc) from None
        finally:
            engine.dispose()
        with self.store.write() as tx:
            sync_state.mark_synced(tx, datetime.now(UTC))
            status = sync_state.state(tx)
        report = SyncReport(
            pushed=pushed.applied,
            duplicates=pushed.duplicates,
            pulled=pulled.rows,
            new_conflicts=pushed.conflicts,
            open_conflicts=status.open_conflicts,
            renumbered=pushed.renumbered,
            client_id=status.client_id,
            cursor=status.cursor,
            clock_skew_s=pulled.clock_skew_s,
            resynced=resynced,
            mismatched=pulled.mismatched,
            seconds=round(time.perf_counter() - started, 3),
        )
        log.info("sync with %s: %s", central.masked(self.url), report)
        return report

    def push(self, engine: Engine) -> _Pushed:
        applied = duplicates = conflicts = 0
        renumbered = False
        with engine.connect() as connection:
            while True:
                self._go_on()
                with self.store.read() as db:
                    ops = db.outbox(limit=self.push_batch)
                if not ops:
                    break
                ops = tuple(op for op in ops if op.client_id == ops[0].client_id)
                with connection.begin():
                    result = server.push_batch(connection, self.technician, ops)
                # Committed on the server: only now may the cache forget these operations.
                with self.store.write() as tx:
                    sync_state.acknowledge(tx, ops[0].client_id, result.acknowledged)
                    if result.restored:
                        _take_new_client_id(tx)
                        renumbered = True
                applied += result.applied
                duplicates += result.duplicates
                conflicts += result.conflicts
            # With nothing (left) to push a restored file, or a second copy of one, goes
            # unnoticed above, and would number new work with ids the server already holds
            # from this client id: take a new one before anything is created under it.
            with self.store.read() as db:
                client_id, next_id = db.client_id, db.next_mutation_id
            with connection.begin():
                restored = server.last_mutation_id(connection, client_id) >= next_id
            if restored:
                with self.store.write() as tx:
                    _take_new_client_id(tx)
                renumbered = True
        return _Pushed(applied, duplicates, conflicts, renumbered)

    def pull(self, engine: Engine, sweep: Collection[str] = ()) -> _Pulled:
        """Pull the versions above the cursor. `sweep`: tables pulled from the start whose
        rows the server did not send are deleted (unless work here still needs them)."""
        pulled = 0
        # Keys of the rows pulled, per table swept; only the few tables that differed are.
        seen: dict[str, set[Any]] = {table: set() for table in sweep}
        # One snapshot for the whole pull: windows and counts agree with the clock read first.
        snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
        with snapshot.connect() as connection, connection.begin():
            server.in_utc(connection)
            clock, server_now = server.server_clock(connection)
            skew = (datetime.now(UTC) - server_now).total_seconds()
            with self.store.read() as db:
                mode = self.scope or sync_state.scope_mode(db)
            # The scope is the signed-in technician's, whatever the cache says it is.
            acting_as(connection, self.technician)
            scope = server.scope_of(connection, self.technician, mode, server_now)
            with self.store.write() as tx:
                if sync_state.start_scope(tx, scope):
                    log.info("sync scope is now %s: pulling from the start", scope.signature)
                after = start = sync_state.cursor(tx)
            while after < clock:
                self._go_on()
                upper = min(after + self.pull_window, clock)
                chunk = server.read_window(connection, after, upper, scope)
                entering = chunk.rows.get("tickets", [])
                if start > 0 and scope.mode != "all" and entering:
                    # Tickets new to this cache (assigned to me, moved to my queue) bring
                    # their worklog and tree runs from before this pull; those changed since
                    # come with the windows (one snapshot: the scope is the same for all).
                    with self.store.read() as db:
                        known = set(sync_state.tickets_present(db, (r["id"] for r in entering)))
                    new = {r["id"] for r in entering} - known
                    if new:
                        older = server.ticket_children(connection, new, start)
                        for table, rows in older.items():
                            chunk.rows[table][:0] = rows
                with self.store.write() as tx:
                    sync_state.apply_chunk(tx, chunk)
                for table, keys in seen.items():
                    keys.update(chunk.keys(table))
                pulled += chunk.size
                after = upper
            with self.store.write() as tx:
                sync_state.evict_out_of_scope(tx, scope)
                if seen and start == 0:
                    sync_state.drop_unpulled(tx, seen)
            # Sanity check: rows of the scope the server has vs. rows the cache has, both
            # without the rows of operations still pending here.
            with self.store.read() as db:
                leave_out = sync_state.not_compared(db)
                local = sync_state.synced_counts(db, leave_out, scope)
            central_counts = server.counts(connection, leave_out, scope)
        mismatched = tuple(t for t, n in central_counts.items() if local.get(t) != n)
        return _Pulled(pulled, skew, mismatched)
