"""The main window: navigation, ticket list with search, ticket detail, docks, status bar."""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QByteArray, QItemSelection, QPoint, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.changes import ChangeSet
from workbench.core.labels import plural
from workbench.core.models import TicketDetail
from workbench.core.query import TicketQuery
from workbench.gui.admin import ADMIN_ACTION, AdminAccess
from workbench.gui.bulk import BulkActions, BulkResult
from workbench.gui.change_hub import ChangeHub
from workbench.gui.detail import DetailPane
from workbench.gui.docks import DockFactory, default_docks
from workbench.gui.first_run import FirstRun
from workbench.gui.intake import IntakeDialog
from workbench.gui.navigation import NavigationPane, standard_views
from workbench.gui.sync_status import CONNECT_ACTION, SyncStatus
from workbench.gui.theme import SettingsDialog
from workbench.gui.ticket_model import (
    COLUMNS,
    DEFAULT_HIDDEN,
    ROW_TABLES,
    TINTED_COLUMNS,
    TITLE_COLUMN,
    ColumnFitter,
    TicketTableModel,
    TintDelegate,
)
from workbench.gui.worker import DbWorker, error_text
from workbench.services.tickets import TicketService

log = logging.getLogger(__name__)
SEARCH_DELAY_MS = 150  # wait for a pause in typing before asking the index
BUSY_DELAY_MS = 300  # quicker work needs no progress bar; it would only flicker
DOCK_HEIGHT = 290  # pixels for the tree/remote strip on first start (Run and Accept fit)


