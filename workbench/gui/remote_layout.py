"""The remote console's widgets and their arrangement (behaviour lives in remote_console)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.gui.remote_bridge import FanoutModel, Line, OutcomeDelegate, colours
from workbench.gui.remote_dialogs import STDERR_RED
from workbench.gui.theme import plain_label
from workbench.remote.launchers import KIND_LABELS

OUTPUT_LINES = 20_000  # the view keeps the newest lines; the full output is in the job's log


def _open_log_button() -> QPushButton:
    button = QPushButton("Open log")
    button.setToolTip("Open the full output of the last job that ended")
    button.setEnabled(False)  # until a job has ended
    return button


class ConsoleLayout:
    def __init__(self, pane: QWidget, form: QWidget, max_concurrency: int) -> None:
        self.targets = QPlainTextEdit()
        self.targets.setPlaceholderText("One host a line: HOST or HOST:PORT")
        self.targets.setTabChangesFocus(True)
        self.targets.setMaximumHeight(pane.fontMetrics().height() * 4 + 12)
        self.profile = QComboBox()
        self.profile.setMinimumContentsLength(14)
        self.profiles_button = QPushButton("Profiles…")
        self.launch = {kind: QPushButton(label) for kind, label in KIND_LABELS.items()}
        for button in self.launch.values():
            button.setToolTip(f"Open an interactive {button.text()} session to the first target")
        self.recipe = QComboBox()
        self.recipe.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.recipe.setMinimumContentsLength(28)
        self.all_platforms = QCheckBox("All platforms")
        self.all_platforms.setToolTip("Also list recipes for other operating systems")
        self.description = plain_label()  # recipe text and remote answers: never markup
        self.run = QPushButton("Run")
        self.run.setDefault(True)
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.retry = QPushButton("Retry unreachable")
        self.retry.setEnabled(False)
        self.concurrency = QSpinBox()
        self.concurrency.setRange(1, max_concurrency)
        self.concurrency.setValue(min(8, max_concurrency))
        self.concurrency.setPrefix("at most ")
        self.concurrency.setSuffix(" at once")
        self.banner = plain_label("Pick a recipe and a target, then Run.")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_log = _open_log_button()
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setMaximumBlockCount(OUTPUT_LINES)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setPlaceholderText("Output appears here line by line; stderr in red.")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.output.setFont(mono)
        # A theme's style sheet sets one font for every widget; the widget's own sheet wins.
        self.output.setStyleSheet(f'QPlainTextEdit {{ font-family: "{mono.family()}"; }}')
        self.results = FanoutModel(pane)
        self.table = QTableView()
        self.table.setModel(self.results)
        self.table.setItemDelegateForColumn(1, OutcomeDelegate(self.table))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # The hosts never vanish behind the output: at least one row stays in view (more
        # would push Run below a laptop's dock; the splitter gives them more room).
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + rows + 2 * self.table.frameWidth())
        self._arrange(pane, form)

    def _arrange(self, pane: QWidget, form: QWidget) -> None:
        where = QFormLayout()
        where.addRow("Targets", self.targets)
        profile_row = QHBoxLayout()
        profile_row.addWidget(self.profile, 1)
        profile_row.addWidget(self.profiles_button)
        where.addRow("Profile", profile_row)
        sessions = QHBoxLayout()
        for button in self.launch.values():
            sessions.addWidget(button)
        where.addRow("Session", sessions)
        recipe_row = QHBoxLayout()
        recipe_row.addWidget(self.recipe, 1)
        recipe_row.addWidget(self.all_platforms)
        where.addRow("Recipe", recipe_row)
        where.addRow(self.description)
        params = QGroupBox("Parameters")
        QVBoxLayout(params).addWidget(form)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(where)
        column.addWidget(params)
        column.addStretch(1)
        # A long parameter form scrolls on its own: Run and the outcome below never move.
        left_scroll = QScrollArea()
        left_scroll.setWidgetResizable(True)
        left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        left_scroll.setWidget(left)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_scroll.setMinimumWidth(  # the form whole across, its scroll bar beside it
            left.minimumSizeHint().width() + left_scroll.verticalScrollBar().sizeHint().width()
        )
        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(self.output)
        right_split.addWidget(self.table)
        right_split.setStretchFactor(0, 3)
        right_split.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left_scroll)
        split.addWidget(right_split)
        split.setStretchFactor(1, 1)
        # Run, Cancel and what the run came to, side by side and outside any scrolled part.
        actions = QHBoxLayout()
        for widget in (self.run, self.cancel, self.concurrency, self.retry):
            actions.addWidget(widget)
        actions.addWidget(self.banner, 1)
        actions.addWidget(self.open_log)
        outer = QVBoxLayout(pane)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(split, 1)
        outer.addLayout(actions)

    def show_banner(self, state: str, text: str) -> None:
        background, foreground = colours(state)
        self.banner.setStyleSheet(
            f"QLabel {{ background: {background}; color: {foreground}; padding: 4px 8px;"
            " border-radius: 3px; font-weight: bold; }"
        )
        self.banner.setText(text)
        self.banner.setProperty("state", state)

    def append_lines(self, lines: list[Line], prefixed: bool) -> None:
        """Append streamed lines at the end (stderr in red), each as its own line."""
        plain, error = QTextCharFormat(), QTextCharFormat()
        error.setForeground(QColor(STDERR_RED))
        document = self.output.document()
        cursor = QTextCursor(document)
        cursor.movePosition(QTextCursor.MoveOperation.End)
        for key, stream, text in lines:
            if not document.isEmpty():
                cursor.insertBlock()
            prefix = f"{key} | " if prefixed else ""
            cursor.insertText(prefix + text, error if stream == "stderr" else plain)
        self.output.verticalScrollBar().setValue(self.output.verticalScrollBar().maximum())
