"""The dock panes around the ticket list: each is built by a factory given the main window.

A pane gets the window so it can reach the shared services (`window.service`,
`window.worker`, `window.settings`) and follow the ticket on screen (`window.detail.shown`,
`window.detail.detail`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

from workbench.gui.remote_console import remote_console_dock
from workbench.gui.tree_pane import tree_pane

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

DockFactory = Callable[["MainWindow"], QWidget]


def default_docks() -> list[tuple[str, DockFactory]]:
    """(title, factory) of every dock, in the order they are stacked."""
    return [
        ("Troubleshooting tree", tree_pane),
        ("Remote console", remote_console_dock),
    ]
