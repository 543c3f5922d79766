"""Table models of the Administration dialog: technicians and sites as read from the central."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

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

Row = TypeVar("Row")


class _RowsModel(QAbstractTableModel, Generic[Row]):
    """A few rows read at once (people and sites of one help desk), one per record."""

    columns: tuple[str, ...] = ()

    def __init__(self, key: Callable[[Row], str], parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._key = key

    def _replace(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_of(self, key: str) -> int | None:
        return next((n for n, row in enumerate(self._rows) if self._key(row) == key), None)

    def _row(self, index: Index) -> Row | None:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return self._rows[index.row()]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == _DISPLAY
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section]
        return None


class TechnicianTableModel(_RowsModel[tuple[Technician, str]]):
    """Everyone enrolled, active first; retired people are greyed, never removed."""

    columns = TECHNICIAN_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        # Each row: the technician and their sites by name.
        super().__init__(lambda row: row[0].login, parent)

    def set_directory(self, directory: Directory) -> None:
        self._replace([(t, ", ".join(directory.site_names(t))) for t in directory.technicians])

    def technician(self, row: int) -> Technician:
        return self._rows[row][0]

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        found = self._row(index)
        if found is None:
            return None
        tech, sites = found
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


class SiteTableModel(_RowsModel[Site]):
    columns = SITE_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(lambda site: site.id, parent)

    def set_sites(self, sites: Sequence[Site]) -> None:
        self._replace(sites)

    def site(self, row: int) -> Site:
        return self._rows[row]

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        site = self._row(index)
        if site is not None and role in (_DISPLAY, _TOOLTIP):
            return (site.name, site.address or "—", site.timezone)[index.column()]
        return None
