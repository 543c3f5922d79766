"""Runs on real tickets in a real cache: back, restart, resume, checks, outcome and worklog."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.support.commits import commits
from tests.support.recipes import catalog_from_dir
from tests.support.workbench import ASSET, Clock, ticket_on_asset
from workbench.core.errors import BadInput
from workbench.core.models import Status, WorklogKind
from workbench.core.policy import SlaPolicy
from workbench.resources import RESOURCES
from workbench.services.tickets import TicketService
from workbench.store import Store
from workbench.store import trees as tree_store
from workbench.trees.runner import CheckResult, Unreachable
from workbench.trees.service import RunHandle, TreeChanged, TreeService

PRINTER = RESOURCES / "trees" / "printer-not-printing.yaml"
CATALOG = catalog_from_dir(RESOURCES / "recipes")


@dataclass
class FakeExecutor:
    """Answers every recipe with one outcome and remembers what it was asked to run."""

    outcome: CheckResult | Unreachable
    calls: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def run(self, recipe: str, host: str, params: Mapping[str, str]) -> CheckResult | Unreachable:
        self.calls.append((recipe, host, dict(params)))
        return self.outcome


@pytest.fixture
def library(tmp_path: Path) -> Path:
    directory = tmp_path / "trees"
    directory.mkdir()
    shutil.copy(PRINTER, directory)
    return directory


@pytest.fixture
def trees(service: TicketService, library: Path, clock: Clock) -> TreeService:
    return TreeService(service, CATALOG, library, clock)


@pytest.fixture
def ticket_ref(service: TicketService) -> str:
    return ticket_on_asset(
        service, "Cannot print to the 3rd floor printer", "printing", impact=3
    ).ticket.ref


def _to_queue(trees: TreeService, ref: str) -> None:
    """A stored run of the printer tree that waits at the queue check."""
    handle = trees.start("printer-not-printing", ref)
    handle.run.answer("Yes")
    handle.run.answer("yes")  # labels match regardless of case
    handle.run.enter("")  # the default: the ticket's asset hostname
    trees.save(handle)


def test_back_restart_and_the_default_from_the_ticket(trees: TreeService, ticket_ref: str) -> None:
    handle = trees.start("printer-not-printing", ticket_ref)
    run = handle.run
    assert run.node.id == "powered"
    run.answer("Yes")
    run.answer("Yes")
    assert run.node.id == "hostname" and run.default == ASSET.hostname
    run.back()
    assert run.node.id == "others" and len(run.steps) == 1
    run.answer("No")
    assert run.node.id == "hardware" and run.finished
    run.restart()
    assert run.node.id == "powered" and run.steps == []
    with pytest.raises(BadInput, match="nothing to go back to"):
        run.back()
    with pytest.raises(BadInput, match="'Maybe' is not an answer to 'powered'"):
        run.answer("Maybe")


def test_input_refused_with_the_pattern_description(trees: TreeService, ticket_ref: str) -> None:
    run = trees.start("printer-not-printing", ticket_ref).run
    run.answer("Yes")
    run.answer("Yes")
    with pytest.raises(BadInput, match="refused for 'hostname': a hostname such as OLY-ACC-LT0421"):
        run.enter("bad host; rm -rf /")
    assert run.node.id == "hostname" and len(run.steps) == 2


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (CheckResult(0, "Name  Status\nHP-3F  Error, Paused\n"), "clear"),
        (CheckResult(0, "Name  Status\nHP-3F  Normal\n"), "test-page"),
        (CheckResult(5, "", "Access is denied."), "to-tier2"),
    ],
)
def test_check_branches_on_exit_code_and_output(
    trees: TreeService, ticket_ref: str, result: CheckResult, expected: str
) -> None:
    _to_queue(trees, ticket_ref)
    handle = trees.start("printer-not-printing", ticket_ref)
    executor = FakeExecutor(result)
    step = handle.run.run_check(executor)
    assert executor.calls == [("windows.print-queue-status", ASSET.hostname, {})]
    assert step is not None and handle.run.node.id == expected
    assert step.excerpt and (result.stdout.strip() or result.stderr.strip()) in step.excerpt


def test_unreachable_host_branch_picked_by_hand(trees: TreeService, ticket_ref: str) -> None:
    _to_queue(trees, ticket_ref)
    handle = trees.start("printer-not-printing", ticket_ref)
    assert handle.run.run_check(FakeExecutor(Unreachable("connection timed out"))) is None
    assert handle.run.pending is not None and handle.run.node.id == "queue"
    with pytest.raises(BadInput, match="not a branch of 'queue'"):
        handle.run.pick_branch("done")
    handle.run.pick_branch("clear")
    assert "(not run: connection timed out; answered by hand)" in handle.run.transcript()
    assert "→ Jobs stuck, printer paused or offline, or spooler stopped (picked by hand)" in (
        handle.run.transcript()
    )


def test_resume_after_reopening_the_cache(
    store: Store, data_dir: Path, policy: SlaPolicy, clock: Clock, library: Path, ticket_ref: str
) -> None:
    first = TicketService(store, policy, "ana.lopez", clock)
    _to_queue(TreeService(first, CATALOG, library, clock), ticket_ref)
    store.close()
    reopened = Store.open(data_dir)
    try:
        tickets = TicketService(reopened, policy, "ana.lopez", clock)
        handle = TreeService(tickets, CATALOG, library, clock).start(
            "printer-not-printing", ticket_ref
        )
        assert handle.resumed and handle.run.node.id == "queue"
        assert handle.run.variables["host"] == ASSET.hostname
        handle.run.back()
        assert handle.run.node.id == "hostname"
    finally:
        reopened.close()


def test_changed_tree_says_so_and_restarts(
    trees: TreeService, library: Path, ticket_ref: str, service: TicketService, clock: Clock
) -> None:
    _to_queue(trees, ticket_ref)
    path = library / PRINTER.name
    path.write_text(path.read_text().replace("version: 2", "version: 3"))
    changed = TreeService(service, CATALOG, library, clock)
    with pytest.raises(TreeChanged, match=r"changed since this run started .*version 2 → 3"):
        changed.start("printer-not-printing", ticket_ref)
    handle = changed.start("printer-not-printing", ticket_ref, restart=True)
    assert not handle.resumed and handle.run.node.id == "powered"
    changed.save(handle)
    with service.store.read() as db:
        runs = tree_store.tree_runs_of_ticket(db, service.detail(ticket_ref).ticket.id)
    assert [(r.tree_version, r.status) for r in runs] == [(2, "abandoned"), (3, "open")]


def test_resolve_applies_and_logs_transcript_and_time(
    trees: TreeService, ticket_ref: str, service: TicketService, clock: Clock
) -> None:
    handle = trees.start("printer-not-printing", ticket_ref)
    run = handle.run
    run.answer("Yes")
    run.answer("Yes")
    clock.advance(minutes=3)
    run.enter("OLY-ACC-LT0421")
    run.run_check(FakeExecutor(CheckResult(0, "HP-3F  Paused")))
    trees.save(handle)
    clock.advance(minutes=4)
    run.acknowledge(FakeExecutor(CheckResult(0, "3 jobs removed; spooler restarted")))
    run.answer("Yes")
    proposal = run.proposal
    assert proposal is not None and "OLY-ACC-LT0421" in proposal.text
    detail = trees.accept(handle)
    assert detail.ticket.status is Status.RESOLVED
    assert detail.ticket.resolution == proposal.text
    (entry,) = [w for w in detail.worklog if w.kind is WorklogKind.TREE_TRANSCRIPT]
    assert entry.minutes == 7
    assert "HP-3F  Paused" in entry.text and "3 jobs removed" in entry.text
    assert "Outcome: resolve" in entry.text
    with service.store.read() as db:
        kinds = [(op.entity, op.op) for op in db.outbox()]
    assert ("tree_run", "insert") in kinds and ("tree_run", "update") in kinds
    with pytest.raises(BadInput, match="no longer open"):
        trees.accept(handle)


def test_escalate_moves_the_ticket_with_the_facts(trees: TreeService, ticket_ref: str) -> None:
    handle = trees.start("printer-not-printing", ticket_ref)
    handle.run.answer("No, it is off")
    handle.run.acknowledge()
    handle.run.answer("No, an error or jam")
    handle.run.answer("No")
    detail = trees.accept(handle)
    assert detail.ticket.tier == 2
    reasons = [w.text for w in detail.worklog if w.kind is WorklogKind.STATUS_CHANGE]
    assert any("Printer hardware fault suspected" in r and "→ No, it is off" in r for r in reasons)


def test_accept_before_a_terminal_is_refused(trees: TreeService, ticket_ref: str) -> None:
    handle = trees.start("printer-not-printing", ticket_ref)
    with pytest.raises(BadInput, match="not at a resolve or escalate node"):
        trees.accept(handle)
    assert service_status(trees, ticket_ref) is Status.NEW


def service_status(trees: TreeService, ref: str) -> Status:
    return trees.tickets.detail(ref).ticket.status


def test_branches_on_the_recipe_documented_output(trees: TreeService, ticket_ref: str) -> None:
    """The shipped recipe's own sample output (a printer in Error) leads to clearing it."""
    recipe = yaml.safe_load((RESOURCES / "recipes" / "windows.print-queue-status.yaml").read_text())
    sample = recipe["expected_output"].split("Exit 0.")[0]
    _to_queue(trees, ticket_ref)
    handle = trees.start("printer-not-printing", ticket_ref)
    handle.run.run_check(FakeExecutor(CheckResult(0, sample)))
    assert handle.run.node.id == "clear"
    healthy = sample.replace("Error", "Normal").replace("Error, Printing", "Printing")
    handle.run.back()
    handle.run.run_check(FakeExecutor(CheckResult(0, healthy)))
    assert handle.run.node.id == "test-page"


