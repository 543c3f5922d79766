"""Starting the window: the QApplication, the task manager, the error routes, --screenshot."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QSettings, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from workbench.core.errors import WorkbenchError
from workbench.gui import theme
from workbench.gui.main_window import MainWindow
from workbench.gui.vault_dialog import unlock_vault
from workbench.gui.worker import INTERNAL_ERROR, TaskManager
from workbench.services.tickets import TicketService

SCREENSHOT_TIMEOUT_MS = 60_000
log = logging.getLogger(__name__)


def _check_display(screenshot: Path | None) -> None:
    """Qt aborts the process without a display; say what to do instead."""
    if (
        sys.platform != "linux"
        or os.environ.get("QT_QPA_PLATFORM")
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
    ):
        return
    if screenshot is not None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no screen
        return
    raise WorkbenchError(
        "no display to open the window on (DISPLAY is not set); run it in a desktop session, "
        "over `ssh -X`, or under `xvfb-run`"
    )


def _qt_message_to_log(mode: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    # Qt's own chatter belongs in the log file, not on the technician's terminal.
    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
    }.get(mode, logging.ERROR)
    log.log(level, "Qt: %s", message)


def install_excepthook(show: Callable[[str], None]) -> Callable[[], None]:
    """A bug on the GUI thread (an exception in a slot or a callback) is logged with its
    traceback and shown as an internal error; the event loop goes on. Returns the undo."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if not issubclass(kind, Exception):  # Ctrl+C in the terminal still ends the program
            previous(kind, error, trace)
            return
        log.error("internal error on the GUI thread", exc_info=(kind, error, trace))
        show(INTERNAL_ERROR)

    sys.excepthook = hook

    def undo() -> None:
        sys.excepthook = previous

    return undo


def run_gui(service: TicketService, screenshot: Path | None = None) -> int:
    _check_display(screenshot)
    qInstallMessageHandler(_qt_message_to_log)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Workbench")
    app.setApplicationName("Workbench")
    worker = TaskManager()
    with tempfile.TemporaryDirectory() as scratch:
        # A screenshot run must not overwrite the technician's window layout.
        settings = (
            QSettings(f"{scratch}/screenshot.ini", QSettings.Format.IniFormat)
            if screenshot
            else QSettings()
        )
        theme.apply(app, *theme.current(settings))
        # Before the window: its secrets are read on the worker thread, which cannot ask.
        unlock_vault(ask=screenshot is None)
        return _run_window(app, MainWindow(service, worker, settings), worker, screenshot)


def _run_window(
    app: QApplication, window: MainWindow, worker: TaskManager, screenshot: Path | None
) -> int:
    # The one route for what went wrong out of sight: a job nobody listens to, a bug.
    def tell(text: str) -> None:
        window.statusBar().showMessage(text, 15_000)

    worker.route_errors(tell)
    uninstall = install_excepthook(tell)
    window.show()
    problem: list[str] = []
    if screenshot is not None:

        def grab() -> None:
            if not window.grab().save(str(screenshot)):
                problem.append(f"cannot write the screenshot {screenshot}")
            app.quit()

        def grab_when_idle() -> None:
            if worker.pending:  # e.g. the tree pane's suggestions for the ticket on screen
                QTimer.singleShot(10, grab_when_idle)
            else:
                grab()

        def save(_ticket_id: str) -> None:
            QTimer.singleShot(0, grab_when_idle)  # after the layout the detail asked for

        def give_up() -> None:
            problem.append(
                f"the window did not finish loading in {SCREENSHOT_TIMEOUT_MS // 1000} s"
            )
            app.quit()

        window.detail_shown.connect(save)
        window.model.total_known.connect(lambda total: total == 0 and save(""))
        QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, give_up)
    window.start()
    try:
        app.exec()
    finally:
        uninstall()
        worker.stop()
    if problem:
        raise WorkbenchError(problem[0])
    return 0
