"""The navigation pane: the standard views of the ticket list as TicketQuery values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from workbench.core.models import OPEN_STATUSES, Status
from workbench.core.policy import SlaPolicy
from workbench.core.query import TicketQuery

# A view is built when chosen: "Breaching SLA" must compare against the time of the click.
ViewFactory = Callable[[], TicketQuery]
_QUERY_ROLE = Qt.ItemDataRole.UserRole


def standard_views(policy: SlaPolicy, technician: str | None) -> list[tuple[str, ViewFactory]]:
    open_ = frozenset(OPEN_STATUSES)
    views: list[tuple[str, ViewFactory]] = []
    if technician:
        views.append(("My tickets", lambda: TicketQuery(assignee=technician, statuses=open_)))
    for tier, queue in sorted(policy.queues.items()):
        views.append(
            (f"Tier {tier}: {queue}", lambda q=queue: TicketQuery(queue=q, statuses=open_))
        )  # type: ignore[misc]
    views += [
        ("Unassigned", lambda: TicketQuery(unassigned=True, statuses=open_)),
        ("Waiting", lambda: TicketQuery(statuses=frozenset({Status.WAITING}))),
        ("Breaching SLA", lambda: TicketQuery(breaching_at=datetime.now(UTC))),
        (
            "Resolved",
            lambda: TicketQuery(
                statuses=frozenset({Status.RESOLVED}), sort="updated_at", descending=True
            ),
        ),
        ("All tickets", lambda: TicketQuery(sort="created_at", descending=True)),
    ]
    return views


class NavigationPane(QTreeWidget):
    view_chosen = Signal(str, object)  # title, TicketQuery

    def __init__(self, views: list[tuple[str, ViewFactory]]) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        for title, factory in views:
            item = QTreeWidgetItem([title])
            item.setData(0, _QUERY_ROLE, factory)
            self.addTopLevelItem(item)
        self.currentItemChanged.connect(self._on_current)

    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is not None:
            self.view_chosen.emit(current.text(0), current.data(0, _QUERY_ROLE)())

    def reapply(self) -> None:
        """Show the current view again (after a search was cleared)."""
        self._on_current(self.currentItem(), None)

    def choose(self, title: str) -> None:
        for row in range(self.topLevelItemCount()):
            if self.topLevelItem(row).text(0) == title:
                self.setCurrentItem(self.topLevelItem(row))
                return
