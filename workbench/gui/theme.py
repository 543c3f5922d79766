"""Themes (qt-material light and dark, or the platform's own look) and the font size."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QFont, QPalette
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
# The palette each theme hands to Qt: qt-material styles most widgets but leaves the palette
# light (and its Text a translucent accent), so rich-text links, placeholders and disabled text
# were drawn in the light palette's dark blue and greys on the dark sheet's near-black.
# (role, colour group or None for all groups, colour); every text colour meets WCAG AA
# (4.5:1) on each background of its theme (tests/gui/test_contrast.py computes it).
_Role, _Group = QPalette.ColorRole, QPalette.ColorGroup
THEME_COLOURS: dict[str, dict[str, str]] = {
    "light": {
        "window": "#f5f5f5", "base": "#ffffff", "alternate": "#eeeeee", "button": "#e6e6e6",
        "text": "#3c3c3c", "highlight": "#1565c0", "highlighted_text": "#ffffff",
        "link": "#0d47a1", "link_visited": "#6a1b9a", "placeholder": "#666666",
        "disabled": "#666666",
    },
    "dark": {
        "window": "#31363b", "base": "#232629", "alternate": "#2a2e32", "button": "#31363b",
        "text": "#ffffff", "highlight": "#1de9b6", "highlighted_text": "#000000",
        "link": "#6effe8", "link_visited": "#d1a6ff", "placeholder": "#b0b8be",
        "disabled": "#b0b8be",
    },
}  # fmt: skip
_ROLES = (
    (_Role.Window, "window"), (_Role.Base, "base"), (_Role.AlternateBase, "alternate"),
    (_Role.Button, "button"), (_Role.ToolTipBase, "base"), (_Role.WindowText, "text"),
    (_Role.Text, "text"), (_Role.ButtonText, "text"), (_Role.ToolTipText, "text"),
    (_Role.Highlight, "highlight"), (_Role.HighlightedText, "highlighted_text"),
    (_Role.Link, "link"), (_Role.LinkVisited, "link_visited"),
    (_Role.PlaceholderText, "placeholder"),
)  # fmt: skip
_DISABLED_TEXT_ROLES = (_Role.WindowText, _Role.Text, _Role.ButtonText)
# qt-material greys disabled text to 20-40 % opacity; it must stay readable.
_DISABLED_WIDGETS = (
    "QPushButton", "QToolButton", "QLabel", "QLineEdit", "QComboBox", "QSpinBox",
    "QCheckBox", "QRadioButton", "QPlainTextEdit", "QTextEdit", "QTreeView", "QListView",
    "QTableView",
)  # fmt: skip
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


def scaled_font(font: QFont, factor: float) -> QFont:
    """`font` made `factor` times larger, whether sized in points or (by a theme's style
    sheet) in pixels."""
    scaled = QFont(font)
    if scaled.pointSizeF() > 0:
        scaled.setPointSizeF(scaled.pointSizeF() * factor)
    else:
        scaled.setPixelSize(round(scaled.pixelSize() * factor))
    return scaled


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


def palette_of(theme: str) -> QPalette:
    """The palette of a qt-material theme (`THEME_COLOURS`)."""
    colours = THEME_COLOURS[theme]
    palette = QPalette()
    for role, name in _ROLES:
        palette.setColor(role, QColor(colours[name]))
    for role in _DISABLED_TEXT_ROLES:
        palette.setColor(_Group.Disabled, role, QColor(colours["disabled"]))
    return palette


def _disabled_sheet(theme: str) -> str:
    selectors = ", ".join(f"{widget}:disabled" for widget in _DISABLED_WIDGETS)
    return f"{selectors} {{ color: {THEME_COLOURS[theme]['disabled']}; }}\n"


def _readable_links(palette: QPalette) -> QPalette:
    """The platform's palette with its links readable: a dark desktop may keep a dark blue."""
    dark = palette.color(_Role.Window).lightness() < 128
    colours = THEME_COLOURS["dark" if dark else "light"]
    fixed = QPalette(palette)
    fixed.setColor(_Role.Link, QColor(colours["link"]))
    fixed.setColor(_Role.LinkVisited, QColor(colours["link_visited"]))
    return fixed


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
        app.setPalette(_readable_links(app.property(_SYSTEM_PALETTE)))
        return
    from qt_material import apply_stylesheet  # noqa: PLC0415  (only when a theme is used)

    # qt-material sizes text in pixels; about 4/3 of the point size on a 96 dpi screen.
    apply_stylesheet(
        app,
        theme=sheet,
        invert_secondary=theme == "light",
        extra={"font_size": f"{round(font_size * 4 / 3)}px", "density_scale": "-2"},
    )
    app.setStyleSheet(app.styleSheet() + _COMPACT_TABLES + _disabled_sheet(theme))
    app.setPalette(palette_of(theme))


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
