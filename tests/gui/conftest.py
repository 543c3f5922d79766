"""GUI tests run on the Xvfb screen `make test` provides, or offscreen without one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def worker(qapp: object) -> Iterator[object]:  # noqa: ARG001  (the thread needs a QApplication)
    from workbench.gui.worker import DbWorker  # noqa: PLC0415

    started = DbWorker()
    yield started
    started.stop()
