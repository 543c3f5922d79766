"""Themes (qt-material light and dark, or the platform's own look) and the font size."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

THEMES = {"system": None, "light": "light_blue.xml", "dark": "dark_teal.xml"}
DEFAULT_THEME = "system"  # qt-material costs ~0.5 s per start (it renders its icons)
# qt-material pads headers and cells for touch screens; a ticket list needs its columns.
_COMPACT_TABLES = """
QHeaderView::section { padding: 2px 4px; min-width: 0px; }
QTableView::item { padding: 0px 4px; }
"""
ERROR_COLOR = "#c62828"  # a red that reads on the light and the dark theme
DEFAULT_FONT_SIZE = 10  # points
FONT_SIZES = (8, 20)


def plain_label(text: str = "") -> QLabel:
    """A wrapping label whose text is shown as typed: stored or remote text is never taken
    for markup (Qt would otherwise guess, and render a title's `<b>` as bold)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def problem_label() -> QLabel:
    """Where a form says why it refused what was entered (empty until then)."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {ERROR_COLOR}")
    return label


def current(settings: QSettings) -> tuple[str, int]:
    theme = str(settings.value("theme", DEFAULT_THEME))
    try:
        size = int(settings.value("font_size", DEFAULT_FONT_SIZE))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        size = DEFAULT_FONT_SIZE
    return (
        theme if theme in THEMES else DEFAULT_THEME,
        min(max(size, FONT_SIZES[0]), FONT_SIZES[1]),
    )


_SYSTEM_PALETTE = "workbench_system_palette"  # an application property: one per QApplication


def apply(app: QApplication, theme: str, font_size: int) -> None:
    # qt-material also changes the palette's text colour; the system look must get the
    # original back, or text in lists turns faint after switching from a theme.
    if app.property(_SYSTEM_PALETTE) is None:
        app.setProperty(_SYSTEM_PALETTE, QPalette(app.palette()))
    font = QFont(app.font())
    font.setPointSize(font_size)
    app.setFont(font)
    sheet = THEMES[theme]
    if sheet is None:
        app.setStyleSheet("")
        app.setPalette(app.property(_SYSTEM_PALETTE))
        return
    from qt_material import apply_stylesheet  # noqa: PLC0415  (only when a theme is used)

    # qt-material sizes text in pixels; about 4/3 of the point size on a 96 dpi screen.
    apply_stylesheet(
        app,
        theme=sheet,
        invert_secondary=theme == "light",
        extra={"font_size": f"{round(font_size * 4 / 3)}px", "density_scale": "-1"},
    )


class SettingsDialog(QDialog):
    """Theme and font size; applied at once and kept for the next start."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        theme, size = current(settings)
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(theme)
        self.font_size = QSpinBox()
        self.font_size.setRange(*FONT_SIZES)
        self.font_size.setSuffix(" pt")
        self.font_size.setValue(size)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Theme", self.theme)
        form.addRow("Font size", self.font_size)
        form.addRow(buttons)

    def accept(self) -> None:
        self._settings.setValue("theme", self.theme.currentText())
        self._settings.setValue("font_size", self.font_size.value())
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply(app, self.theme.currentText(), self.font_size.value())
        super().accept()
