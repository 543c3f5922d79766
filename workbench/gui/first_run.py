"""The first run: an empty cache that is not connected shows two ways in instead of an empty list.

"Connect to your help desk" opens the connect dialog (its first sync fills the list); "Try the
demo data" seeds the cache with the demo help desk on the database worker, as
`workbench --demo` does, with a progress bar, then shows the list. A ticket made meanwhile
(Ctrl+N) or one brought by a sync puts the list back too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from workbench.core.query import TicketQuery
from workbench.gui.navigation import MY_VIEW, standard_views
from workbench.gui.theme import problem_label, scaled_font
from workbench.gui.worker import DbWorker, error_text
from workbench.store import Store, sync_state

if TYPE_CHECKING:
    from workbench.gui.login_dialog import LoginDialog
    from workbench.gui.main_window import MainWindow
    from workbench.services.demo import DemoSummary
    from workbench.store.sync_state import SyncState

DEMO_TICKETS = 3000  # as `workbench --demo`
DEMO_VIEW = "All tickets"  # where the list opens on the demo data without a technician
CARD_WIDTH = 600


def needs_first_run(store: Store) -> bool:
    """No tickets and no central database: nothing to show yet, nowhere to get it from."""
    with store.read() as db:
        return db.count(TicketQuery()) == 0 and not sync_state.state(db).central_url


def demo_fits(store: Store) -> bool:
    """The demo brings its own people and sites: it goes only into a cache without any."""
    with store.read() as db:
        return not db.technicians() and not db.sites()


def _first_run(store: Store) -> tuple[bool, bool]:
    return needs_first_run(store), demo_fits(store)


@dataclass(frozen=True, slots=True)
class DemoLoaded:
    summary: DemoSummary
    technician: str | None  # whom the demo cache works as: the window's "My tickets"


def seed(store: Store, tickets: int = DEMO_TICKETS) -> DemoLoaded:
    from workbench.resources import load_policy  # noqa: PLC0415
    from workbench.services.demo import seed_demo  # noqa: PLC0415  (its generator is large)

    summary = seed_demo(store, load_policy(), tickets)
    with store.read() as db:
        return DemoLoaded(summary, db.meta(sync_state.TECHNICIAN))


def _choice(title: str, text: str) -> tuple[QPushButton, QWidget]:
    button = QPushButton(title)
    button.setMinimumHeight(button.sizeHint().height() + 12)
    button.setFont(scaled_font(button.font(), 1.15))
    explanation = QLabel(text)
    explanation.setWordWrap(True)
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(6)
    column.addWidget(button)
    column.addWidget(explanation)
    return button, box


class FirstRunPanel(QWidget):
    """The page in place of the empty list; it knows the store and the worker, not the window."""

    connect_requested = Signal()
    demo_loaded = Signal(object)  # DemoLoaded

    def __init__(self, store: Store, worker: DbWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._worker = worker
        self._demo_fits = True
        title = QLabel("Welcome to the Workbench")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel(
            "This computer has no tickets yet and is not connected to a help desk. "
            "How do you want to start?"
        )
        intro.setWordWrap(True)
        self.connect_button, connect_box = _choice(
            "Connect to your help desk",
            "Sign in to your help desk's central database with the address and login your "
            "admin gave you. Its tickets, people and troubleshooting trees come with the "
            "first sync, and you can work offline from then on.",
        )
        self.demo_button, demo_box = _choice(
            "Try the demo data",
            f"Fill this computer's cache with a made-up help desk ({DEMO_TICKETS:,} tickets, "
            "their people, sites and machines) to look around. Nothing is sent anywhere; "
            "for real work, connect an empty cache later.",
        )
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # the demo generator does not say how far it is
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.problem = problem_label()
        card = QFrame()
        card.setFrameShape(QFrame.Shape.StyledPanel)
        # A fixed width lets the wrapped texts take the height they need.
        card.setFixedWidth(CARD_WIDTH)
        card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        column = QVBoxLayout(card)
        column.setContentsMargins(28, 24, 28, 24)
        column.setSpacing(12)
        column.addWidget(title)
        column.addWidget(intro)
        column.addSpacing(8)
        column.addWidget(connect_box)
        column.addSpacing(8)
        column.addWidget(demo_box)
        column.addWidget(self.progress)
        column.addWidget(self.status)
        column.addWidget(self.problem)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self.connect_button.clicked.connect(self.connect_requested)
        self.demo_button.clicked.connect(self.load_demo)

    def offer_demo(self, fits: bool) -> None:
        """A cache that holds a help desk's people already (from an earlier sync) keeps them."""
        self.demo_button.setEnabled(fits)
        self._demo_fits = fits
        self.status.setText(
            ""
            if fits
            else "The demo data goes only into an empty cache, and this one already holds a "
            "help desk's people and sites: connect it, or start the demo with "
            "`workbench --demo`, which uses a cache of its own."
        )

    def load_demo(self) -> None:
        store = self._store
        self.problem.clear()
        self.connect_button.setEnabled(False)
        self.demo_button.setEnabled(False)
        self.progress.show()
        self.status.setText(f"Making the demo help desk: {DEMO_TICKETS:,} tickets…")
        self._worker.submit(lambda: seed(store), self._loaded, self._failed)

    def _loaded(self, loaded: DemoLoaded) -> None:
        self._idle()
        self.status.setText(f"Demo data loaded: {loaded.summary.tickets:,} tickets.")
        self.demo_loaded.emit(loaded)

    def _failed(self, error: Exception) -> None:
        self._idle()
        self.status.clear()
        self.problem.setText(error_text(error))

    def _idle(self) -> None:
        self.progress.hide()
        self.connect_button.setEnabled(True)
        self.demo_button.setEnabled(self._demo_fits)