def test_goto_continues_in_the_other_tree_and_back_returns(
    service: TicketService, library: Path, clock: Clock, ticket_ref: str
) -> None:
    for name in ("remote-connection.yaml", "no-network.yaml", "password-reset.yaml"):
        shutil.copy(RESOURCES / "trees" / name, library)
    trees = TreeService(service, CATALOG, library, clock)
    handle = trees.start("remote-connection", ticket_ref)
    handle.run.answer("VPN")
    handle.run.answer("No")  # no internet either: continue in the no-network tree
    assert (handle.run.current_tree.id, handle.run.node.id) == ("no-network", "scope")
    trees.save(handle)
    resumed = trees.start("remote-connection", ticket_ref)
    assert (resumed.run.current_tree.id, resumed.run.node.id) == ("no-network", "scope")
    resumed.run.back()  # undoes the answer and the goto it led to
    assert (resumed.run.current_tree.id, resumed.run.node.id) == ("remote-connection", "internet")
    resumed.run.answer("No")
    resumed.run.answer("Several people")
    proposal = resumed.run.proposal
    assert proposal is not None and proposal.tier == 2 and "Olympia HQ" in proposal.text
    # The tree it went into lost that node: resuming says so instead of failing.
    trees.save(resumed)
    path = library / "no-network.yaml"
    path.write_text(path.read_text().replace("outage", "site-outage"))
    changed = TreeService(service, CATALOG, library, clock)
    with pytest.raises(TreeChanged, match="'no-network' changed since this run went through it"):
        changed.start("remote-connection", ticket_ref)


