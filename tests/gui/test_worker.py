"""The DbWorker: results and errors come back on the GUI thread, in order, without leaks."""

from __future__ import annotations

import sys
import threading

from pytestqt.qtbot import QtBot

from workbench.core.errors import BadInput
from workbench.gui.worker import DbWorker

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