class FirstRun(QObject):
    """Shows the panel instead of the window's panes (and docks) while the cache is empty."""

    def __init__(self, window: MainWindow, stack: QStackedWidget) -> None:
        super().__init__(window)
        self.main = window
        self.stack = stack
        self.panel = FirstRunPanel(window.service.store, window.worker)
        stack.addWidget(self.panel)
        self._login: LoginDialog | None = None
        self._hidden_docks: list[QDockWidget] = []  # open docks, while the panel is shown
        self._front_docks: list[QDockWidget] = []  # of those, the ones not behind a tab
        self.panel.connect_requested.connect(self.open_login)
        self.panel.demo_loaded.connect(self._demo_loaded)
        window.model.total_known.connect(self._on_total)
        window.installEventFilter(self)

    @property
    def shown(self) -> bool:
        return self.stack.currentWidget() is self.panel

    def check(self) -> None:
        """Ask the cache (on the database worker) whether this is a first run."""
        store = self.main.service.store
        self.main.worker.submit(lambda: _first_run(store), self._checked)  # errors: the route

    def _checked(self, found: tuple[bool, bool]) -> None:
        empty, demo_fits = found
        self.panel.offer_demo(demo_fits)
        if empty and self.main.model.rowCount() == 0 and not self.shown:
            self.stack.setCurrentWidget(self.panel)
            # The tree and console docks have no ticket to follow yet: out of the way.
            docks = self.main.findChildren(QDockWidget)
            # A dock behind another's tab counts as visible, but nothing of it shows.
            self._front_docks = [d for d in docks if not d.visibleRegion().isEmpty()]
            self._hidden_docks = [d for d in docks if d.toggleViewAction().isChecked()]
            for dock in self._hidden_docks:
                dock.hide()

    def _on_total(self, total: int) -> None:
        if total:  # a ticket came (made here, or by a sync): the list has something to show
            self.show_list()

    def show_list(self) -> None:
        if self.shown:
            self.stack.setCurrentIndex(0)
            self._restore_docks()

    def _restore_docks(self) -> None:
        for dock in self._hidden_docks:
            dock.show()
        for dock in self._front_docks:
            dock.raise_()
        self._hidden_docks, self._front_docks = [], []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        # Before the window saves its layout: the docks as the technician left them.
        if watched is self.main and event.type() == QEvent.Type.Close:
            self._restore_docks()
        return False

    def open_login(self) -> LoginDialog:
        dialog = self.main.sync_status.open_login()
        if dialog is not self._login:  # the window keeps one dialog: connect to it once
            self._login = dialog
            dialog.connected.connect(self._connected)
        return dialog

    def _connected(self, _state: SyncState) -> None:
        self.show_list()  # the first sync, starting now, fills it

    def _demo_loaded(self, loaded: DemoLoaded) -> None:
        summary = loaded.summary
        # The views were made for a cache with nobody in it: now there is a "My tickets".
        self.main.navigation.set_views(standard_views(self.main.service.policy, loaded.technician))
        self.show_list()
        self.main.statusBar().showMessage(
            f"Demo data loaded: {summary.tickets:,} tickets, {summary.technicians} technicians, "
            f"{summary.sites} sites.",
            10_000,
        )
        self.main.navigation.choose(MY_VIEW if loaded.technician else DEMO_VIEW)
        self.main.refresh()
