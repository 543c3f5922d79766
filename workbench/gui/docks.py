"""The dock panes around the ticket list: each is built by a factory given the main window.

A pane gets the window so it can reach the shared services (`window.service`,
`window.worker`, `window.settings`) and follow the ticket on screen (`window.detail.shown`,
`window.detail.detail`). The window builds a pane when its dock is first shown, so a pane
must start from the ticket already on screen; the factories import their modules then too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from workbench.gui.main_window import MainWindow

DockFactory = Callable[["MainWindow"], QWidget]


def _tree_pane(window: MainWindow) -> QWidget:
    from workbench.gui.tree_pane import tree_pane  # noqa: PLC0415  (loaded when first shown)

    return tree_pane(window)


def _remote_console(window: MainWindow) -> QWidget:
    from workbench.gui.remote_console import remote_console_dock  # noqa: PLC0415

    return remote_console_dock(window)


class DockPane(QWidget):
    """A pane whose own parts scroll (its form, its output) around an action bar that must stay
    on screen. The dock's scroll area would otherwise give it the height its wrapped labels
    ask for at that width, taller than the dock, and scroll Run or Accept out of view."""

    def heightForWidth(self, _width: int) -> int:  # noqa: N802  (Qt's name)
        return self.minimumSizeHint().height()


def default_docks() -> list[tuple[str, DockFactory]]:
    """(title, factory) of every dock, in the order they are stacked."""
    return [("Troubleshooting tree", _tree_pane), ("Remote console", _remote_console)]
