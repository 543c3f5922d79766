"""One background thread for database work; results and errors come back as signals.

The GUI never touches the store on its own thread: it submits a callable here and gets the
result (or the WorkbenchError / internal error) delivered on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[Exception], None]


@dataclass(frozen=True)
class _Job:
    job_id: int
    work: Callable[[], Any]


class _Runner(QObject):
    """Lives on the worker thread; runs jobs in the order they were submitted."""

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
        return "internal error; details in the log"
    return str(error)


def _is_expected(exc: Exception) -> bool:
    from workbench.core.errors import WorkbenchError  # noqa: PLC0415

    return isinstance(exc, WorkbenchError)


class DbWorker(QObject):
    """Submit work with `submit(work, on_done, on_error)`; callbacks run on the GUI thread."""

    _submit = Signal(object)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, name: str = "workbench-db") -> None:
        # Work that waits on the network (sync) gets its own instance, so it never queues
        # in front of the list's database reads.
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)
        self._callbacks: dict[int, tuple[Done, Failed | None]] = {}
        self._ids = itertools.count(1)
        self._thread.start()

    def submit(self, work: Callable[[], Any], on_done: Done, on_error: Failed | None = None) -> int:
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        if len(self._callbacks) == 1:
            self.busy_changed.emit(True)
        self._submit.emit(_Job(job_id, work))
        return job_id

    @property
    def pending(self) -> int:
        return len(self._callbacks)

    def _pop(self, job_id: int) -> tuple[Done, Failed | None]:
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
        if on_error is not None:
            on_error(error)

    def stop(self) -> None:
        self._thread.quit()
        self._thread.wait()
