"""The Imports tab: requesters, assets or sites from a CSV file (admins), as `central import
KIND FILE.csv [--map …] [--dry-run]`. Check first (a dry run: the counts and every refused
line, nothing written); Import only after a check that refused nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.imports import ImportReport, Refusal
from workbench.gui.admin.central_tab import CentralTab, table_of
from workbench.gui.admin.models import RefusalTableModel
from workbench.gui.worker import Lane
from workbench.services.admin import (
    IMPORT_KINDS,
    CentralAdmin,
    FileProblems,
    parse_column_mapping,
)

_LOCATED = re.compile(r"^.*?:(\d+): (.*)$")  # FILE:LINE: reason


def _for_the_window(text: str) -> str:
    """The reading rules name the command line's --map; here it is the Column mapping."""
    return text.replace("--map ", "Column mapping ")


def _counts(report: ImportReport) -> str:
    said = f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged"
    if report.deactivated:
        said += f", {report.deactivated} made inactive"
    return said


class ImportsTab(CentralTab):
    """Choose a kind and a file, Check, then Import."""

    def __init__(self, admin: CentralAdmin, lane: Lane, parent: QWidget | None = None):
        super().__init__(admin, lane, parent)
        self._checked: tuple[str, str, str] | None = None  # what a clean check was of
        self.kind = QComboBox()
        for kind, label in IMPORT_KINDS.items():
            self.kind.addItem(label, kind)
        self.file = QLineEdit()
        self.file.setPlaceholderText("A CSV export (GLPI, Snipe-IT or a spreadsheet)")
        self.choose_button = QPushButton("C&hoose…")
        self.mapping = QLineEdit()
        self.mapping.setPlaceholderText("e.g. Comments=timezone  (COLUMN=FIELD, comma-separated)")
        self.mapping.setToolTip(
            "As the command line's --map: fill FIELD from the file's COLUMN; COLUMN= leaves "
            "a column out. Columns are otherwise recognised by their names (README)."
        )
        self.check_button = QPushButton("&Check")
        self.check_button.setToolTip("Read the file and compare it with the central: no change")
        self.import_button = QPushButton("&Import")
        self.import_button.setToolTip("Write the file's rows (after a check that refused none)")
        self.result = QLabel("Choose what to import and its file, then Check.")
        self.result.setWordWrap(True)
        self.refusals = RefusalTableModel(self)
        self.refusal_table = table_of(self.refusals, 1, wrap=True)
        self.refusal_table.hide()  # until a file has refused lines

        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.choose_button)
        file_label = QLabel("&File")
        file_label.setBuddy(self.file)
        form = QFormLayout()
        form.addRow("&What", self.kind)
        form.addRow(file_label, file_row)
        form.addRow("Column &mapping", self.mapping)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addWidget(
            self.note(
                "Admins only. Rows are matched by their natural key (requesters by e-mail, "
                "sites by name, assets by asset tag, else serial), all or nothing: one refused "
                "line and nothing is imported. Import sites first, then requesters, then assets."
            )
        )
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.result)
        column.addWidget(self.problem)
        column.addWidget(self.refusal_table, 1)
        column.addStretch(0)

        self.choose_button.clicked.connect(self.choose_file)
        self.check_button.clicked.connect(self.check)
        self.import_button.clicked.connect(self.run_import)
        self.kind.currentIndexChanged.connect(lambda _index: self.update_buttons())
        self.file.textChanged.connect(lambda _text: self.update_buttons())
        self.mapping.textChanged.connect(lambda _text: self.update_buttons())
        self.update_buttons()

    # -- input -----------------------------------------------------------------------------
    def choose_file(self) -> QFileDialog:
        chooser = QFileDialog(self, "Choose a CSV file to import")
        chooser.setFileMode(QFileDialog.FileMode.ExistingFile)
        chooser.setNameFilters(["CSV files (*.csv *.txt)", "All files (*)"])
        if self.file.text().strip():
            chooser.setDirectory(str(Path(self.file.text().strip()).parent))
        chooser.fileSelected.connect(self.set_file)
        chooser.finished.connect(lambda _result: chooser.deleteLater())
        chooser.open()
        return chooser

    def set_file(self, path: str | Path) -> None:
        self.file.setText(str(path))

    def set_kind(self, kind: str) -> None:
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def _inputs(self) -> tuple[str, str, str]:
        return str(self.kind.currentData()), self.file.text().strip(), self.mapping.text().strip()

    def update_buttons(self) -> None:
        ready = not self.busy and bool(self.file.text().strip())
        self.check_button.setEnabled(ready)
        self.import_button.setEnabled(ready and self._checked == self._inputs())
        self.choose_button.setEnabled(not self.busy)

    # -- the central -----------------------------------------------------------------------
    def check(self) -> None:
        self._send(dry_run=True)

    def run_import(self) -> None:
        if self._checked == self._inputs():
            self._send(dry_run=False)

    def _send(self, *, dry_run: bool) -> None:
        inputs = kind, file, mapping_text = self._inputs()
        self._checked = None
        self._show_refusals(())
        admin, path = self.admin, Path(file)
        self.result.setText(f"Checking {path.name}…" if dry_run else f"Importing {path.name}…")

        def work() -> ImportReport:
            mappings = parse_column_mapping(mapping_text)
            return admin.import_csv(kind, path, mappings, dry_run=dry_run)

        self.ask(work, lambda report: self._reported(report, path.name, inputs))

    def _reported(self, report: ImportReport, name: str, inputs: tuple[str, str, str]) -> None:
        what = IMPORT_KINDS.get(report.kind, report.kind).lower()
        self._show_refusals(report.refused)
        count = len(report.refused)
        if report.refused:
            self.result.setText(
                f"Nothing imported from {name}: {_counts(report)}, {count} refused. Correct "
                f"the refused line{'s' if count != 1 else ''} below and check again."
            )
        elif report.dry_run:
            self._checked = inputs
            self.result.setText(
                f"Checked {name}: {_counts(report)}, 0 refused. Nothing was written; "
                f"Import writes the {what}."
            )
        else:
            said = f"Imported {what} from {name}: {_counts(report)}."
            self.result.setText(f"{said} Every cache gets them at its next sync.")
            self.changed.emit(said)

    def _show_refusals(self, refused: Sequence[Refusal]) -> None:
        self.refusals.set_refusals(refused)
        self.refusal_table.setVisible(bool(refused))
        self.refusal_table.resizeRowsToContents()

    def refused(self, error: Exception) -> None:
        if isinstance(error, FileProblems):
            self.result.setText("Nothing imported: the file cannot be read as it is.")
            self.say_problem(_for_the_window(error.summary[:1].upper() + error.summary[1:]))
            self._show_refusals(
                [
                    Refusal(int(m.group(1)), _for_the_window(m.group(2)))
                    if (m := _LOCATED.match(line))
                    else Refusal(0, _for_the_window(line))
                    for line in error.lines
                ]
            )  # fmt: skip
            return
        self.result.setText("Nothing imported.")
        super().refused(error)
