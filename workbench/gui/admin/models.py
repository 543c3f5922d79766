"""Table models of the Administration dialog: technicians, sites, policy versions and the
audit as read from the central, and the lines an import refused."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from workbench.core.imports import Refusal
from workbench.core.models import Site, Technician
from workbench.services.admin import (
    ROLE_LABELS,
    Directory,
    PolicyVersion,
    audit_kind_label,
    outcome_label,
)
from workbench.sync.admin import AuditEvent

Index = QModelIndex | QPersistentModelIndex
TECHNICIAN_COLUMNS = ("Login", "Name", "E-mail", "Tier", "Role", "Sites", "Status")
SITE_COLUMNS = ("Name", "Address", "Time zone")
AUDIT_COLUMNS = (
    "When", "Who", "What", "Host", "Recipe", "Outcome", "Exit code", "Ticket", "Detail",
)  # fmt: skip
POLICY_COLUMNS = ("Version", "Set by", "When")
REFUSAL_COLUMNS = ("Line", "Why it was refused")
WHEN_FORMAT = "%Y-%m-%d %H:%M"  # local time
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


def local_time(moment: datetime) -> str:
    """A moment from the central in this computer's time zone."""
    return moment.astimezone().strftime(WHEN_FORMAT)


class AuditTableModel(_RowsModel[AuditEvent]):
    """The central audit, newest first: remote jobs and administrative changes."""

    columns = AUDIT_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(lambda event: event.id, parent)

    def set_events(self, events: Sequence[AuditEvent]) -> None:
        self._replace(events)

    def event_at(self, row: int) -> AuditEvent:
        return self._rows[row]

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        event = self._row(index)
        if event is None:
            return None
        if role == _DISPLAY:
            return self._texts(event)[index.column()]
        if role == _TOOLTIP:
            if index.column() == 4 and event.params:
                shown = ", ".join(f"{k}={v}" for k, v in sorted(event.params.items()))
                return f"{event.recipe_id} with {shown}"
            if index.column() == 3 and event.host and event.port:
                return f"{event.host}, port {event.port}"
            return self._texts(event)[index.column()] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _texts(event: AuditEvent) -> tuple[str, ...]:
        return (
            local_time(event.at),
            event.technician,
            audit_kind_label(event.kind),
            event.host or "",
            event.recipe_id or "",
            outcome_label(event.outcome),
            "" if event.exit_code is None else str(event.exit_code),
            event.ticket_ref or "",
            event.detail,
        )


class PolicyTableModel(_RowsModel[PolicyVersion]):
    """Every version of the help desk's policy, newest first."""

    columns = POLICY_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(lambda version: str(version.number), parent)

    def set_versions(self, versions: Sequence[PolicyVersion]) -> None:
        self._replace(versions)

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        version = self._row(index)
        if version is not None and role in (_DISPLAY, _TOOLTIP):
            return (str(version.number), version.set_by, local_time(version.set_at))[index.column()]
        return None


class RefusalTableModel(_RowsModel[Refusal]):
    """The lines of a file an import refused, each with its reason."""

    columns = REFUSAL_COLUMNS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(lambda refusal: str(refusal.line), parent)

    def set_refusals(self, refused: Sequence[Refusal]) -> None:
        self._replace(sorted(refused, key=lambda r: r.line))

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        refusal = self._row(index)
        if refusal is not None and role in (_DISPLAY, _TOOLTIP):
            return (str(refusal.line), refusal.reason)[index.column()]
        return None
