"""The window shows control characters of stored and remote text visibly, as the CLI does."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.cli.test_terminal_escapes import (
    DRIVES_A_TERMINAL,
    HOSTILE,
    HOSTILE_RECIPE,
    HOSTILE_RECIPE_ID,
    HOSTILE_SHOWN,
)
from tests.gui import test_remote_console as console_tests
from workbench.gui.detail import DetailPane
from workbench.gui.ticket_model import TITLE_COLUMN, TicketTableModel
from workbench.gui.tree_step import StepPanel
from workbench.gui.worker import DbWorker
from workbench.services.tickets import TicketService

# The remote console's window on the loopback sshd, as its own tests build it; `library`
# below gives it the recipe whose output is hostile.
bench = console_tests.bench
trusted = console_tests.trusted


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "recipes"
    folder.mkdir()
    (folder / f"{HOSTILE_RECIPE_ID}.yaml").write_text(HOSTILE_RECIPE, "utf-8")
    return folder


def test_list_and_detail_show_a_hostile_ticket_visibly(
    qtbot: QtBot, service: TicketService, worker: DbWorker
) -> None:
    ticket = service.create(title=HOSTILE, category="hardware", impact=3, urgency=2,
                            description=f"Description {HOSTILE}").ticket  # fmt: skip
    service.note(ticket.id, f"Note {HOSTILE}")

    model = TicketTableModel(service, worker)
    model.reload()
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    title = model.index(0, TITLE_COLUMN)
    assert title.data() == HOSTILE_SHOWN
    assert title.data(Qt.ItemDataRole.ToolTipRole) == HOSTILE_SHOWN
    assert model.summary(0).ticket.title == HOSTILE  # the data itself stays as typed

    pane = DetailPane(service, worker)
    qtbot.addWidget(pane)
    pane.show_detail(service.detail(ticket.id))
    text = pane.view.toPlainText()
    assert DRIVES_A_TERMINAL.search(text) is None, text
    for expected in (HOSTILE_SHOWN, f"Description {HOSTILE_SHOWN}", f"Note {HOSTILE_SHOWN}"):
        assert expected in text


def test_tree_step_output_shows_check_output_visibly(qtbot: QtBot) -> None:
    panel = StepPanel(by_hand=False)
    qtbot.addWidget(panel)
    panel.add_line("stdout", "done\x1b[2J\r")
    panel.add_line("stderr", "\u202eoops")
    assert panel.output.toPlainText().splitlines() == ["done^[[2J^M", "[stderr] <U+202E>oops"]


@pytest.mark.services
def test_remote_console_shows_remote_output_visibly(
    qtbot: QtBot, trusted: console_tests.Bench
) -> None:
    console = trusted.console
    console_tests.run(qtbot, console, HOSTILE_RECIPE_ID)
    assert console.ui.banner.property("state") == "ok"
    lines = console_tests.output_lines(console)
    assert sorted(lines) == ["^[[31mred^[[0m", "^[]52;c;aGk=^G^[[2Jdone"]
    assert console.ui.recipe.currentText() == HOSTILE_SHOWN  # the recipe's title