def test_time_spent_counts_idle_gaps_up_to_an_hour(
    trees: TreeService, ticket_ref: str, clock: Clock
) -> None:
    run = trees.start("printer-not-printing", ticket_ref).run
    clock.advance(minutes=2)
    run.answer("Yes")
    clock.advance(hours=20)  # left overnight, resumed in the morning
    run.answer("No")
    assert run.minutes() == 62


def _to_escalation(trees: TreeService, ref: str) -> RunHandle:
    handle = trees.start("printer-not-printing", ref)
    handle.run.answer("No, it is off")
    handle.run.acknowledge()
    handle.run.answer("No, an error or jam")
    handle.run.answer("No")
    return handle


def test_accept_commits_once(trees: TreeService, ticket_ref: str, service: TicketService) -> None:
    """Escalate, transcript and run state are one transaction (one user action)."""
    handle = _to_escalation(trees, ticket_ref)
    with commits(service.store) as seen:
        detail = trees.accept(handle)
    assert len(seen) == 1
    assert detail.ticket.tier == 2
    assert WorklogKind.TREE_TRANSCRIPT in [w.kind for w in detail.worklog]


def test_a_failure_after_the_escalation_leaves_the_ticket_as_it_was(
    trees: TreeService, ticket_ref: str, service: TicketService, monkeypatch: pytest.MonkeyPatch
) -> None:
    handle = _to_escalation(trees, ticket_ref)
    before, pending = service.detail(ticket_ref), len(_outbox(service))

    def broken_store(*_args: object) -> None:
        raise OSError("the run state could not be written")

    monkeypatch.setattr(trees, "_persist", broken_store)
    with pytest.raises(OSError, match="could not be written"):
        trees.accept(handle)
    after = service.detail(ticket_ref)
    assert (after.ticket, after.worklog) == (before.ticket, before.worklog)
    assert len(_outbox(service)) == pending


def _outbox(service: TicketService) -> list[object]:
    with service.store.read() as db:
        return list(db.outbox())
