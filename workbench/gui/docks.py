"""The dock panes around the ticket list: each is built by a factory given the main window.

A pane gets the window so it can reach the shared services (`window.service`,
`window.worker`, `window.settings`) and follow the ticket on screen (`window.detail.shown`,
`window.detail.detail()`). Panes not built yet say so honestly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

DockFactory = Callable[["MainWindow"], QWidget]


def placeholder(text: str) -> DockFactory:
    def build(_window: MainWindow) -> QWidget:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop)
        return label

    return build


def default_docks() -> list[tuple[str, DockFactory]]:
    """(title, factory) of every dock, in the order they are stacked."""
    return [
        (
            "Troubleshooting tree",
            placeholder(
                "Guided troubleshooting trees will run here: pick a tree for the ticket's "
                "category, answer its steps, and its transcript goes into the worklog. "
                "Not built yet."
            ),
        ),
        (
            "Remote console",
            placeholder(
                "Remote actions over SSH and WinRM (diagnostics, driver updates, reimaging) "
                "will stream their output here. Not built yet."
            ),
        ),
    ]
