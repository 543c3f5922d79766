"""The window's panes use the recipe library in effect: shipped recipes plus the cache's, read
on the worker, and read again when a ticket is shown (a sync may have brought some)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from tests.support.recipes import HELLO_ID, HELLO_RECIPE, HELLO_TREE, HELLO_TREE_ID
from tests.support.workbench import Clock, ticket_on_asset
from workbench.gui.docks import default_docks
from workbench.gui.main_window import MainWindow
from workbench.gui.remote_console import RemoteConsole
from workbench.gui.tree_pane import TreePane
from workbench.gui.worker import DbWorker
from workbench.resources import RESOURCES
from workbench.services.recipes import RecipeService, library_for
from workbench.services.tickets import TicketService
from workbench.trees.recipes import catalog_of
from workbench.trees.service import TreeService


def _import(service: TicketService, clock: Clock, folder: Path) -> None:
    """What a sync would bring: the recipe, then a tree whose check names it."""
    recipe, tree = folder / "hello.yaml", folder / "say-hello.yaml"
    recipe.write_text(HELLO_RECIPE, encoding="utf-8")
    tree.write_text(HELLO_TREE, encoding="utf-8")
    RecipeService(service.store, clock=clock).import_files([recipe])
    catalog = catalog_of(library_for(service.store))
    TreeService(service, catalog, RESOURCES / "trees", clock).import_files([tree])


def _recipe_ids(console: RemoteConsole) -> list[str]:
    combo = console.ui.recipe
    return [combo.itemData(n) for n in range(combo.count())]


def _tree_ids(pane: TreePane) -> list[str]:
    items = [pane.chooser.list.item(n) for n in range(pane.chooser.list.count())]
    return [i.data(Qt.ItemDataRole.UserRole) for i in items]


def test_the_panes_take_recipes_that_reach_the_cache_while_the_window_is_open(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    settings: QSettings,
    clock: Clock,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    ticket = ticket_on_asset(service, "Say hello to the machine", "other").ticket
    window = MainWindow(service, worker, settings, docks=default_docks())
    qtbot.addWidget(window)
    window.show()
    window.detail.load(ticket.id)
    console, pane = window.pane("Remote console"), window.pane("Troubleshooting tree")
    assert isinstance(console, RemoteConsole) and isinstance(pane, TreePane)
    console.ui.all_platforms.setChecked(True)
    qtbot.waitUntil(lambda: "linux.diagnostics" in _recipe_ids(console))
    qtbot.waitUntil(lambda: worker.pending == 0 and pane.chooser.list.count() > 0)
    assert HELLO_ID not in _recipe_ids(console) and HELLO_TREE_ID not in _tree_ids(pane)

    _import(service, clock, tmp_path)
    window.detail.load(ticket.id)  # shown again, as after a sync
    qtbot.waitUntil(lambda: HELLO_ID in _recipe_ids(console))
    qtbot.waitUntil(lambda: HELLO_TREE_ID in _tree_ids(pane))
    console.choose_recipe(HELLO_ID)
    assert console.recipe() == library_for(service.store).get(HELLO_ID)

    # The tree validates against the cache's recipe: it starts at its check.
    item = next(
        pane.chooser.list.item(n)
        for n in range(pane.chooser.list.count())
        if pane.chooser.list.item(n).data(Qt.ItemDataRole.UserRole) == HELLO_TREE_ID
    )
    pane.chooser.list.setCurrentItem(item)
    qtbot.mouseClick(pane.chooser.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == 1)
    assert pane.step.view.node.id == "greet" and not pane.message.isVisible()
    console.grab().save(str(artifacts / "remote_console_cache_recipe.png"))
    pane.grab().save(str(artifacts / "tree_pane_cache_recipe.png"))
    pane.shutdown()
