"""Qt glue for remote jobs: pool-thread callbacks become queued signals; the fan-out table.

JobRunner runs each job on its own thread pool and calls ``on_line`` there. The bridge collects
those lines under a lock and posts ONE ``lines_ready`` signal per batch (a job printing 10 MB
must not flood the event loop with a signal per line); a small waiter thread per job turns its
end into ``finished``. Nothing here blocks the GUI thread or the database worker.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

from workbench.core.display import visible
from workbench.remote.outcome import Outcome

if TYPE_CHECKING:  # paramiko and pywinrm load with the first job, not with the window
    from workbench.remote.jobs import Job, JobRequest, JobResult, JobRunner

log = logging.getLogger(__name__)
Line = tuple[str, str, str]  # (job key, "stdout" | "stderr", text)

# Background and text colour per state: explicit pairs read the same on light and dark themes.
COLOURS: dict[str, tuple[str, str]] = {
    "running": ("#1565c0", "#ffffff"),
    Outcome.OK.value: ("#2e7d32", "#ffffff"),
    Outcome.REBOOT_NEEDED.value: ("#f9a825", "#000000"),
    Outcome.CANCELLED.value: ("#616161", "#ffffff"),
}
FAILURE_COLOURS = ("#c62828", "#ffffff")


def colours(state: str) -> tuple[str, str]:
    return COLOURS.get(state, FAILURE_COLOURS)


@dataclass(frozen=True)
class JobDone:
    key: str
    result: JobResult
    key_changed: bool  # host key rejected because it differs from the trusted one


class JobBridge(QObject):
    """Submit keyed requests with a concurrency limit; lines and ends arrive as signals."""

    lines_ready = Signal()
    started = Signal(str)  # job key, once it is on the pool
    finished = Signal(object)  # JobDone
    failed = Signal(str, object)  # job key, the exception (bad input or a bug)

    def __init__(self, make_runner: Callable[[], JobRunner], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._make_runner = make_runner
        self._runner: JobRunner | None = None
        self._lock = threading.Lock()
        self._lines: list[Line] = []
        self._queue: deque[tuple[str, JobRequest]] = deque()
        self._limit = 1
        self._running: dict[str, Job] = {}

    @property
    def runner(self) -> JobRunner:
        with self._lock:
            if self._runner is None:
                self._runner = self._make_runner()
            return self._runner

    def start(self, items: list[tuple[str, JobRequest]], limit: int) -> None:
        """Queue the requests and start up to ``limit`` (thread-safe; BadInput of the first
        request is raised to the caller, later ones arrive as ``failed``)."""
        self.runner  # noqa: B018  (made outside the lock the pool threads take)
        with self._lock:
            self._limit = max(1, limit)
            self._queue.extend(items)
        self._fill(raise_first=True)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._running or self._queue)

    def cancel_all(self) -> list[str]:
        """Cancel running jobs; drop queued ones and return their keys."""
        with self._lock:
            dropped = [key for key, _ in self._queue]
            self._queue.clear()
            running = list(self._running.values())
        for job in running:
            job.cancel()
        return dropped

    def take_lines(self) -> list[Line]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines

    def _fill(self, raise_first: bool = False) -> None:
        while True:
            with self._lock:
                if not self._queue or len(self._running) >= self._limit:
                    return
                key, request = self._queue.popleft()
                try:
                    assert self._runner is not None  # made by start()
                    job = self._runner.submit(request, self._collector(key))
                except Exception as exc:
                    error: Exception | None = exc
                    if raise_first:
                        self._queue.clear()
                else:
                    error = None
                    self._running[key] = job
            if error is not None:
                if raise_first:
                    raise error
                self.failed.emit(key, error)  # outside the lock: a direct slot may call back
                continue
            raise_first = False
            self.started.emit(key)
            threading.Thread(target=self._wait, args=(key, job), daemon=True).start()

    def _collector(self, key: str) -> Any:
        def on_line(stream: str, text: str) -> None:
            with self._lock:
                first = not self._lines
                self._lines.append((key, stream, text))
            if first:
                self.lines_ready.emit()

        return on_line

    def _wait(self, key: str, job: Job) -> None:
        from workbench.remote.hostkeys import host_entry_name  # noqa: PLC0415

        try:
            result = job.result()
            changed = result.outcome is Outcome.HOST_KEY_REJECTED and (
                self.runner.known_hosts.load().lookup(host_entry_name(result.host, result.port))
                is not None
            )
        except Exception as exc:  # a bug in the job; shown as an internal error
            log.exception("remote job %s failed", key)
            with self._lock:
                self._running.pop(key, None)
            self.failed.emit(key, exc)
        else:
            with self._lock:
                self._running.pop(key, None)
            self.finished.emit(JobDone(key, result, changed))
        self._fill()


COLUMNS = ("Host", "Outcome", "Exit code", "Time", "Message")


@dataclass
class _Row:
    target: str
    state: str = "queued"
    exit_code: int | None = None
    seconds: float | None = None
    message: str = ""


class FanoutModel(QAbstractTableModel):
    """One row per target: its outcome, exit code and time, filled in as jobs end."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []

    def reset(self, targets: list[str]) -> None:
        self.beginResetModel()
        self._rows = [_Row(t) for t in targets]
        self.endResetModel()

    def _update(self, target: str, **changes: Any) -> None:
        for number, row in enumerate(self._rows):
            if row.target == target:
                for name, value in changes.items():
                    setattr(row, name, value)
                self.dataChanged.emit(self.index(number, 0), self.index(number, len(COLUMNS) - 1))

    def set_running(self, target: str) -> None:
        self._update(target, state="running")

    def set_result(self, target: str, result: JobResult) -> None:
        self._update(
            target,
            state=result.outcome.value,
            exit_code=result.exit_code,
            seconds=result.seconds,
            message=result.message,
        )

    def set_failed(self, target: str, state: str, message: str) -> None:
        self._update(target, state=state, message=message)

    def rows(self) -> list[_Row]:
        return list(self._rows)

    def states(self) -> dict[str, str]:
        return {row.target: row.state for row in self._rows}

    def unreachable(self) -> list[str]:
        return [row.target for row in self._rows if row.state == Outcome.UNREACHABLE.value]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, index.column())
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == len(COLUMNS) - 1:
            return self._text(row, index.column()) or None  # a long message is cut in its cell
        if (
            index.column() == 1
            and role
            in (
                Qt.ItemDataRole.BackgroundRole,
                Qt.ItemDataRole.ForegroundRole,
            )
            and row.state != "queued"
        ):
            background, text = colours(row.state)
            return QColor(background if role == Qt.ItemDataRole.BackgroundRole else text)
        return None

    @staticmethod
    def _text(row: _Row, column: int) -> str:
        if column == 0:
            return row.target
        if column == 1:
            return state_label(row.state)
        if column == 2:
            return "" if row.exit_code is None else str(row.exit_code)
        if column == 3:
            return "" if row.seconds is None else f"{row.seconds:.1f} s"
        return visible(row.message)  # a remote side's message: its controls shown, not run


def state_label(state: str) -> str:
    try:
        return Outcome(state).label
    except ValueError:
        return state


_PAD = 6  # text inset of a painted outcome cell


class OutcomeDelegate(QStyledItemDelegate):
    """Paints the outcome cell's colours itself: a theme's style sheet would override the
    model's background role (qt-material does)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:  # fmt: skip
        background = index.data(Qt.ItemDataRole.BackgroundRole)
        if not isinstance(background, QColor):
            super().paint(painter, option, index)
            return
        rect = option.rect  # type: ignore[attr-defined]
        painter.save()
        painter.fillRect(rect, background)
        painter.setPen(index.data(Qt.ItemDataRole.ForegroundRole))
        painter.drawText(rect.adjusted(_PAD, 0, -_PAD, 0),
                         int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         str(index.data()))  # fmt: skip
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802
                 index: QModelIndex | QPersistentModelIndex) -> QSize:  # fmt: skip
        return super().sizeHint(option, index) + QSize(2 * _PAD, 0)
