"""The light and dark themes meet WCAG AA: every text role reads at 4.5:1 on its backgrounds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from workbench.gui import theme

Role, Group = QPalette.ColorRole, QPalette.ColorGroup
BACKGROUNDS = (Role.Window, Role.Base, Role.AlternateBase, Role.Button)
TEXT_ROLES = (
    (Group.Active, Role.WindowText, BACKGROUNDS),
    (Group.Active, Role.Text, BACKGROUNDS),
    (Group.Active, Role.ButtonText, BACKGROUNDS),
    (Group.Active, Role.HighlightedText, (Role.Highlight,)),
    (Group.Active, Role.Link, BACKGROUNDS),
    (Group.Active, Role.LinkVisited, BACKGROUNDS),
    (Group.Active, Role.PlaceholderText, (Role.Base,)),
    (Group.Disabled, Role.Text, BACKGROUNDS),
    (Group.Disabled, Role.WindowText, BACKGROUNDS),
    (Group.Disabled, Role.ButtonText, BACKGROUNDS),
)
AA = 4.5


def luminance(colour: QColor) -> float:
    """WCAG 2.x relative luminance of an opaque sRGB colour."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(colour.redF())
        + 0.7152 * linear(colour.greenF())
        + 0.0722 * linear(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_matches_wcag() -> None:
    assert contrast(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast(QColor("#777777"), QColor("#ffffff")) == pytest.approx(4.48, abs=0.01)


@pytest.fixture
def app(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    theme.apply(qapp, "system", theme.DEFAULT_FONT_SIZE)  # the other tests run unthemed


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_text_role_of_the_theme_meets_aa(app: QApplication, name: str) -> None:
    theme.apply(app, name, theme.DEFAULT_FONT_SIZE)
    palette = app.palette()  # what the application really uses once the theme is applied
    failures = []
    for group, role, backgrounds in TEXT_ROLES:
        text = palette.color(group, role)
        assert text.alpha() == 255, f"{role.name} is translucent"
        for background in backgrounds:
            ratio = contrast(text, palette.color(Group.Active, background))
            if ratio < AA:
                failures.append(f"{group.name} {role.name} on {background.name}: {ratio:.2f}")
    assert not failures, failures
    # The sheet's own disabled colour (it overrides qt-material's 20-40 % opacity) is that one.
    assert f"color: {theme.THEME_COLOURS[name]['disabled']}" in app.styleSheet()


def test_system_links_are_readable_on_a_dark_desktop(app: QApplication) -> None:
    theme.apply(app, "system", theme.DEFAULT_FONT_SIZE)  # keeps the platform's palette
    platform = app.property("workbench_system_palette")
    dark = QPalette(QColor("#202020"))  # a platform's dark palette with the light link blue
    dark.setColor(Role.Link, QColor("#0000ff"))
    app.setProperty("workbench_system_palette", dark)
    theme.apply(app, "system", theme.DEFAULT_FONT_SIZE)
    palette = app.palette()
    assert contrast(palette.color(Role.Link), palette.color(Role.Window)) >= AA
    app.setProperty("workbench_system_palette", platform)
