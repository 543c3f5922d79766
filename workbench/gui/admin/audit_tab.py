"""The Audit tab: the central audit (leads and admins), newest first, as `central audit
[--host] [--technician] [--since]`: remote jobs and every administrative change."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.admin.central_tab import CentralTab, table_of
from workbench.gui.admin.models import AuditTableModel
from workbench.gui.worker import Lane
from workbench.services.admin import AUDIT_LIMIT, CentralAdmin
from workbench.sync.admin import AuditEvent

_DETAIL = 8  # the column that takes the width left


class AuditTab(CentralTab):
    """Filters (host, technician, since a day) and the events they leave."""

    def __init__(self, admin: CentralAdmin, lane: Lane, parent: QWidget | None = None):
        super().__init__(admin, lane, parent)
        self.events = AuditTableModel(self)
        self.table = table_of(self.events, _DETAIL, wrap=True)
        self.host = QLineEdit()
        self.host.setPlaceholderText("any host")
        self.host.setClearButtonEnabled(True)
        self.technician = QLineEdit()
        self.technician.setPlaceholderText("anyone (a login)")
        self.technician.setClearButtonEnabled(True)
        self.use_since = QCheckBox("Si&nce")
        self.since = QDateEdit(QDate.currentDate().addDays(-30))
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.since.setEnabled(False)
        self.refresh_button = QPushButton("&Refresh")
        self.result = QLabel("Reading the audit…")
        self.result.setWordWrap(True)
        host_label = QLabel("&Host")
        host_label.setBuddy(self.host)
        tech_label = QLabel("Tec&hnician")
        tech_label.setBuddy(self.technician)
        filters = QHBoxLayout()
        filters.addWidget(host_label)
        filters.addWidget(self.host, 1)
        filters.addWidget(tech_label)
        filters.addWidget(self.technician, 1)
        filters.addWidget(self.use_since)
        filters.addWidget(self.since)
        filters.addWidget(self.refresh_button)
        column = QVBoxLayout(self)
        column.addLayout(filters)
        column.addWidget(self.table, 1)
        column.addWidget(self.result)
        column.addWidget(self.problem)
        self.use_since.toggled.connect(self.since.setEnabled)
        self.use_since.toggled.connect(lambda _on: self.reload())
        self.refresh_button.clicked.connect(self.reload)
        self.host.returnPressed.connect(self.reload)
        self.technician.returnPressed.connect(self.reload)

    def update_buttons(self) -> None:
        self.refresh_button.setEnabled(not self.busy)

    def since_day(self) -> date | None:
        if not self.use_since.isChecked():
            return None
        chosen = self.since.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def set_since(self, day: date | None) -> None:
        if day is not None:
            self.since.setDate(QDate(day.year, day.month, day.day))
        self.use_since.setChecked(day is not None)

    def reload(self) -> None:
        if self.busy:
            return
        admin, host, who = self.admin, self.host.text(), self.technician.text()
        since = self.since_day()
        self.ask(lambda: admin.audit(host=host, technician=who, since=since), self._show)

    def _show(self, events: list[AuditEvent]) -> None:
        self.events.set_events(events)
        filtered = bool(self.host.text().strip() or self.technician.text().strip())
        filtered = filtered or self.use_since.isChecked()
        count = len(events)
        said = f"{count} event{'s' if count != 1 else ''}"
        if count >= AUDIT_LIMIT:
            said = f"The newest {count} events"
        self.result.setText(
            f"{said}{' matching the filters' if filtered else ''}, newest first; "
            "times are this computer's."
        )

    def refused(self, error: Exception) -> None:
        self.result.setText("The audit could not be read.")
        super().refused(error)
