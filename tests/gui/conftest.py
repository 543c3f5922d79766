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


@pytest.fixture
def filled(store: object, policy: object, clock: object) -> object:
    from tests.gui.window import fill  # noqa: PLC0415  (imports Qt: after the platform is set)

    return fill(store, policy, clock)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> object:
    from PySide6.QtCore import QSettings  # noqa: PLC0415

    return QSettings(str(tmp_path / "workbench.ini"), QSettings.Format.IniFormat)
