"""Trees for the CLI and the GUI: the library, validation, import, and runs on tickets.

Trees come from the cache (imported, synced) and from the shipped library in
resources/trees/; a stored tree of the same id wins. A run is stored after every step so it
resumes after a restart of the program, and applying its outcome changes the ticket through
TicketService and writes the transcript with the time spent into the worklog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from workbench.core.errors import BadInput, NotFound, WorkbenchError
from workbench.core.files import UnreadableFile, read_text_file
from workbench.core.labels import plural
from workbench.core.models import TicketDetail, WorklogEntry, WorklogKind
from workbench.services.policy import policy_for
from workbench.services.tickets import TicketService, new_id, utc_now
from workbench.store import Reader, Writer
from workbench.store import trees as tree_store
from workbench.store.documents import Approvals
from workbench.trees.loader import goto_traps, read_tree, read_tree_file, tree_id_of
from workbench.trees.model import NodeType, Problem, Tree
from workbench.trees.recipes import RecipeCatalog
from workbench.trees.runner import Run


class TreeChanged(BadInput):
    """A stored run began on another version of its tree."""


UNAPPROVED = "cache (unapproved: never run)"


@dataclass(frozen=True, slots=True)
class TreeInfo:
    id: str
    title: str
    version: int
    category: str
    origin: str  # "cache" (imported or synced), "library" (shipped) or UNAPPROVED


@dataclass
class RunHandle:
    id: str
    ticket_id: str
    ticket_ref: str
    run: Run
    technician: str
    resumed: bool = False
    stored: bool = False
    replaces: str | None = None  # the open run a restart abandons when this one is stored

    def __post_init__(self) -> None:
        self.stored = self.stored or self.resumed


def ticket_context(detail: TicketDetail) -> dict[str, str]:
    """The ticket fields a template may use (TICKET_FIELDS), empty when the ticket lacks one."""
    t, asset, who, site = detail.ticket, detail.asset, detail.requester, detail.site
    return {
        "ticket.ref": t.ref,
        "ticket.title": t.title,
        "ticket.description": t.description,
        "ticket.category": t.category,
        "ticket.priority": t.priority.value,
        "ticket.asset.tag": asset.tag if asset else "",
        "ticket.asset.serial": asset.serial if asset else "",
        "ticket.asset.hostname": asset.hostname if asset else "",
        "ticket.asset.model": asset.model if asset else "",
        "ticket.asset.os": asset.os if asset else "",
        "ticket.requester.name": who.name if who else "",
        "ticket.requester.email": who.email if who else "",
        "ticket.requester.phone": who.phone if who else "",
        "ticket.requester.department": who.department if who else "",
        "ticket.site.name": site.name if site else "",
    }


class TreeService:
    def __init__(
        self,
        tickets: TicketService,
        catalog: RecipeCatalog,
        library_dir: Path,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.tickets = tickets
        self.store = tickets.store
        self.catalog = catalog
        self.library_dir = library_dir
        self.clock = clock

    def _technician(self) -> str:
        return self.tickets.actor()

    # -- the trees -------------------------------------------------------------------------
    @cached_property
    def _library(self) -> dict[str, Tree]:
        """Shipped trees that validate (a broken one is reported by `tree validate`)."""
        found: dict[str, Tree] = {}
        for path in sorted(self.library_dir.glob("*.yaml")):
            tree, _problems = read_tree_file(path, self.catalog)
            if tree is not None:
                found[tree.id] = tree
        return found

    def _stored(self) -> list[tree_store.StoredTree]:
        with self.store.read() as db:
            return tree_store.stored_trees(db)

    def _approvals(self) -> Approvals:
        with self.store.read() as db:
            return Approvals.of(db)

    def infos(self) -> list[TreeInfo]:
        approvals = self._approvals()
        infos = {
            s.id: TreeInfo(
                s.id,
                s.title,
                s.tree_version,
                s.category,
                "cache" if approvals.approved(s.approved_by) else UNAPPROVED,
            )
            for s in self._stored()
        }
        for tree in self._library.values():
            infos.setdefault(
                tree.id, TreeInfo(tree.id, tree.title, tree.version, tree.category, "library")
            )
        return sorted(infos.values(), key=lambda i: (i.category, i.id))

    def tree(self, tree_id: str) -> Tree:
        with self.store.read() as db:
            stored = tree_store.stored_tree(db, tree_id)
            approvals = Approvals.of(db)
        if stored is not None and not approvals.approved(stored.approved_by):
            if tree_id in self._library:
                return self._library[tree_id]  # the shipped one stays in effect
            raise BadInput(
                f"tree {tree_id!r} was not approved by a lead, so it is never run here; "
                "a lead's import (synced) approves it"
            )
        if stored is not None:
            # Stored trees were validated on import; gotos were checked then.
            tree, problems = read_tree(stored.source, f"<cache:{tree_id}>", self.catalog)
            if tree is None:
                raise BadInput(f"stored tree {tree_id!r} no longer validates: {problems[0]}")
            return tree
        if tree_id in self._library:
            return self._library[tree_id]
        raise NotFound(f"no tree {tree_id!r}; see `workbench tree list`")

    def known_ids(self) -> set[str]:
        return {s.id for s in self._stored()} | set(self._library)

    def _in_effect(self) -> dict[str, Tree]:
        """Every tree a run may continue in now, by id (one that does not read is left out)."""
        found: dict[str, Tree] = {}
        for tree_id in self.known_ids():
            try:
                found[tree_id] = self.tree(tree_id)
            except WorkbenchError:
                continue  # not approved, or no longer valid: a goto cannot continue in it
        return found

    def validate(self, paths: Iterable[Path]) -> tuple[list[Tree], list[Problem]]:
        """Every problem of every file; gotos may name these files' trees or known ones, and
        must lead on to a terminal through them (the files replace the trees of their ids)."""
        paths = list(paths)
        known = self.known_ids()
        for path in paths:
            try:
                found = tree_id_of(read_text_file(path, "the tree"))
            except UnreadableFile:
                continue  # read_tree_file reports it with its position
            if found:
                known.add(found)
        check_category = policy_for(self.store).check_category
        read = [
            (path, *read_tree_file(path, self.catalog, known, check_category)) for path in paths
        ]
        files = {tree.id: str(path) for path, tree, _problems in read if tree is not None}
        trees = [tree for _path, tree, _problems in read if tree is not None]
        traps: list[Problem] = []
        if any(node.type is NodeType.GOTO for tree in trees for node in tree.nodes.values()):
            traps = goto_traps(self._in_effect() | {tree.id: tree for tree in trees}, files)
        problems: list[Problem] = []
        for path, _tree, of_path in read:
            of_file = of_path + [p for p in traps if p.file == str(path)]
            problems.extend(sorted(of_file, key=lambda p: (p.line, p.column)))
        return trees, problems

    def import_files(self, paths: Iterable[Path]) -> list[tuple[Tree, str]]:
        """Validate, then store all trees or none; returns (tree, what happened) pairs."""
        trees, problems = self.validate(paths)
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            count = plural(len(errors), "error")
            raise BadInput(f"nothing imported: {count}, the first: {errors[0]}")
        now = self.clock()
        done: list[tuple[Tree, str]] = []
        self._technician()
        with self.tickets.unit_of_work() as tx:
            approver = Approvals.of(tx).approver()
            for tree in trees:
                before = tree_store.stored_tree(tx, tree.id)
                if before is not None and before.digest == tree.digest:
                    done.append((tree, "unchanged"))
                    continue
                if before is not None and tree.version <= before.tree_version:
                    raise BadInput(
                        f"tree {tree.id!r} version {before.tree_version} is already stored "
                        f"with other content: raise `version` above {before.tree_version}"
                    )
                record = tree_store.StoredTree(
                    tree.id, tree.version, tree.title, tree.category, tree.source, tree.digest,
                    now, approver,
                )  # fmt: skip
                tree_store.save_tree(tx, record)
                done.append((tree, "imported" if before is None else "updated"))
        return done

    # -- runs --------------------------------------------------------------------------------
    def start(self, tree_id: str, ticket_ref: str, restart: bool = False) -> RunHandle:
        """Resume this ticket's open run of the tree, or begin one (`restart`: start over).

        A new run is stored by its first `save` or `accept`, so a start whose first answer
        is refused leaves the cache as it was.
        """
        tree = self.tree(tree_id)
        detail = self.tickets.detail(ticket_ref)
        technician = self._technician()
        run = Run(tree, ticket_context(detail), self.tree, self.clock)
        with self.store.read() as db:
            record = tree_store.open_tree_run(db, detail.ticket.id, tree.id)
        if record is not None and record.tree_digest != tree.digest and not restart:
            raise TreeChanged(
                f"tree {tree.id!r} changed since this run started on "
                f"{record.started_at:%Y-%m-%d %H:%M} (version {record.tree_version} → "
                f"{tree.version}); restart the run (--restart) to follow the new version"
            )
        ref, ticket_id = detail.ticket.ref, detail.ticket.id
        if record is not None and not restart:
            run.load_state(record.state)
            self._check_resumable(run)
            return RunHandle(record.id, ticket_id, ref, run, technician, resumed=True)
        replaces = record.id if record is not None else None
        return RunHandle(new_id(), ticket_id, ref, run, technician, replaces=replaces)

    def _check_resumable(self, run: Run) -> None:
        """A tree the run continued in (goto) may have changed since: its nodes must exist."""
        for step in run.steps:
            try:
                tree = self.tree(step.next_tree)
            except NotFound:
                tree = None
            if tree is None or step.next_node not in tree.nodes:
                raise TreeChanged(
                    f"tree {step.next_tree!r} changed since this run went through it (no node "
                    f"{step.next_node!r}); restart the run (--restart)"
                )

    @staticmethod
    def _require_open(db: Reader, handle: RunHandle) -> None:
        record = tree_store.tree_run(db, handle.id)
        if record is None or record.status != "open":
            state = record.status if record else "gone"
            raise BadInput(f"tree run {handle.id} is no longer open ({state})")

    def _persist(self, tx: Writer, handle: RunHandle, status: str) -> None:
        run, now = handle.run, self.clock()
        if handle.stored:
            self._require_open(tx, handle)
            tree_store.update_tree_run(tx, handle.id, status, run.state_json(), now)
            return
        if handle.replaces is not None:
            old = tree_store.tree_run(tx, handle.replaces)
            if old is not None and old.status == "open":
                tree_store.update_tree_run(tx, old.id, "abandoned", old.state, now)
        tree = run.tree
        tree_store.insert_tree_run(
            tx,
            tree_store.TreeRunRecord(
                handle.id,
                tree.id,
                tree.version,
                tree.digest,
                handle.ticket_id,
                handle.technician,
                status,
                run.state_json(),
                run.started_at,
                now,
            ),
        )
        handle.stored = True

    def save(self, handle: RunHandle) -> None:
        """Store the run's state so it resumes after a restart of the program."""
        with self.tickets.unit_of_work() as tx:
            self._persist(tx, handle, "open")

    def accept(self, handle: RunHandle) -> TicketDetail:
        """Apply the terminal's proposal to the ticket; log the transcript and time spent."""
        run = handle.run
        proposal = run.proposal
        if proposal is None:
            raise BadInput(f"the run is at {run.node.id!r}, not at a resolve or escalate node")
        with self.tickets.unit_of_work() as tx:  # the ticket, the transcript, the run: one commit
            if handle.stored:  # checked first: a run applied already is the problem to name
                self._require_open(tx, handle)
            if proposal.kind is NodeType.RESOLVE:
                self.tickets.resolve(handle.ticket_ref, proposal.text)
            else:
                facts = "; ".join(proposal.facts)
                tier = f" (the tree asks for tier {proposal.tier})" if proposal.tier else ""
                self.tickets.escalate(
                    handle.ticket_ref, f"{proposal.text}{tier}. Facts: {facts or 'none'}"
                )
            now = self.clock()
            tx.append_worklog(
                WorklogEntry(
                    new_id(),
                    handle.ticket_id,
                    WorklogKind.TREE_TRANSCRIPT,
                    self._technician(),
                    run.transcript(),
                    run.minutes(now),
                    now,
                )
            )
            self._persist(tx, handle, "applied")
            return tx.detail(handle.ticket_id)
