"""Table models of the Administration dialog: technicians and sites as read from the central."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from workbench.core.models import Site, Technician
from workbench.services.admin import ROLE_LABELS, Directory

Index = QModelIndex | QPersistentModelIndex
TECHNICIAN_COLUMNS = ("Login", "Name", "E-mail", "Tier", "Role", "Sites", "Status")
SITE_COLUMNS = ("Name", "Address", "Time zone")
_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole


class TechnicianTableModel(QAbstractTableModel):
    """Everyone enrolled, active first; retired people are greyed, never removed."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[Technician, str]] = []  # the technician, their sites by name

    def set_directory(self, directory: Directory) -> None:
        self.beginResetModel()
        self._rows = [(t, ", ".join(directory.site_names(t))) for t in directory.technicians]
        self.endResetModel()

    def technician(self, row: int) -> Technician:
        return self._rows[row][0]

    def row_of(self, login: str) -> int | None:
        for row, (tech, _sites) in enumerate(self._rows):
            if tech.login == login:
                return row
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(TECHNICIAN_COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        tech, sites = self._rows[index.row()]
        if role in (_DISPLAY, _TOOLTIP):
            text = (
                tech.login,
                tech.name,
                tech.email,
                f"Tier {tech.tier}",
                ROLE_LABELS[tech.role],
                sites or ("—" if role == _DISPLAY else "No site of their own"),
                "Active" if tech.active else "Retired",
            )[index.column()]
            if role == _TOOLTIP and not tech.active:
                return f"{text} (retired: may no longer sign in or sync)"
            return text
        if role == Qt.ItemDataRole.ForegroundRole and not tech.active:
            return QApplication.palette().brush(
                QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text
            )
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == _DISPLAY
            and 0 <= section < len(TECHNICIAN_COLUMNS)
        ):
            return TECHNICIAN_COLUMNS[section]
        return None


class SiteTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Site] = []

    def set_sites(self, sites: Sequence[Site]) -> None:
        self.beginResetModel()
        self._rows = list(sites)
        self.endResetModel()

    def site(self, row: int) -> Site:
        return self._rows[row]

    def row_of(self, site_id: str) -> int | None:
        for row, site in enumerate(self._rows):
            if site.id == site_id:
                return row
        return None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(SITE_COLUMNS)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role in (_DISPLAY, _TOOLTIP):
            site = self._rows[index.row()]
            return (site.name, site.address or "—", site.timezone)[index.column()]
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == _DISPLAY
            and 0 <= section < len(SITE_COLUMNS)
        ):
            return SITE_COLUMNS[section]
        return None
