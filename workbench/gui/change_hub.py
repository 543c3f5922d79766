"""The change hub: every commit's change set, coalesced, delivered on the GUI thread.

The store calls back on whichever thread committed (the database or the network worker); the
hub hands the change set to the GUI thread, merges what arrives within COALESCE_MS and emits
`changed` once. A poll of `PRAGMA data_version` on the database worker notices commits by
other processes (the CLI in a terminal, a sync in another window) and emits "anything".
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from workbench.core.changes import ChangeSet
from workbench.gui.worker import DbWorker
from workbench.store.store import Store

COALESCE_MS = 50
POLL_MS = 1000


class ChangeHub(QObject):
    changed = Signal(object)  # ChangeSet, at most once per COALESCE_MS
    _arrived = Signal(object)  # ChangeSet, emitted on the committing thread

    def __init__(self, store: Store, worker: DbWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._worker = worker
        self._pending = ChangeSet()
        self._coalesce = QTimer(self, singleShot=True, interval=COALESCE_MS)
        self._coalesce.timeout.connect(self._deliver)
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._check_elsewhere)
        self._polling = False  # one poll at a time: a busy worker must not queue them up
        self._arrived.connect(self._collect)  # queued: the hub lives on the GUI thread
        store.subscribe(self._from_store)

    def start_polling(self, interval_ms: int = POLL_MS) -> None:
        self._poll.start(interval_ms)
        self._check_elsewhere()  # the first read only starts watching

    def stop(self) -> None:
        self._poll.stop()
        self._store.unsubscribe(self._from_store)

    def _from_store(self, changes: ChangeSet) -> None:
        self._arrived.emit(changes)

    @Slot(object)
    def _collect(self, changes: ChangeSet) -> None:
        self._pending = self._pending | changes
        if not self._coalesce.isActive():
            self._coalesce.start()

    def _deliver(self) -> None:
        changes, self._pending = self._pending, ChangeSet()
        if changes:
            self.changed.emit(changes)

    def _check_elsewhere(self) -> None:
        if self._polling:
            return
        self._polling = True

        def done(elsewhere: bool) -> None:
            self._polling = False
            if elsewhere:
                self._collect(ChangeSet.anything())

        def failed(_error: Exception) -> None:
            self._polling = False  # a locked or vanished file: the next tick tries again

        self._worker.submit(self._store.committed_elsewhere, done, failed)
