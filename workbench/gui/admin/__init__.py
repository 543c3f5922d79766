"""Administration from the window (DESIGN.md §11): File → Administration… for leads and admins.

`AdminAccess` keeps the menu entry visible only while the cache's technician (the one it syncs
as) is a lead or admin in the cache's technicians table, rechecked after every sync round,
and opens the dialog. The dialog's reads and changes run on the task manager's network lane,
so a slow central never holds up the list's database work. The central still decides every change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from workbench.gui.worker import error_text
from workbench.store import Store

if TYPE_CHECKING:
    from workbench.gui.admin.dialog import AdminDialog
    from workbench.gui.main_window import MainWindow
    from workbench.services.admin import CentralAdmin

ADMIN_ACTION = "Administration…"  # the File menu entry


def _may_administer(store: Store) -> bool:
    # The central's admin functions (and psycopg) load with the first check, not the window.
    from workbench.services.admin import may_administer  # noqa: PLC0415

    return may_administer(store)


def _admin_for(store: Store) -> CentralAdmin:
    from workbench.services.admin import CentralAdmin  # noqa: PLC0415

    return CentralAdmin.for_store(store)


class AdminAccess(QObject):
    """The menu entry's visibility and the one Administration dialog."""

    opened = Signal(object)  # the AdminDialog, once shown

    def __init__(self, window: MainWindow, action: QAction) -> None:
        super().__init__(window)
        self.main = window
        self.action = action
        self.dialog: AdminDialog | None = None
        self._url: str | None = None
        action.setVisible(False)
        action.setToolTip("Technicians and sites of the help desk (leads and admins)")
        action.triggered.connect(self.open)
        window.sync_status.synced.connect(self.refresh)  # a login or a pull may change roles

    def refresh(self) -> None:
        """Show the entry if the cache's technician leads (read on the database worker)."""
        store = self.main.service.store
        self.main.worker.submit(lambda: _may_administer(store), self.action.setVisible, self._hide)

    def _hide(self, _error: Exception) -> None:
        self.action.setVisible(False)

    def open(self) -> None:
        """Find the central this cache syncs with, then show the dialog for it."""
        store = self.main.service.store
        self.main.worker.submit(lambda: _admin_for(store), self._show, self._refused)

    def _refused(self, error: Exception) -> None:
        self.main.statusBar().showMessage(error_text(error), 10_000)

    def _show(self, admin: CentralAdmin) -> None:
        from workbench.gui.admin.dialog import AdminDialog  # noqa: PLC0415

        if self.dialog is None or self._url != admin.url:
            if self.dialog is not None:
                self.dialog.deleteLater()
            self.dialog = AdminDialog(admin, self.main.worker.network, self.main)
            self._url = admin.url
        self.dialog.problem.clear()
        self.dialog.reload()
        self.dialog.show()
        self.dialog.raise_()
        self.opened.emit(self.dialog)


__all__ = ["ADMIN_ACTION", "AdminAccess"]
