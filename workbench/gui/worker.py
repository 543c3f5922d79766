"""The task manager: a database lane and a network lane; results and errors come back as signals.

The GUI never touches the store or the network on its own thread: it submits a callable to a
lane and gets the result (or the WorkbenchError / internal error) delivered on the GUI thread.
Two lanes: the database lane, one thread running its jobs in order (reads for the list, the
detail, the panes; the user's writes), and the network lane, a few threads for work that waits
on other machines (sync rounds, signing in, a tree's remote checks, the central's
administration), so a slow or silent central never holds up a database read.
A job submitted without `on_error` still tells the user: its error goes to the one route the
window registers (`route_errors`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

INTERNAL_ERROR = "internal error; details in the log"
NETWORK_THREADS = 4  # a sync round, a sign-in, an administration call, a tree's check

Result = TypeVar("Result")
Failed = Callable[[Exception], None]


@dataclass(frozen=True)
class _Job:
    job_id: int
    work: Callable[[], Any]


class _Runner(QObject):
    """Runs a job on the thread that calls `run`; its signals carry the outcome back."""

    finished = Signal(int, object)
    failed = Signal(int, object)

    @Slot(object)
    def run(self, job: _Job) -> None:
        try:
            result = job.work()
        except Exception as exc:  # delivered to the caller, who decides what the user sees
            if not _is_expected(exc):
                log.exception("background job failed")
            self.failed.emit(job.job_id, exc)
        else:
            self.finished.emit(job.job_id, result)


def error_text(error: Exception | str) -> str:
    """What the user reads of a failed job: a WorkbenchError's own words, never a traceback."""
    if isinstance(error, Exception) and not _is_expected(error):
        return INTERNAL_ERROR
    return str(error)


def _is_expected(exc: Exception) -> bool:
    from workbench.core.errors import WorkbenchError  # noqa: PLC0415

    return isinstance(exc, WorkbenchError)


class Lane(QObject):
    """Where jobs run. `submit(work, on_done, on_error)`: the callbacks run on the GUI thread;
    without `on_error` a failure goes to `unhandled` (the task manager's error route)."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None, unhandled: Failed | None = None) -> None:
        super().__init__(parent)
        # Its signals reach this object on the GUI thread, from whichever thread ran the job.
        self._runner = _Runner()
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._callbacks: dict[int, tuple[Callable[[Any], None], Failed]] = {}
        self._ids = itertools.count(1)
        self._unhandled = unhandled or self._report

    def submit(
        self,
        work: Callable[[], Result],
        on_done: Callable[[Result], None],
        on_error: Failed | None = None,
    ) -> int:
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error or self._unhandled)
        if len(self._callbacks) == 1:
            self.busy_changed.emit(True)
        self._start(_Job(job_id, work))
        return job_id

    def _start(self, job: _Job) -> None:
        raise NotImplementedError

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def _pop(self, job_id: int) -> tuple[Callable[[Any], None], Failed]:
        callbacks = self._callbacks.pop(job_id)
        if not self._callbacks:
            self.busy_changed.emit(False)
        return callbacks

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: Any) -> None:
        on_done, _ = self._pop(job_id)
        on_done(result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, error: Exception) -> None:
        _, on_error = self._pop(job_id)
        on_error(error)

    def _report(self, error: Exception) -> None:
        log.warning("background job failed with no one to tell: %s", error_text(error))

    def stop(self) -> None:
        raise NotImplementedError


class ThreadLane(Lane):
    """One thread that runs its jobs in the order they were submitted (the database lane:
    a write and the read after it never swap)."""

    _submit = Signal(object)

    def __init__(self, parent: QObject | None, name: str, unhandled: Failed | None = None) -> None:
        super().__init__(parent, unhandled)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._thread.start()

    def _start(self, job: _Job) -> None:
        self._submit.emit(job)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait()


class PoolLane(Lane):
    """A few threads for work that waits on other machines (the network lane): a sync round
    stuck on a silent central holds up neither a sign-in to another one nor a tree's check."""

    def __init__(self, parent: QObject | None, name: str, unhandled: Failed | None = None) -> None:
        super().__init__(parent, unhandled)
        self._pool = ThreadPoolExecutor(max_workers=NETWORK_THREADS, thread_name_prefix=name)

    def _start(self, job: _Job) -> None:
        self._pool.submit(self._runner.run, job)

    def stop(self) -> None:
        self._pool.shutdown(wait=True)


class TaskManager(ThreadLane):
    """The window's background work: `submit` runs on the database lane (this object's own
    thread), `network.submit` on the network lane (started when first used). A failed job
    with no `on_error` of its own is shown through `route_errors`' callback, on either lane."""

    def __init__(self, parent: QObject | None = None, name: str = "workbench-db") -> None:
        super().__init__(parent, name, self._route)
        self._show: Callable[[str], None] | None = None
        self._network: Lane | None = None

    def route_errors(self, show: Callable[[str], None]) -> None:
        """Register the one place failed jobs without an `on_error` are told (once, by the
        window: its status bar)."""
        self._show = show

    @property
    def network(self) -> Lane:
        if self._network is None:
            self._network = PoolLane(self, "workbench-network", self._route)
        return self._network

    def _route(self, error: Exception) -> None:
        if self._show is None:
            self._report(error)
        else:
            self._show(error_text(error))

    def stop(self) -> None:
        """Stop both lanes, each after the job it is running (a sync round: at its commit)."""
        if self._network is not None:
            self._network.stop()
            self._network = None
        super().stop()


# The name the panes and tests were written against; the Session (issue #14, part 2) retires it.
DbWorker = TaskManager
