"""The troubleshooting-tree pane: walk a shipped tree by clicking, accept, and the diagram."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from tests.support.commits import commits
from tests.support.recipes import catalog_from_dir
from tests.support.sshd import SshServer
from tests.support.trees import HEALTH_TREE
from tests.support.workbench import ASSET, Clock, ticket_on_asset
from workbench.core.models import Status, WorklogKind
from workbench.gui import tree_pane as tree_pane_module
from workbench.gui.detail import DetailPane
from workbench.gui.tree_diagram import DiagramDialog
from workbench.gui.tree_pane import BY_HAND, TreePane
from workbench.gui.worker import DbWorker
from workbench.remote.ssh import SshAuth, SshTarget
from workbench.resources import RESOURCES
from workbench.services.tickets import TicketService
from workbench.trees.loader import read_tree_file
from workbench.trees.remote_checks import Connect, Connection, no_credentials
from workbench.trees.service import TreeService

CATALOG = catalog_from_dir(RESOURCES / "recipes")
PRINTER = RESOURCES / "trees" / "printer-not-printing.yaml"


@pytest.fixture
def trees(service: TicketService, clock: Clock) -> TreeService:
    return TreeService(service, CATALOG, RESOURCES / "trees", clock)


@pytest.fixture
def ticket_id(service: TicketService) -> str:
    return ticket_on_asset(
        service, "Cannot print to the 3rd floor printer", "printing", impact=3
    ).ticket.id


def open_pane(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    trees: TreeService,
    ticket_id: str,
    connect: Connect = no_credentials,
) -> TreePane:
    detail = DetailPane(service, worker)
    qtbot.addWidget(detail)
    shown = TreePane(service, worker, detail, connect, trees)
    qtbot.addWidget(shown)
    shown.resize(560, 640)
    shown.show()
    detail.load(ticket_id)
    qtbot.waitUntil(lambda: shown.chooser.list.count() > 0)
    return shown


@pytest.fixture
def pane(
    qtbot: QtBot, service: TicketService, worker: DbWorker, trees: TreeService, ticket_id: str
) -> Iterator[TreePane]:
    shown = open_pane(qtbot, service, worker, trees, ticket_id)
    yield shown
    shown.shutdown()


def click(qtbot: QtBot, pane: TreePane, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.step.isEnabled() and pane._worker.pending == 0)


def at(pane: TreePane) -> str:
    return pane.step.view.node.id


def start(qtbot: QtBot, pane: TreePane, tree_id: str = "printer-not-printing") -> None:
    rows = [pane.chooser.list.item(n) for n in range(pane.chooser.list.count())]
    pane.chooser.list.setCurrentItem(
        next(i for i in rows if i.data(Qt.ItemDataRole.UserRole) == tree_id)
    )
    qtbot.mouseClick(pane.chooser.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == 1)


def enter(qtbot: QtBot, pane: TreePane, text: str) -> None:
    assert pane.step.input is not None
    pane.step.input.setText(text)
    click(qtbot, pane, pane.step.buttons["next"])


def test_suggested_trees_come_first(pane: TreePane) -> None:
    texts = [pane.chooser.list.item(n).text() for n in range(pane.chooser.list.count())]
    assert texts[0] == "Suggested for “printing”"
    assert texts[1].startswith("Printer does not print")
    assert texts[2] == "Other trees" and len(texts) == 2 + 10
    assert pane.header.text().endswith("Cannot print to the 3rd floor printer")


def test_walk_back_refusal_by_hand_check_and_accept(
    qtbot: QtBot, pane: TreePane, service: TicketService, ticket_id: str, artifacts: Path
) -> None:
    start(qtbot, pane)
    assert at(pane) == "powered" and pane.step.path.text() == "Path: (start)"
    assert not pane.step.nav["back"].isEnabled()
    click(qtbot, pane, pane.step.buttons["Yes"])
    click(qtbot, pane, pane.step.buttons["Yes"])
    assert at(pane) == "hostname"
    click(qtbot, pane, pane.step.nav["back"])  # undoes "others: Yes"
    assert at(pane) == "others" and pane.step.path.text() == "Path: powered: Yes"
    click(qtbot, pane, pane.step.buttons["Yes"])
    enter(qtbot, pane, "bad host; rm -rf /")
    assert at(pane) == "hostname"
    assert "a hostname such as OLY-ACC-LT0421" in pane.message.text() and pane.message.isVisible()
    enter(qtbot, pane, "")  # the default: the ticket's asset
    assert at(pane) == "queue" and not pane.message.isVisible()
    # No credentials yet: the check is out of reach and the branches are picked by hand.
    click(qtbot, pane, pane.step.buttons["run"])
    qtbot.waitUntil(lambda: "test-page" in pane.step.buttons)
    assert f"no credential profile for {ASSET.hostname}" in pane.step.view.pending
    shown = [label.text() for label in pane.step.controls.findChildren(QLabel)]
    assert f"Not run: no credential profile for {ASSET.hostname}. Pick what you found:" in shown
    # Branches by their labels; the condition stays beside them, smaller.
    assert pane.step.buttons["test-page"].text() == "The queue is clear"
    assert pane.step.buttons["clear"].text().startswith("Jobs stuck, printer paused")
    assert "exit code 0 → test-page" in shown
    qtbot.waitUntil(pane.step.buttons["test-page"].isVisible)
    pane.grab().save(str(artifacts / "tree_pane_step.png"))
    click(qtbot, pane, pane.step.buttons["test-page"])
    click(qtbot, pane, pane.step.buttons["Yes"])
    assert at(pane) == "done" and pane.step.view.proposal is not None
    assert "Accept: resolve the ticket" == pane.step.buttons["accept"].text()
    pane.grab().save(str(artifacts / "tree_pane_proposal.png"))
    with commits(service.store) as seen, qtbot.waitSignal(pane.accepted, timeout=5000):
        qtbot.mouseClick(pane.step.buttons["accept"], Qt.MouseButton.LeftButton)
    assert len(seen) == 1  # resolve, transcript and run state: one transaction
    assert pane.stack.currentIndex() == 0 and "resolved" in pane.message.text()
    detail = service.detail(ticket_id)
    assert detail.ticket.status is Status.RESOLVED
    assert detail.ticket.resolution and ASSET.hostname in detail.ticket.resolution
    (entry,) = [w for w in detail.worklog if w.kind is WorklogKind.TREE_TRANSCRIPT]
    assert "The queue is clear (picked by hand)" in entry.text
    assert f"(not run: no credential profile for {ASSET.hostname}; answered by hand)" in entry.text
    assert "Outcome: resolve" in entry.text


def test_restart_and_resume_after_leaving(qtbot: QtBot, pane: TreePane) -> None:
    start(qtbot, pane)
    click(qtbot, pane, pane.step.buttons["No, it is off"])
    click(qtbot, pane, pane.step.buttons["done"])  # the action, done by hand
    assert at(pane) == "powered" and len(pane.step.view.path) == 2
    click(qtbot, pane, pane.step.nav["restart"])
    assert at(pane) == "powered" and pane.step.view.path == ()
    click(qtbot, pane, pane.step.buttons["No, an error or jam"])
    click(qtbot, pane, pane.step.nav["leave"])  # the run is stored: the list offers it
    qtbot.waitUntil(lambda: "resume the open run (1 steps)" in pane.chooser.list.item(1).text())
    start(qtbot, pane)
    assert at(pane) == "panel" and pane.message.text() == "Resumed the open run of this tree."


def test_a_changed_tree_is_said_and_restarted(
    qtbot: QtBot, pane: TreePane, trees: TreeService, tmp_path: Path
) -> None:
    start(qtbot, pane)
    click(qtbot, pane, pane.step.buttons["Yes"])
    newer = tmp_path / "printer-not-printing.yaml"
    text = PRINTER.read_text("utf-8").replace("version: 2", "version: 3")
    newer.write_text(text.replace("Can other people print", "Can colleagues print"), "utf-8")
    trees.import_files([newer])
    click(qtbot, pane, pane.step.nav["leave"])
    qtbot.waitUntil(lambda: pane.chooser.list.count() > 0)
    start_button = pane.chooser.start_button
    qtbot.mouseClick(start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(pane.restart_new.isVisible)
    assert "changed since this run started" in pane.message.text()
    assert pane.stack.currentIndex() == 0
    qtbot.mouseClick(pane.restart_new, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.stack.currentIndex() == 1)
    assert at(pane) == "powered" and pane.step.view.tree.version == 3
    click(qtbot, pane, pane.step.buttons["Yes"])
    assert pane.step.prompt.text().startswith("Can colleagues print")


def test_diagram_shows_every_node_and_edge(qtbot: QtBot, pane: TreePane, artifacts: Path) -> None:
    tree, _ = read_tree_file(PRINTER, CATALOG)
    assert tree is not None
    pane.show_diagram(tree.id)
    qtbot.waitUntil(lambda: isinstance(pane.diagram, DiagramDialog))
    dialog = pane.diagram
    assert dialog is not None
    qtbot.waitExposed(dialog)
    view = dialog.view
    assert set(view.boxes) == set(tree.nodes)
    labels = [a.label for n in tree.nodes.values() for a in n.answers]
    assert sorted(labels) == sorted(label for label in view.edge_labels if label in labels)
    # Branches read by their labels, cut to fit: "The queue is clear", not "exit 0".
    assert "The queue is clear" in view.edge_labels
    assert "Jobs stuck, printer pause…" in view.edge_labels
    assert not [label for label in view.edge_labels if "exit" in label or "~" in label]
    texts = " ".join(i.toPlainText() for i in view.scene().items() if hasattr(i, "toPlainText"))
    assert [n for n in tree.nodes if n not in texts] == [], texts
    dialog.grab().save(str(artifacts / "tree_diagram.png"))
    dialog.close()


@pytest.mark.services
def test_a_check_runs_on_the_host_and_streams_its_output(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    clock: Clock,
    ticket_id: str,
    sshd_server: SshServer,
    tmp_path: Path,
) -> None:
    library = tmp_path / "trees"
    library.mkdir()
    (library / "linux-health.yaml").write_text(HEALTH_TREE, "utf-8")
    trees = TreeService(service, CATALOG, library, clock)

    def connect(host: str) -> Connection | None:
        target = SshTarget(sshd_server.host, sshd_server.username, sshd_server.port)
        auth = SshAuth(identity=sshd_server.client_key_path)
        fingerprint = sshd_server.host_key_fingerprint  # as if accepted in the console
        return Connection(target, auth, fingerprint) if host == ASSET.hostname else None

    pane = open_pane(qtbot, service, worker, trees, ticket_id, connect)
    try:
        assert BY_HAND not in [label.text() for label in pane.findChildren(QLabel)]
        start(qtbot, pane, "linux-health")
        qtbot.mouseClick(pane.step.buttons["run"], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: at(pane) == "healthy", timeout=30_000)
        streamed = pane.step.output.toPlainText()
        assert streamed.startswith("== uptime") and "== failed services" in streamed
        assert pane.step.view.path == ("diagnose: The diagnostics ran (exit code 0)",)
    finally:
        pane.shutdown()


def test_an_action_out_of_reach_is_done_by_hand_with_the_reason(
    qtbot: QtBot,
    pane: TreePane,
    trees: TreeService,
    service: TicketService,
    ticket_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(tree_pane_module, "confirm", lambda _parent, q: asked.append(q) or True)
    start(qtbot, pane)
    click(qtbot, pane, pane.step.buttons["Yes"])
    click(qtbot, pane, pane.step.buttons["Yes"])
    enter(qtbot, pane, "")
    click(qtbot, pane, pane.step.buttons["run"])
    qtbot.waitUntil(lambda: "clear" in pane.step.buttons)
    click(qtbot, pane, pane.step.buttons["clear"])
    assert at(pane) == "clear"
    qtbot.mouseClick(pane.step.buttons["run"], Qt.MouseButton.LeftButton)  # changes the machine
    qtbot.waitUntil(lambda: "done_by_hand" in pane.step.buttons)
    assert asked == [f"Run windows.clear-print-queue on {ASSET.hostname}?"]
    click(qtbot, pane, pane.step.buttons["done_by_hand"])
    assert at(pane) == "test-page"
    stored = trees.start("printer-not-printing", service.detail(ticket_id).ticket.ref).run
    last = stored.steps[-1]
    assert (last.node, last.answer) == ("clear", "done by hand")
    assert last.note == f"not run: no credential profile for {ASSET.hostname}; answered by hand"


NO_ASSET_TREE = """\
id: look
title: Look at the PC
version: 1
category: network
start: look
nodes:
  look:
    type: check
    text: Reach {{ticket.asset.hostname}} and read its network state
    recipe: windows.diagnostics
    branches:
      - label: "Self-assigned address: no DHCP lease"
        when: {exit_code: 0, stdout_matches: '169\\.254\\.'}
        next: dhcp
      - {label: "A proper address", when: {exit_code: 0}, next: fine}
      - {label: "The check failed", otherwise: true, next: dhcp}
  dhcp:
    type: escalate
    tier: 2
    reason: DHCP on {{ticket.asset.hostname}}
  fine:
    type: resolve
    resolution: "{{ticket.asset.hostname}} is fine"
