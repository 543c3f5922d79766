"""Background sync and its status-bar indicator (DESIGN.md §5).

The sync runs on the task manager's network lane, so a slow or silent server never holds up
the list's database work; reading the small sync state goes through the database lane; the
task manager's stop at quit waits for a round's commit. One round at a time: the timer and
F9 both start one only when none runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from workbench.gui.conflicts import ConflictsDialog
from workbench.gui.worker import error_text
from workbench.store import Store, sync_state
from workbench.store.sync_state import SyncState

if TYPE_CHECKING:
    from workbench.gui.login_dialog import LoginDialog
    from workbench.gui.main_window import MainWindow
    from workbench.sync.client import SyncReport

INTERVAL_KEY = "sync/interval_seconds"
DEFAULT_INTERVAL_S = 300
MESSAGE_MS = 10_000
CONNECT_ACTION = "Connect to central database…"  # the File menu entry
WARN = "#b3261e"


@dataclass(frozen=True, slots=True)
class SyncView:  # everything the indicator shows
    server: str | None = None  # host:port/database; None when no central is configured
    pending: int = 0
    last_sync: datetime | None = None
    conflicts: int = 0
    online: bool | None = None  # None until the first round of this session ends
    problem: str | None = None  # why the last round failed
    clock_skew_s: float | None = None
    syncing: bool = False


@dataclass(frozen=True, slots=True)
class _Round:
    report: SyncReport | None
    problem: str | None
    state: SyncState


def server_label(url: str) -> str:  # where the central is, without user name or password
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "the central database"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


def ago(then: datetime, now: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def describe(view: SyncView, now: datetime) -> tuple[str, str]:
    """(rich text, tooltip) of the indicator."""
    if view.server is None:
        return (
            f'local only · {view.pending} pending · <a href="connect">connect…</a>',
            f"Not connected to a central database: “connect…” or File → {CONNECT_ACTION}",
        )
    from workbench.sync.client import CLOCK_SKEW_LIMIT_S  # noqa: PLC0415  (see _sync_round)

    if view.syncing:
        parts = ["⟳ syncing…"]
    elif view.online is False:
        parts = [f'<span style="color:{WARN}">● offline</span>']
    else:
        parts = ["● online" if view.online else "● not synced yet this session"]
    parts.append(f"{view.pending} pending")
    parts.append(f"synced {ago(view.last_sync, now)}" if view.last_sync else "never synced")
    if view.conflicts:
        plural = "s" if view.conflicts > 1 else ""
        parts.append(f'<a href="conflicts">{view.conflicts} conflict{plural}</a>')
    tips = [f"Central database {view.server}."]
    if view.last_sync:
        tips.append(f"Last sync {view.last_sync.astimezone():%Y-%m-%d %H:%M}.")
    if view.clock_skew_s is not None and abs(view.clock_skew_s) > CLOCK_SKEW_LIMIT_S:
        minutes = round(abs(view.clock_skew_s) / 60)
        side = "ahead of" if view.clock_skew_s > 0 else "behind"
        parts.append(f'<span style="color:{WARN}">⚠ clock {minutes} min {side} server</span>')
        tips.append("This computer's clock is off: SLA times follow the server's clock.")
    if view.online is False and view.problem:
        tips.append(f"Cannot sync: {view.problem}")
        tips.append("Work continues offline; the next sync retries (F9 to retry now).")
    return " · ".join(parts), "\n".join(tips)


def _sync_round(store: Store, url: str, technician: str, stop: threading.Event) -> _Round:
    """Runs on the sync thread: one sync, then the state as it left the cache."""
    # The sync client (psycopg, keyring) loads with the first sync, not with the window.
    from workbench.sync import central  # noqa: PLC0415
    from workbench.sync.client import Synchronizer, SyncStopped  # noqa: PLC0415

    report, problem = None, None
    try:
        report = Synchronizer(store, url, technician, stop=stop).sync()
    except SyncStopped as exc:  # the window is closing; the next start goes on from here
        problem = str(exc)
    except central.CentralError as exc:
        # The message names the server by its masked URL; the user name stays out of view too.
        problem = str(exc).replace(central.masked(url), server_label(url))
    return _Round(report, problem, read_state(store))


def _interval_s(window: MainWindow) -> int:
    value = window.settings.value(INTERVAL_KEY, DEFAULT_INTERVAL_S)
    try:
        return max(1, int(float(str(value))))
    except ValueError:
        return DEFAULT_INTERVAL_S


def read_state(store: Store) -> SyncState:
    with store.read() as db:
        return sync_state.state(db)


class SyncStatus(QLabel):
    """The status-bar indicator; it also owns the sync timer and the sync thread."""

    synced = Signal()  # a round ended, successfully or not

    def __init__(self, window: MainWindow) -> None:
        super().__init__("local only")
        self.main = window
        self.view = SyncView()
        self._running = False
        self._round_after = False  # connected anew during a round: one more with the new URL
        # Set once the window closes: no round starts, and a running one ends at its commit.
        self._stopped = threading.Event()
        self._dialog: ConflictsDialog | None = None
        self._login: LoginDialog | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(_interval_s(window) * 1000)
        self._timer.timeout.connect(lambda: self._begin(manual=False))
        self._repaint_timer = QTimer(self, interval=30_000)  # keeps "synced N min ago" true
        self._repaint_timer.timeout.connect(self._render)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.linkActivated.connect(
            lambda link: self.open_login() if link == "connect" else self.open_conflicts()
        )
        window.installEventFilter(self)

    # -- driving -------------------------------------------------------------------------
    def start(self) -> None:
        """Sync now if a central is configured, then on the timer."""
        # Any commit may change the pending count or the conflicts.
        self.main.changes.changed.connect(lambda _changes: self.refresh_state())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
        self._timer.start()
        self._repaint_timer.start()
        self._begin(manual=False)

    @property
    def busy(self) -> bool:  # a round is on its way, from F9 or the timer
        return self._running

    def sync_now(self) -> bool:
        """F9: start a round unless one is running; returns whether one started."""
        return self._begin(manual=True)

    def stop(self) -> None:
        self._stopped.set()  # also for a state read still on its way: it starts no round
        self._timer.stop()
        self._repaint_timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.main and event.type() == QEvent.Type.Close:
            self.stop()
        return False

    def refresh_state(self) -> None:
        """Re-read pending count, last sync and conflicts (after local changes)."""
        store = self.main.service.store
        self.main.worker.submit(lambda: read_state(store), self._on_state, self._on_state_error)

    def open_conflicts(self) -> ConflictsDialog:
        if self._dialog is None:
            self._dialog = ConflictsDialog(self.main)
        self._dialog.reload()
        self._dialog.show()
        self._dialog.raise_()
        return self._dialog

    def open_login(self) -> LoginDialog:
        # Loads the sync client's modules (keyring), which the window does not need before.
        from workbench.gui.login_dialog import LoginDialog  # noqa: PLC0415

        if self._login is None:
            self._login = LoginDialog(self.main.service.store, self.main.worker, self.main)
            self._login.connected.connect(self._on_connected)
        self._login.reload()
        self._login.open()
        return self._login

    def _on_connected(self, state: SyncState) -> None:
        self._on_state(state)
        if self._running:  # that round may still use the server from before
            self._round_after = True
        else:
            self._begin(manual=True)

    # -- a round -------------------------------------------------------------------------
    def _begin(self, *, manual: bool) -> bool:
        if self._running:
            if manual:
                self._message("A sync is already running.")
            return False
        self._running = True
        store = self.main.service.store

        def begin(state: SyncState) -> None:
            self._on_state(state)
            if self._stopped.is_set() or not state.central_url or not state.technician:
                self._running = False
                if manual:
                    self._message(
                        "This cache is not connected to a central database: File → "
                        f"{CONNECT_ACTION} (or `workbench login` in a terminal)."
                    )
                return
            self._show(replace(self.view, syncing=True))
            self.main.worker.network.submit(
                lambda: _sync_round(
                    store, state.central_url or "", state.technician or "", self._stopped
                ),
                lambda result: self._on_round(result, manual),
                self._on_round_error,
            )

        def failed(error: Exception) -> None:
            self._running = False
            self._on_state_error(error)

        self.main.worker.submit(lambda: read_state(store), begin, failed)
        return True

    def _on_round(self, result: _Round, manual: bool) -> None:
        self._running = False
        was_offline = self.view.online is False
        report = result.report
        self.view = replace(
            self.view,
            online=report is not None,
            problem=result.problem,
            clock_skew_s=report.clock_skew_s if report else self.view.clock_skew_s,
            syncing=False,
        )
        self._on_state(result.state)
        if result.problem and (manual or not was_offline):  # once, not on every retry
            self._message(f"Offline — {result.problem}. Work continues; the next sync retries.")
        elif report is not None and was_offline:
            self._message("Back online: the changes made offline were sent.")
        self._end_round()  # what the round wrote reaches the views through the change hub

    def _on_round_error(self, error: Exception) -> None:
        self._running = False
        self.view = replace(self.view, syncing=False)
        self._render()
        self._on_state_error(error)
        self._end_round()

    def _end_round(self) -> None:
        self.synced.emit()
        if self._round_after:
            self._round_after = False
            self._begin(manual=True)

    # -- showing -------------------------------------------------------------------------
    def _on_state(self, state: SyncState) -> None:
        configured = bool(state.central_url and state.technician)
        before = self.view.conflicts
        self._show(
            replace(
                self.view,
                server=server_label(state.central_url or "") if configured else None,
                pending=state.pending,
                last_sync=state.last_sync,
                conflicts=state.open_conflicts,
            )
        )
        if before != state.open_conflicts and self._dialog is not None and self._dialog.isVisible():
            self._dialog.reload()  # a sync may have brought or settled conflicts

    def _on_state_error(self, error: Exception) -> None:
        text = error_text(error)
        self._message(f"Sync: {text}")

    def _show(self, view: SyncView) -> None:
        self.view = view
        self._render()

    def _render(self) -> None:
        text, tip = describe(self.view, datetime.now(UTC))
        self.setText(text)
        self.setToolTip(tip)

    def _message(self, text: str) -> None:
        self.main.statusBar().showMessage(text, MESSAGE_MS)
