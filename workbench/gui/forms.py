"""Qt Designer forms (`ui/*.ui`, DESIGN.md §2), loaded by this one helper.

A form is a plain QWidget with named children; the dialog that shows it adds the buttons and
the behaviour and finds the fields with `field(form, QLineEdit, "login")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QFile, QIODevice, QObject
from PySide6.QtUiTools import QUiLoader
from PySide6.QtWidgets import QWidget

# The forms sit beside the package in the source tree (an editable install runs from it).
UI_DIR = Path(__file__).resolve().parents[2] / "ui"

W = TypeVar("W", bound=QObject)


class FormError(RuntimeError):
    """A form is missing or broken: a bug of the installation, not of the user."""


def load_form(name: str, parent: QWidget | None = None) -> QWidget:
    """The widget of `ui/<name>.ui`, a child of `parent`."""
    path = UI_DIR / f"{name}.ui"
    device = QFile(str(path))
    if not device.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FormError(f"cannot read the form {path}")
    try:
        loader = QUiLoader()
        form = loader.load(device, parent)
    finally:
        device.close()
    if form is None:
        raise FormError(f"cannot load the form {path}: {loader.errorString()}")
    return form


def field(form: QWidget, kind: type[W], name: str) -> W:
    """The child `name` of a loaded form, which must be a `kind`."""
    found = form.findChild(kind, name)
    if found is None:
        raise FormError(f"the form {form.objectName()} has no {kind.__name__} {name!r}")
    return found
