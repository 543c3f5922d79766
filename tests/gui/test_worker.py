"""The task manager: results and errors come back on the GUI thread, in order, without leaks;
two lanes that do not wait for each other; no failure goes untold."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from workbench.core.errors import BadInput
from workbench.gui.worker import DbWorker, TaskManager
from workbench.store.database import DB_FILENAME

JOBS = 3000


def test_results_and_errors_arrive_in_order_on_the_gui_thread(
    qtbot: QtBot, worker: DbWorker
) -> None:
    gui_thread = threading.get_ident()
    seen: list[tuple[str, object, bool]] = []
    for job in range(5):
        worker.submit(
            lambda job=job: (job, threading.get_ident() != gui_thread),
            lambda result: seen.append(("done", result[0], result[1])),
        )
    worker.submit(
        lambda: (_ for _ in ()).throw(BadInput("no such ticket")),
        lambda _result: seen.append(("done", None, False)),
        lambda error: seen.append(("failed", str(error), True)),
    )
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert seen == [*(("done", job, True) for job in range(5)), ("failed", "no such ticket", True)]


def test_many_jobs_keep_reference_counts(qtbot: QtBot, worker: DbWorker) -> None:
    """PySide6 6.12.0 dropped a reference per signal emission and aborted Python; not again."""
    counts_before = sys.getrefcount(None), sys.getrefcount(True)
    delivered: list[int] = []
    for job in range(JOBS):
        worker.submit(lambda job=job: job, delivered.append)
        if job % 100 == 99:
            qtbot.waitUntil(lambda: worker.pending == 0)
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert delivered == list(range(JOBS))
    counts_after = sys.getrefcount(None), sys.getrefcount(True)
    assert all(
        after > before - JOBS // 10
        for before, after in zip(counts_before, counts_after, strict=True)
    )


def test_a_blocked_network_job_does_not_delay_a_database_job(
    qtbot: QtBot, worker: TaskManager
) -> None:
    central_answers = threading.Event()
    lanes: dict[str, str] = {}

    def slow_central() -> str:
        central_answers.wait(timeout=30)  # a silent server, until the test lets it answer
        return threading.current_thread().name

    worker.network.submit(slow_central, lambda name: lanes.update(network=name))
    worker.submit(lambda: QThread.currentThread().objectName(), lambda n: lanes.update(db=n))
    try:
        qtbot.waitUntil(lambda: "db" in lanes, timeout=5_000)
        assert "network" not in lanes and worker.network.pending == 1
    finally:
        central_answers.set()
    qtbot.waitUntil(lambda: worker.network.pending == 0)
    assert lanes["db"] == "workbench-db" and lanes["network"].startswith("workbench-network")


def test_a_result_arrives_as_the_object_the_job_returned(qtbot: QtBot, worker: TaskManager) -> None:
    made = {"ref": "HD-000123"}
    received: list[dict[str, str]] = []
    worker.network.submit(lambda: made, received.append)
    qtbot.waitUntil(lambda: bool(received))
    assert received[0] is made


def test_a_job_without_on_error_is_told_through_the_one_route(
    qtbot: QtBot, worker: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    shown: list[str] = []
    worker.route_errors(shown.append)

    def bug() -> None:
        raise KeyError("no such column: tickets.titel")

    worker.submit(lambda: (_ for _ in ()).throw(BadInput("no such ticket HD-9")), shown.append)
    worker.network.submit(bug, shown.append)
    qtbot.waitUntil(lambda: len(shown) == 2)
    assert sorted(shown) == ["internal error; details in the log", "no such ticket HD-9"]
    assert "tickets.titel" in caplog.text  # the bug is in the log, not in front of the user
    assert not [s for s in shown if "titel" in s or "Traceback" in s]


def test_an_unrouted_failure_is_logged_not_dropped(
    qtbot: QtBot, worker: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    worker.submit(lambda: (_ for _ in ()).throw(BadInput("cache is read-only")), lambda _: None)
    qtbot.waitUntil(lambda: worker.pending == 0)
    assert "cache is read-only" in caplog.text


@pytest.mark.qt_no_exception_capture
def test_a_bug_on_the_gui_thread_is_logged_and_shown_as_an_internal_error(
    qtbot: QtBot, worker: TaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    from workbench.gui.app import install_excepthook  # noqa: PLC0415  (imports the window)

    shown: list[str] = []
    after: list[int] = []

    def broken_callback(_result: int) -> None:
        raise AttributeError("'NoneType' object has no attribute 'ticket'")

    previous = sys.excepthook
    uninstall = install_excepthook(shown.append)
    try:
        worker.submit(lambda: 1, broken_callback)
        worker.submit(lambda: 2, after.append)  # the event loop goes on after the bug
        qtbot.waitUntil(lambda: bool(after) and bool(shown))
    finally:
        uninstall()
    assert sys.excepthook is previous
    assert shown == ["internal error; details in the log"]
    assert "Traceback" in caplog.text and "has no attribute 'ticket'" in caplog.text
    assert "broken_callback" in caplog.text


def test_a_blocked_network_job_does_not_delay_another_network_job(
    qtbot: QtBot, worker: TaskManager
) -> None:
    """A sync round stuck on a silent central must not hold up signing in to another one."""
    silent_central = threading.Event()
    answered: list[str] = []
    worker.network.submit(lambda: silent_central.wait(timeout=30), lambda _: None)
    worker.network.submit(lambda: "signed in", answered.append)
    try:
        qtbot.waitUntil(lambda: answered == ["signed in"], timeout=5_000)
    finally:
        silent_central.set()
    qtbot.waitUntil(lambda: worker.network.pending == 0)


def test_a_cache_error_reaches_the_user_in_the_store_s_words(
    qtbot: QtBot, worker: TaskManager, tmp_path: Path
) -> None:
    from workbench.store import Store  # noqa: PLC0415

    (tmp_path / DB_FILENAME).write_bytes(b"not a database, a text file. " * 200)
    shown: list[str] = []
    worker.route_errors(shown.append)
    worker.submit(lambda: Store.open(tmp_path), lambda _store: None)
    qtbot.waitUntil(lambda: bool(shown))
    (text,) = shown
    assert (
        text.startswith(f"{tmp_path / DB_FILENAME} is not a Workbench cache") and "\n" not in text
    )
    assert "internal error" not in text and "Traceback" not in text
