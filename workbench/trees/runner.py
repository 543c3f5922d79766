"""Walking a tree: a state machine with back, restart and a transcript; no Qt, no storage.

The state is the list of steps taken (plus a check waiting for a hand-picked branch): the
current node, the variables and the transcript are all derived from it, so back is "drop the
last step" and resume is "load the steps".
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from workbench.core import patterns
from workbench.core.errors import BadInput
from workbench.remote.profiles import check_host
from workbench.trees.loader import TEMPLATE
from workbench.trees.model import Branch, Node, NodeType, Tree

EXCERPT_CHARS = 600
IDLE_CAP_SECONDS = 60 * 60
HOSTNAME = "ticket.asset.hostname"
NO_HOST = "no host: the ticket has no asset and none was given"
BY_HAND = "answered by hand"


@dataclass(frozen=True, slots=True)
class CheckResult:
    exit_code: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str


class CheckExecutor(Protocol):
    def run(self, recipe: str, host: str, params: Mapping[str, str]) -> CheckResult | Unreachable:
        """Run a recipe on a host (a check's diagnostic or an action's change)."""
        ...


@dataclass(frozen=True, slots=True)
class Step:
    tree: str
    node: str
    kind: str
    prompt: str
    answer: str
    next_tree: str
    next_node: str
    at: datetime
    excerpt: str = ""
    note: str = ""  # e.g. why the branch was picked by hand
    var: str | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """A check or action whose host could not be reached: the technician decides by hand."""

    tree: str
    node: str
    reason: str


@dataclass(frozen=True, slots=True)
class Proposal:
    kind: NodeType  # resolve or escalate
    text: str  # the resolution, or the reason for escalating
    tier: int | None
    facts: tuple[str, ...]


def excerpt(result: CheckResult) -> str:
    text = result.stdout.strip()
    if result.stderr.strip():
        text += ("\n" if text else "") + "stderr: " + result.stderr.strip()
    return text if len(text) <= EXCERPT_CHARS else "…" + text[-EXCERPT_CHARS:]


def matches(branch: Branch, result: CheckResult, unchecked: list[str]) -> bool:
    """Whether the branch is taken; why a pattern could not be decided goes to `unchecked`."""
    if branch.otherwise:
        return True
    return (
        (branch.exit_code is None or branch.exit_code == result.exit_code)
        and _output_matches("stdout", branch.stdout_matches, result.stdout, unchecked)
        and _output_matches("stderr", branch.stderr_matches, result.stderr, unchecked)
    )


def _output_matches(stream: str, pattern: str | None, output: str, unchecked: list[str]) -> bool:
    # The output comes from the host, which may be hostile: a match that cannot be decided in
    # time does not take the branch. (The pattern itself was checked when the tree was read.)
    if pattern is None:
        return True
    try:
        return patterns.is_found(pattern, output)
    except patterns.MatchTimeout as exc:
        unchecked.append(f"{stream}_matches {pattern!r} not taken: the {stream} {exc}")
        return False


class Run:
    """One walk through a tree (and the trees it continues in) for one ticket."""

    def __init__(
        self,
        tree: Tree,
        context: Mapping[str, str],
        trees: Callable[[str], Tree],
        clock: Callable[[], datetime],
        started_at: datetime | None = None,
    ) -> None:
        self.tree = tree
        self.context = dict(context)
        self._trees = trees
        self._clock = clock
        self.started_at = started_at or clock()
        self.steps: list[Step] = []
        self.pending: Pending | None = None
        self.host = ""  # the machine to check, given by the technician: the ticket has no asset
        self._follow_goto()  # a tree may start by continuing in another

    # -- where we are ----------------------------------------------------------------------
    @property
    def current_tree(self) -> Tree:
        if not self.steps or self.steps[-1].next_tree == self.tree.id:
            return self.tree
        return self._trees(self.steps[-1].next_tree)

    @property
    def node(self) -> Node:
        tree = self.current_tree
        return tree.nodes[self.steps[-1].next_node if self.steps else tree.start]

    @property
    def variables(self) -> dict[str, str]:
        values = dict(self.context)
        if self.host and not values.get(HOSTNAME):
            values[HOSTNAME] = self.host
        for step in self.steps:
            if step.var:
                values[step.var] = step.answer
        return values

    def render(self, text: str | None, shown: bool = False) -> str:
        """`text` with its templates filled; `shown` (text for people): a field the ticket
        lacks reads "(no asset)" or "(none)" instead of leaving a gap."""
        values = self.variables

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            found = values.get(name, "")
            if found or not shown or not name.startswith("ticket."):
                return found
            return "(no asset)" if name.startswith("ticket.asset.") else "(none)"

        return TEMPLATE.sub(value, text or "")

    @property
    def prompt(self) -> str:
        return self.render(self.node.text, shown=True)

    @property
    def target_host(self) -> str:
        """The host the current node's recipe runs on; empty when the ticket has no asset."""
        return self._target(self.node)[0] if self.node.recipe else ""

    def set_host(self, host: str) -> None:
        """The machine the checks run on when the ticket has no asset (asked of the technician)."""
        asset = self.context.get(HOSTNAME, "")
        if asset:
            raise BadInput(f"the ticket's asset {asset} is the host; it needs no other")
        self.host = check_host(host)

    @property
    def finished(self) -> bool:
        return self.node.is_terminal

    def _expect(self, *kinds: NodeType) -> Node:
        node = self.node
        if node.type not in kinds:
            wanted = " or ".join(k.value for k in kinds)
            raise BadInput(f"the run is at {node.type.value} node {node.id!r}, not at a {wanted}")
        if self.pending is not None and node.type is not NodeType.CHECK:
            raise BadInput(f"node {node.id!r} waits for a result entered by hand")
        return node

    def _step(self, node: Node, answer: str, target: str, **extra: Any) -> Step:
        step = Step(
            tree=self.current_tree.id,
            node=node.id,
            kind=node.type.value,
            prompt=self.render(node.text, shown=True),
            answer=answer,
            next_tree=self.current_tree.id,
            next_node=target,
            at=self._clock(),
            **extra,
        )
        before = len(self.steps)
        self.steps.append(step)
        try:
            self._follow_goto()
        except BadInput:
            del self.steps[before:]
            raise
        self.pending = None
        return step

    def _follow_goto(self) -> None:
        """Continue through gotos (a tree may start with one) until a node that asks something."""
        passed: list[str] = []
        while (node := self.node).type is NodeType.GOTO and node.tree:
            passed.append(self.current_tree.id)
            if node.tree in passed:
                round_trip = " → ".join([*passed, node.tree])
                raise BadInput(
                    f"the trees go round without a step ({round_trip}): "
                    "fix them (see `workbench tree validate`)"
                )
            target = self._trees(node.tree)
            self.steps.append(
                Step(
                    tree=self.current_tree.id,
                    node=node.id,
                    kind=NodeType.GOTO.value,
                    prompt=f"continue in tree {target.id!r} ({target.title})",
                    answer="",
                    next_tree=target.id,
                    next_node=target.start,
                    at=self._clock(),
                )
            )

    # -- answering -------------------------------------------------------------------------
    def answer(self, label: str) -> Step:
        node = self._expect(NodeType.QUESTION)
        for answer in node.answers:
            if answer.label.casefold() == label.strip().casefold():
                return self._step(node, answer.label, answer.next)
        labels = ", ".join(repr(a.label) for a in node.answers)
        raise BadInput(f"{label!r} is not an answer to {node.id!r}; choose one of {labels}")

    @property
    def default(self) -> str:
        return self.render(self.node.default).strip()

    def enter(self, value: str | None) -> Step:
        node = self._expect(NodeType.INPUT)
        text = (value or "").strip() or self.default
        if not text:
            raise BadInput(f"{node.id!r} needs a value: {self.prompt}")
        try:
            refused = node.pattern is not None and not patterns.is_found(node.pattern, text)
        except patterns.MatchTimeout as exc:
            raise BadInput(f"{text!r} is refused for {node.id!r}: the answer {exc}") from None
        if refused:
            rule = node.pattern_description or f"it must match the pattern {node.pattern}"
            raise BadInput(f"{text!r} is refused for {node.id!r}: {rule}")
        assert node.next is not None  # noqa: S101  (the validator requires it)
        return self._step(node, text, node.next, var=node.var)

    def _target(self, node: Node) -> tuple[str, dict[str, str]]:
        host = self.render(node.host or "{{ticket.asset.hostname}}").strip()
        return host, {name: self.render(value) for name, value in node.params}

    def run_check(self, executor: CheckExecutor) -> Step | None:
        """Run the check's recipe and branch; None when the host is out of reach (pending)."""
        node = self._expect(NodeType.CHECK)
        host, params = self._target(node)
        if not host:
            outcome: CheckResult | Unreachable = Unreachable(NO_HOST)
        else:
            outcome = executor.run(node.recipe or "", host, params)
        if isinstance(outcome, Unreachable):
            self.pending = Pending(self.current_tree.id, node.id, outcome.reason)
            return None
        return self._branch(node, outcome, note="")

    def by_hand(self) -> None:
        """The technician answers the check without running it (e.g. at the machine itself)."""
        node = self._expect(NodeType.CHECK)
        self.pending = Pending(self.current_tree.id, node.id, "")

    def _branch(self, node: Node, result: CheckResult, note: str) -> Step:
        unchecked: list[str] = []
        branch = next(b for b in node.branches if matches(b, result, unchecked))  # otherwise last
        note = "; ".join(filter(None, [note, *unchecked]))
        code = f"exit code {result.exit_code}"
        answer = f"{branch.label} ({code})" if branch.label else code
        return self._step(node, answer, branch.next, excerpt=excerpt(result), note=note)

    def _manual_note(self, reason: str | None = None) -> str:
        """Why a step was decided by the technician: the reason its recipe did not run, if
        it was tried (else the technician answered without trying it)."""
        reason = reason or (self.pending.reason if self.pending else None)
        return f"not run: {reason}; {BY_HAND}" if reason else BY_HAND

    def enter_result(self, result: CheckResult) -> Step:
        """A check's result as the technician saw it (e.g. on the machine itself)."""
        node = self._expect(NodeType.CHECK)
        return self._branch(node, result, note=self._manual_note())

    def pick_branch(self, choice: str) -> Step:
        """Choose a check's branch by hand, by its label or the node it leads to."""
        node = self._expect(NodeType.CHECK)
        wanted = choice.strip().casefold()
        branch = next((b for b in node.branches if b.next == choice.strip()), None) or next(
            (b for b in node.branches if b.label and b.label.casefold() == wanted), None
        )
        if branch is None:
            options = ", ".join(
                repr(b.next) + (f" ({b.label})" if b.label else "") for b in node.branches
            )
            raise BadInput(f"{choice!r} is not a branch of {node.id!r}; choose one of {options}")
        answer = f"{branch.label or 'branch ' + branch.next} (picked by hand)"
        return self._step(node, answer, branch.next, note=self._manual_note())

    def acknowledge(self, executor: CheckExecutor | None = None) -> Step:
        """An action is done: by its recipe through `executor`, or by hand when None."""
        node = self._expect(NodeType.ACTION)
        assert node.next is not None  # noqa: S101  (the validator requires it)
        if node.recipe is None or executor is None:
            return self._step(node, "done", node.next)
        host, params = self._target(node)
        outcome = executor.run(node.recipe, host, params) if host else Unreachable(NO_HOST)
        if isinstance(outcome, Unreachable):
            note = self._manual_note(outcome.reason)  # an action sets no pending reason
            return self._step(node, "done by hand", node.next, note=note)
        return self._step(
            node, f"recipe ran, exit code {outcome.exit_code}", node.next, excerpt=excerpt(outcome)
        )

    # -- moving around ---------------------------------------------------------------------
    def back(self) -> None:
        """Undo the last answer (and the gotos taken automatically after it)."""
        if self.pending is not None:
            self.pending = None
            return
        answered = [i for i, step in enumerate(self.steps) if step.kind != NodeType.GOTO.value]
        if not answered:
            raise BadInput("the run is at its first node: nothing to go back to")
        del self.steps[answered[-1] :]

    def restart(self) -> None:
        self.steps.clear()
        self.pending = None
        self.started_at = self._clock()
        self._follow_goto()

    # -- the end -----------------------------------------------------------------------------
    @property
    def proposal(self) -> Proposal | None:
        node = self.node
        if not node.is_terminal:
            return None
        facts = tuple(
            f"{s.prompt} → {s.answer}" + (f" ({s.note})" if s.note else "")
            for s in self.steps
            if s.kind != NodeType.GOTO.value
        )
        if node.type is NodeType.RESOLVE:
            return Proposal(node.type, self.render(node.resolution), None, facts)
        return Proposal(node.type, self.render(node.reason), node.tier, facts)

    def minutes(self, now: datetime | None = None) -> int:
        """Time worked on the run: the gaps between its steps, each counted up to IDLE_CAP
        (a run left overnight and resumed is not a day of work)."""
        moments = [self.started_at, *(s.at for s in self.steps)]
        if now is not None:
            moments.append(now)
        seconds = sum(
            min((after - before).total_seconds(), IDLE_CAP_SECONDS)
            for before, after in zip(moments, moments[1:], strict=False)
        )
        return max(1, math.ceil(seconds / 60))

    def transcript(self) -> str:
        lines = [f"Tree {self.tree.id} v{self.tree.version}: {self.tree.title}"]
        for number, step in enumerate(self.steps, 1):
            when = step.at.strftime("%H:%M:%S")
            lines.append(f"{number}. [{when}] {step.prompt} → {step.answer or 'continued'}")
            if step.excerpt:
                lines.extend("     | " + line for line in step.excerpt.splitlines())
            if step.note:
                lines.append(f"     ({step.note})")
        proposal = self.proposal
        if proposal is not None:
            where = f" to tier {proposal.tier}" if proposal.tier else ""
            lines.append(f"Outcome: {proposal.kind.value}{where}: {proposal.text}")
        return "\n".join(lines)

    # -- storing -----------------------------------------------------------------------------
    def state_json(self) -> str:
        steps = [{**asdict(s), "at": s.at.isoformat()} for s in self.steps]
        pending = asdict(self.pending) if self.pending else None
        state = {
            "started_at": self.started_at.isoformat(),
            "steps": steps,
            "pending": pending,
            "host": self.host,
        }
        return json.dumps(state, ensure_ascii=False, sort_keys=True)

    def load_state(self, text: str) -> None:
        state = json.loads(text)
        self.started_at = datetime.fromisoformat(state["started_at"])
        self.steps = [Step(**{**s, "at": datetime.fromisoformat(s["at"])}) for s in state["steps"]]
        self.pending = Pending(**state["pending"]) if state["pending"] else None
        self.host = state.get("host", "")  # runs stored before hosts were asked have none
