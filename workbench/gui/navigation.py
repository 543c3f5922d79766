"""The navigation pane: the standard views of the ticket list as TicketQuery values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from workbench.core.models import OPEN_STATUSES, Status
from workbench.core.policy import SlaPolicy
from workbench.core.query import TicketQuery

# A view is built when chosen: "Breaching SLA" must compare against the time of the click.
ViewFactory = Callable[[], TicketQuery]
_QUERY_ROLE = Qt.ItemDataRole.UserRole
_SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


MY_VIEW = "My tickets"


def standard_views(policy: SlaPolicy, technician: str | None) -> list[tuple[str, ViewFactory]]:
    open_ = frozenset(OPEN_STATUSES)
    views: list[tuple[str, ViewFactory]] = []
    if technician:
        views.append((MY_VIEW, lambda: TicketQuery(assignee=technician, statuses=open_)))
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
    """Standard views on top, then the technician's saved searches (name → search text)."""

    view_chosen = Signal(str, object)  # title, TicketQuery
    search_chosen = Signal(str, str)  # name, search text of a saved search

    def __init__(self, views: list[tuple[str, ViewFactory]]) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setColumnCount(2)  # the view's title, its number of tickets
        self.header().setStretchLastSection(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self._saved = QTreeWidgetItem(["Saved searches"])
        self._saved.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading, not a view
        font = self._saved.font(0)
        font.setBold(True)
        self._saved.setFont(0, font)
        self.addTopLevelItem(self._saved)
        self.set_views(views)
        self.currentItemChanged.connect(self._on_current)

    def set_views(self, views: list[tuple[str, ViewFactory]]) -> None:
        """The standard views above the saved searches, replacing those there (the cache
        now works as someone: "My tickets")."""
        while self.topLevelItem(0) is not self._saved:
            self.takeTopLevelItem(0)
        for at, (title, factory) in enumerate(views):
            item = QTreeWidgetItem([title])
            item.setData(0, _QUERY_ROLE, factory)
            self.insertTopLevelItem(at, item)

    def views(self) -> list[tuple[str, ViewFactory]]:
        """The standard views shown, by title."""
        items = (self.topLevelItem(at) for at in range(self.topLevelItemCount()))
        return [(i.text(0), i.data(0, _QUERY_ROLE)) for i in items if i.data(0, _QUERY_ROLE)]

    def show_counts(self, counts: dict[str, int]) -> None:
        """The number of tickets beside each view (of those counted)."""
        for at in range(self.topLevelItemCount()):
            item = self.topLevelItem(at)
            if item.text(0) in counts:
                item.setText(1, str(counts[item.text(0)]))
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight)

    def _on_current(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        if current is None:
            return
        search = current.data(0, _SEARCH_ROLE)
        if search:
            self.search_chosen.emit(current.text(0), search)
        elif current.data(0, _QUERY_ROLE):
            self.view_chosen.emit(current.text(0), current.data(0, _QUERY_ROLE)())

    def reapply(self) -> None:
        """Show the current view again after a search was cleared (a saved search is left)."""
        current = self.currentItem()
        if current is None or current.data(0, _SEARCH_ROLE):
            self.setCurrentItem(self.topLevelItem(0))
        else:
            self._on_current(current, None)

    def choose(self, title: str) -> None:
        found = self.findItems(title, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        selectable = [i for i in found if i.flags() & Qt.ItemFlag.ItemIsSelectable]
        if selectable:
            self.setCurrentItem(selectable[0])

    # -- saved searches ----------------------------------------------------------------------
    def saved(self) -> list[tuple[str, str]]:
        return [
            (self._saved.child(i).text(0), self._saved.child(i).data(0, _SEARCH_ROLE))
            for i in range(self._saved.childCount())
        ]

    def set_saved(self, searches: list[tuple[str, str]]) -> None:
        self._saved.takeChildren()
        for name, text in searches:
            self.add_saved(name, text)

    def add_saved(self, name: str, text: str) -> QTreeWidgetItem:
        for existing in range(self._saved.childCount()):  # same name: the new text replaces it
            if self._saved.child(existing).text(0) == name:
                self._saved.child(existing).setData(0, _SEARCH_ROLE, text)
                return self._saved.child(existing)
        item = QTreeWidgetItem([name])
        item.setData(0, _SEARCH_ROLE, text)
        item.setToolTip(0, f"Search: {text}")
        self._saved.addChild(item)
        self._saved.setExpanded(True)
        return item

    def remove_saved(self, item: QTreeWidgetItem) -> bool:
        if item.parent() is not self._saved:
            return False
        self._saved.removeChild(item)
        return True
