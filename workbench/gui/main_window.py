"""The main window: navigation, ticket list with search, ticket detail, docks, status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QItemSelection, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.errors import WorkbenchError
from workbench.core.models import TicketDetail
from workbench.core.query import TicketQuery
from workbench.gui.detail import DetailPane
from workbench.gui.docks import DockFactory, default_docks
from workbench.gui.intake import IntakeDialog
from workbench.gui.navigation import NavigationPane, standard_views
from workbench.gui.theme import SettingsDialog
from workbench.gui.ticket_model import TicketTableModel, TintDelegate
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

SEARCH_DELAY_MS = 150  # wait for a pause in typing before asking the index


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
        self.model = TicketTableModel(service, worker, self)
        self.navigation = NavigationPane(standard_views(service.policy, service.technician))
        self.search = QLineEdit()
        self.search.setPlaceholderText(
            "Search tickets, people, assets, serials, hostnames… (Ctrl+K)"
        )
        self.search.setClearButtonEnabled(True)
        self.table = self._make_table()
        self.detail = DetailPane(service, worker)
        self.splitter = self._layout()
        self.docks = {
            title: self._add_dock(title, build) for title, build in docks or default_docks()
        }
        self._count_label = QLabel("Loading tickets…")
        self._place_label = QLabel()
        self._place_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.statusBar().addWidget(self._count_label)
        self.statusBar().addPermanentWidget(self._place_label, 1)
        self.statusBar().addPermanentWidget(QLabel("local only"))
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._view_title = ""
        self._connect()
        self._menus()
        self.resize(1400, 820)
        self._restore()

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.model)
        table.setItemDelegate(TintDelegate(table))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setSortingEnabled(True)
        table.horizontalHeader().setSortIndicator(7, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().hide()
        table.setAlternatingRowColors(True)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((90, 54, 95, 0, 120, 92, 108, 100)):
            if width:
                table.setColumnWidth(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # the title takes the rest
        return table

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
        self.setCentralWidget(splitter)
        return splitter

    def _add_dock(self, title: str, build: DockFactory) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)  # saveState() finds docks by object name
        dock.setWidget(build(self))
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        return dock

    def _connect(self) -> None:
        self.navigation.view_chosen.connect(self._show_view)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self._search_timer.timeout.connect(self._run_search)
        self.search.returnPressed.connect(self._open_first_hit)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.model.total_known.connect(self._on_total)
        self.model.load_failed.connect(self._show_error)
        self.detail.failed.connect(self._show_error)
        self.detail.shown.connect(self.detail_shown)
        self.detail.ticket_changed.connect(lambda _id: self._refresh_status())
        self.model.start_clock()

    def _menus(self) -> None:
        entries = (
            ("&File", "New ticket…", ["Ctrl+N"], self.open_intake),
            ("&File", "Settings…", ["Ctrl+,"], self.open_settings),
            ("&File", "Close window", ["Ctrl+W"], self.close),
            ("&View", "Search", ["Ctrl+K", "Ctrl+F"], self._focus_search),
            ("&View", "Refresh", ["F5"], self.refresh),
            ("&Ticket", "Add the note (Ctrl+Enter in the note box)", [], self.detail.add_note),
        )
        menus: dict[str, QMenu] = {}
        for menu_name, text, keys, slot in entries:
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(menu_name)
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.triggered.connect(slot)
            menus[menu_name].addAction(action)

    # -- behaviour -------------------------------------------------------------------------
    def start(self) -> None:
        """Load the first view; call once the window is shown (the splitter sizes need it)."""
        splitter = self.settings.value("splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        else:  # first start: the list gets what the navigation and the detail leave
            width = self.splitter.width()
            self.splitter.setSizes([170, max(400, width - 170 - 430), 430])
        self.navigation.choose(self.settings.value("view", "") or "")
        if self.navigation.currentItem() is None:
            self.navigation.setCurrentItem(self.navigation.topLevelItem(0))
        self._refresh_status()

    def open_intake(self) -> IntakeDialog:
        dialog = IntakeDialog(self.service, self.worker, self)
        dialog.created.connect(self._ticket_created)
        dialog.open()
        return dialog

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self)
        dialog.open()
        return dialog

    def _ticket_created(self, detail: TicketDetail) -> None:
        self.detail.show_detail(detail)
        self.refresh()

    def refresh(self) -> None:
        self.model.reload()
        self._refresh_status()

    def _refresh_status(self) -> None:
        store = self.service.store

        def pending() -> tuple[str | None, int]:
            with store.read() as db:
                return self.service.technician, db.outbox_count()

        self.worker.submit(
            pending,
            lambda result: self._place_label.setText(
                f"{store.path.parent} · {result[0] or 'no technician'} · {result[1]} unsynced"
            ),
            self._show_error,
        )

    def _show_view(self, title: str, query: TicketQuery) -> None:
        self._view_title = title
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self.model.set_query(query)

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _run_search(self) -> None:
        text = self.search.text()
        if text.strip():
            self._view_title = f"Search “{text.strip()}”"
            self.model.set_search(text)
        else:
            self.navigation.reapply()

    def _open_first_hit(self) -> None:
        if self.model.rowCount() > 0:
            self.table.selectRow(0)
            self.table.setFocus()

    def _on_total(self, total: int) -> None:
        self._count_label.setText(f"{self._view_title}: {total:,} tickets")
        if total and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _on_selection(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if indexes:
            self.detail.load(self.model.summary(indexes[0].row()).ticket.id)

    def _show_error(self, error: Exception | str) -> None:
        if isinstance(error, Exception) and not isinstance(error, WorkbenchError):
            error = "internal error; details in the log"
        self.statusBar().showMessage(str(error), 10_000)
        QMessageBox.warning(self, "Workbench", str(error))

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
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("splitter", self.splitter.saveState())
        if self.navigation.currentItem() is not None:
            self.settings.setValue("view", self.navigation.currentItem().text(0))
        super().closeEvent(event)