class MainWindow(QMainWindow):
    detail_shown = Signal(str)  # ticket id, once its detail is on screen

    def __init__(
        self,
        service: TicketService,
        worker: DbWorker,
        settings: QSettings | None = None,
        docks: list[tuple[str, DockFactory]] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Workbench")
        self.service = service
        self.worker = worker
        self.settings = settings or QSettings()
        self.changes = ChangeHub(service.store, worker, self)  # what every view follows
        self.model = TicketTableModel(service, worker, self)
        self.navigation = NavigationPane(standard_views(service.policy, service.technician))
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Search tickets, people, assets, serials, hostnames… (Ctrl+K)"
        )
        self.search.setClearButtonEnabled(True)
        self.table = self._make_table()
        self.detail = DetailPane(service, worker)
        self.bulk = BulkActions(service, worker, self.selected_tickets, self)
        self.splitter = self._layout()
        self.panes: dict[str, QWidget] = {}  # the docks' contents built so far, by title
        self._unbuilt: dict[str, DockFactory] = {}
        self.docks = {
            title: self._add_dock(title, build) for title, build in docks or default_docks()
        }
        self._stack_docks()
        self._count_label = QLabel("Loading tickets…")
        self._place_label = QLabel()
        self._place_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.busy = QProgressBar()  # shown only when the worker is busy for a noticeable time
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.busy.setToolTip("Working in the background…")
        self.busy.hide()
        self._busy_delay = QTimer(self, singleShot=True, interval=BUSY_DELAY_MS)
        self._busy_delay.timeout.connect(self.busy.show)
        self.statusBar().addWidget(self._count_label)
        self.statusBar().addWidget(self.busy)
        self.statusBar().addPermanentWidget(self._place_label)
        self.sync_status = SyncStatus(self)
        self.statusBar().addPermanentWidget(self.sync_status)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._view_title = ""
        self._select_after_load: str | None = None  # a ticket to select once the list is read
        self._connect()
        self._menus()
        self.admin = AdminAccess(self, self.menu_actions[ADMIN_ACTION])
        self.first_run = FirstRun(self, self.central_stack)  # shown instead on an empty cache
        # A stack is as tall as its tallest page: the hidden first-run page must not take the
        # docks' height on a laptop (shown, it has the whole window: the docks are hidden).
        self.first_run.panel.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self._follow_theme()
        self.resize(1400, 820)
        self._restore()

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        self._tints = TintDelegate(table)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setSortingEnabled(True)
        table.horizontalHeader().setSortIndicator(7, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(TITLE_COLUMN, QHeaderView.ResizeMode.Stretch)  # the rest
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(
            lambda position: self.column_chooser().exec(header.mapToGlobal(position))
        )
        for column in self._hidden_columns():
            header.hideSection(column)
        self._fitter = ColumnFitter(table)
        return table

    def _hidden_columns(self) -> set[int]:
        saved = self.settings.value("hidden_columns", json.dumps(DEFAULT_HIDDEN))
        try:
            hidden = {int(column) for column in json.loads(str(saved))}
        except (ValueError, TypeError):  # a hand-edited settings file: show every column
            return set()
        return hidden & set(range(len(COLUMNS))) - {TITLE_COLUMN}

    def column_chooser(self) -> QMenu:
        """The header's menu: tick the columns to show; the choice is kept for the next start."""
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for column, (name, _key, _text) in enumerate(COLUMNS):
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setEnabled(column != TITLE_COLUMN)  # a list without titles says nothing
            action.toggled.connect(lambda shown, c=column: self._show_column(c, shown))
        return menu

    def _show_column(self, column: int, shown: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(column, not shown)
        self._fitter.fit()
        hidden = [c for c in range(len(COLUMNS)) if self.table.isColumnHidden(c)]
        self.settings.setValue("hidden_columns", json.dumps(hidden))

    def _follow_theme(self) -> None:
        """Tints need a Python delegate only under a style sheet theme (it would hide them).

        Without one Qt paints the background role itself: scrolling stays in C++.
        """
        app = QApplication.instance()
        styled = isinstance(app, QApplication) and bool(app.styleSheet())
        for column in TINTED_COLUMNS:
            self.table.setItemDelegateForColumn(column, self._tints if styled else None)
        self._fitter.fit()  # a theme brings its own font size

    def _layout(self) -> QSplitter:
        middle = QWidget()
        column = QVBoxLayout(middle)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.table, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.navigation, middle, self.detail):
            splitter.addWidget(widget)
        splitter.setStretchFactor(1, 1)
        self.central_stack = QStackedWidget()  # the splitter; the first-run page goes beside it
        self.central_stack.addWidget(splitter)
        self.setCentralWidget(self.central_stack)
        return splitter

    def _stack_docks(self) -> None:
        """First start: the docks share one tabbed strip, so the list and detail keep the room."""
        stacked = list(self.docks.values())
        for dock in stacked[1:]:
            self.tabifyDockWidget(stacked[0], dock)
        if stacked:
            stacked[0].raise_()

    def _add_dock(self, title: str, build: DockFactory) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)  # saveState() finds docks by object name
        scroll = QScrollArea()  # a pane with a long form scrolls instead of crowding the list
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        dock.setWidget(scroll)
        # Built when first shown (or asked for): a tab behind another costs the start nothing,
        # and the one in front is built while the first page of the list is being read.
        self._unbuilt[title] = build
        dock.visibilityChanged.connect(
            lambda visible: visible and QTimer.singleShot(0, lambda: self.pane(title))
        )
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return dock

    def pane(self, title: str) -> QWidget | None:
        """The content of the dock `title`, built now if it was not yet; None: no such dock."""
        build = self._unbuilt.pop(title, None)
        if build is not None:
            pane = self.panes[title] = build(self)
            scroll = self.docks[title].widget()
            assert isinstance(scroll, QScrollArea)
            scroll.setWidget(pane)
        return self.panes.get(title)

    def _connect(self) -> None:
        self.navigation.view_chosen.connect(self._show_view)
        self.navigation.search_chosen.connect(self._show_saved_search)
        self.navigation.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.navigation.customContextMenuRequested.connect(self._navigation_menu)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._table_menu)
        self.bulk.finished.connect(self._bulk_done)
        self.bulk.failed.connect(self._show_error)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self._search_timer.timeout.connect(self._run_search)
        self.search.returnPressed.connect(self._open_first_hit)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.total_known.connect(self._on_total)
        self.worker.busy_changed.connect(self._on_busy)
        self._on_busy(self.worker.pending > 0)  # the panes may have submitted work already
        self.model.load_failed.connect(self._show_error)
        self.detail.failed.connect(self._show_error)
        self.detail.shown.connect(self.detail_shown)
        self.detail.launch_requested.connect(self._launch_session)
        self.model.start_clock()
        self.changes.changed.connect(self._on_changes)

    def _menus(self) -> None:
        entries = (
            ("&File", "New ticket…", ["Ctrl+N"], self.open_intake),
            ("&File", CONNECT_ACTION, [], self.sync_status.open_login),
            ("&File", ADMIN_ACTION, [], lambda: None),  # AdminAccess shows and opens it
            ("&File", "Settings…", ["Ctrl+,"], self.open_settings),
            ("&File", "Close window", ["Ctrl+W"], self.close),
            ("&View", "Search", ["Ctrl+K", "Ctrl+F"], self._focus_search),
            ("&View", "Save this search…", ["Ctrl+S"], self.save_search),
            ("&View", "Refresh", ["F5"], self.refresh),
            ("&View", "Sync now", ["F9"], self.sync_status.sync_now),
            ("&View", "Conflicts…", [], self.sync_status.open_conflicts),
            ("&Ticket", "Add the note (Ctrl+Enter in the note box)", [], self.detail.add_note),
        )
        menus: dict[str, QMenu] = {}
        self.menu_actions: dict[str, QAction] = {}
        for menu_name, text, keys, slot in entries:
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(menu_name)
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.triggered.connect(slot)
            menus[menu_name].addAction(action)
            self.menu_actions[text] = action
        self.bulk.fill(menus["&Ticket"].addMenu("Selected tickets"))

    # -- behaviour -------------------------------------------------------------------------
    def start(self) -> None:
        """Load the first view; call once the window is shown (the splitter sizes need it)."""
        splitter = self.settings.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:  # first start: the list gets what the navigation and the detail leave
            width = self.splitter.width()
            self.splitter.setSizes([170, max(400, width - 170 - 430), 430])
            if self.docks:
                first = next(iter(self.docks.values()))
                self.resizeDocks([first], [DOCK_HEIGHT], Qt.Orientation.Vertical)
        saved = self.settings.value("saved_searches", "[]")
        try:
            self.navigation.set_saved([(str(n), str(t)) for n, t in json.loads(str(saved))])
        except (ValueError, TypeError):  # a hand-edited settings file: start without them
            log.warning("ignoring unreadable saved searches in the settings")
        self.navigation.choose(self.settings.value("view", "") or "")
        if self.navigation.currentItem() is None:
            self.navigation.setCurrentItem(self.navigation.topLevelItem(0))
        self._refresh_status()
        self._refresh_counts()
        self.first_run.check()
        self.admin.refresh()
        self.sync_status.start()
        self.changes.start_polling()

    def open_intake(self) -> IntakeDialog:
        dialog = IntakeDialog(self.service, self.worker, self)
        dialog.created.connect(self._ticket_created)
        dialog.open()
        return dialog

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self)
        dialog.accepted.connect(self._follow_theme)
        dialog.open()
        return dialog

    def _ticket_created(self, detail: TicketDetail) -> None:
        self._select_after_load = detail.ticket.id  # once the list has it: opened and selected
        self.detail.show_detail(detail)
        self.refresh()

    def refresh(self) -> None:
        self.model.reload()
        self._refresh_counts()
        self.detail.reload_technicians()
        self._refresh_status()

    def _on_changes(self, changes: ChangeSet) -> None:
        """A commit (here or by another process): every view updates in place, no F5."""
        self.model.apply_changes(changes)
        self.detail.apply_changes(changes)
        if changes.touches(ROW_TABLES):
            self._refresh_counts()
        if changes.touches({"technicians"}):
            self.detail.reload_technicians()

    def _refresh_counts(self) -> None:
        views = self.navigation.views()
        count = self.service.count
        self.worker.submit(
            lambda: {title: count(factory()) for title, factory in views},
            self.navigation.show_counts,
            self._show_error,
        )

    def _refresh_status(self) -> None:
        # The pending count is the sync indicator's (it re-reads it after every load and
        # change); this label says where and who (the technician may come from the cache).
        place = self.service.store.path.parent
        self.worker.submit(
            lambda: self.service.technician,
            lambda who: self._place_label.setText(f"{place} · {who or 'no technician'}"),
            self._show_error,
        )

    def _launch_session(self, kind: str) -> None:
        console = self.pane("Remote console")
        if console is not None and hasattr(console, "launch_session"):
            console.launch_session(kind)

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._busy_delay.start()
        else:
            self._busy_delay.stop()
            self.busy.hide()

    def _show_view(self, title: str, query: TicketQuery) -> None:
        self._view_title = title
        self._count_label.setText(f"{title}: loading…")
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.model.set_query(query)
        # The header shows the view's own order; quietly, or the view would sort (load) again.
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(
            self.model.sort_column(),
            Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder,
        )
        header.blockSignals(False)

    def _show_saved_search(self, name: str, text: str) -> None:
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)
        self._view_title = name
        self.model.set_search(text)

    def save_search(self) -> None:
        text = self.search.text().strip()
        if not text:
            self.statusBar().showMessage("Type a search first, then save it (Ctrl+S).", 10_000)
            return
        name, ok = QInputDialog.getText(self, "Save search", "Name of the search:", text=text)
        if ok and name.strip():
            self.navigation.add_saved(name.strip(), text)
            self._store_saved_searches()

    def _store_saved_searches(self) -> None:
        self.settings.setValue("saved_searches", json.dumps(self.navigation.saved()))

    def _navigation_menu(self, position: QPoint) -> None:
        item = self.navigation.itemAt(position)
        if item is None or not self.navigation.saved():
            return
        menu = QMenu(self)
        remove = menu.addAction(f"Remove saved search “{item.text(0)}”")
        remove.setEnabled(item.parent() is not None)
        if menu.exec(self.navigation.viewport().mapToGlobal(position)) is remove:
            self.navigation.remove_saved(item)
            self._store_saved_searches()

    def selected_tickets(self) -> list[tuple[str, str]]:
        rows = sorted(index.row() for index in self.table.selectionModel().selectedRows())
        return [(s.ticket.id, s.ticket.ref) for s in map(self.model.summary, rows)]

    def _table_menu(self, position: QPoint) -> None:
        count = len(self.table.selectionModel().selectedRows())
        if not count:
            return
        menu = QMenu(self)
        menu.addSection(plural(count, "selected ticket"))
        self.bulk.fill(menu)
        menu.exec(self.table.viewport().mapToGlobal(position))

    def _bulk_done(self, result: BulkResult) -> None:
        self.statusBar().showMessage(result.text().splitlines()[0], 10_000)
        if result.refused:
            QMessageBox.information(self, "Workbench", result.text())

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _run_search(self) -> None:
        text = self.search.text()
        if text.strip():
            self._view_title = f"Search “{text.strip()}”"
            self._count_label.setText(f"{self._view_title}: searching…")
            self.model.set_search(text)
        else:
            self.navigation.reapply()

    def _open_first_hit(self) -> None:
        if self.model.rowCount() > 0:
            self.table.selectRow(0)
            self.table.setFocus()

    def _on_total(self, total: int) -> None:
        self._count_label.setText(f"{self._view_title}: {plural(total, 'ticket')}")
        wanted, self._select_after_load = self._select_after_load, None
        if wanted is not None:  # a new ticket: selected if this view lists it, shown anyway
            rows = range(self.model.rowCount())
            row = next((r for r in rows if self.model.summary(r).ticket.id == wanted), None)
            if row is not None:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
        elif total and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.detail.load(self.model.summary(indexes[0].row()).ticket.id)

    def _show_error(self, error: Exception | str) -> None:
        text = error_text(error)
        self.statusBar().showMessage(text, 10_000)
        QMessageBox.warning(self, "Workbench", text)

    # -- settings ----------------------------------------------------------------------------
    def _restore(self) -> None:
        for key, restore in (
            ("geometry", self.restoreGeometry),
            ("state", self.restoreState),
            ("splitter", self.splitter.restoreState),
        ):
            value = self.settings.value(key)
            if isinstance(value, QByteArray):
                restore(value)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.changes.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        if self.navigation.currentItem() is not None:
            self.settings.setValue("view", self.navigation.currentItem().text(0))
        super().closeEvent(event)