"""


def test_a_ticket_without_asset_asks_for_the_machine_or_an_answer_by_hand(
    qtbot: QtBot,
    service: TicketService,
    worker: DbWorker,
    clock: Clock,
    tmp_path: Path,
    artifacts: Path,
) -> None:
    library = tmp_path / "trees"
    library.mkdir()
    (library / "look.yaml").write_text(NO_ASSET_TREE, "utf-8")
    trees = TreeService(service, CATALOG, library, clock)
    ticket = service.create(title="No network", category="network", impact=3, urgency=3).ticket
    pane = open_pane(qtbot, service, worker, trees, ticket.id)
    try:
        start(qtbot, pane, "look")
        assert pane.step.prompt.text() == "Reach (no asset) and read its network state"
        shown = [label.text() for label in pane.step.controls.findChildren(QLabel)]
        assert "The ticket has no asset: enter the machine to check, or answer by hand." in shown
        assert "run" not in pane.step.buttons and not [t for t in shown if "no host" in t]
        qtbot.waitUntil(pane.step.buttons["host"].isVisible)
        pane.grab().save(str(artifacts / "tree_pane_no_asset.png"))
        for refused in ("-oProxyCommand=sh", "two words"):
            assert pane.step.input is not None
            pane.step.input.setText(refused)
            click(qtbot, pane, pane.step.buttons["host"])
            assert pane.message.isVisible() and "host" in pane.message.text()
        pane.step.input.setText("OLY-HR-DT7754")
        click(qtbot, pane, pane.step.buttons["host"])
        assert pane.step.view.host == "OLY-HR-DT7754" and "run" in pane.step.buttons
        assert pane.step.prompt.text() == "Reach OLY-HR-DT7754 and read its network state"
        click(qtbot, pane, pane.step.buttons["by_hand"])
        shown = [label.text() for label in pane.step.controls.findChildren(QLabel)]
        assert "Pick what you found:" in shown and not [t for t in shown if "Not run" in t]
        assert [b.text() for b in pane.step.buttons.values()] == [
            "Self-assigned address: no DHCP lease",
            "A proper address",
            "The check failed",  # leads to dhcp too: its own button, its own answer
        ]
        qtbot.waitUntil(pane.step.buttons["fine"].isVisible)
        pane.grab().save(str(artifacts / "tree_pane_by_hand.png"))
        click(qtbot, pane, pane.step.buttons["dhcp:The check failed"])
        assert pane.step.view.path == ("look: The check failed (picked by hand)",)
        click(qtbot, pane, pane.step.nav["back"])
        click(qtbot, pane, pane.step.buttons["by_hand"])
        click(qtbot, pane, pane.step.buttons["fine"])
        proposal = pane.step.view.proposal
        assert proposal is not None and proposal.text == "OLY-HR-DT7754 is fine"
    finally:
        pane.shutdown()
