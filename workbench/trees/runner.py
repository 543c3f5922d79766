"""Walking a tree: a state machine with back, restart and a transcript; no Qt, no storage.

The state is the list of steps taken (plus a check waiting for a hand-picked branch): the
current node, the variables and the transcript are all derived from it, so back is "drop the
last step" and resume is "load the steps".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from workbench.core import patterns
from workbench.core.errors import BadInput
from workbench.trees.loader import TEMPLATE
from workbench.trees.model import Branch, Node, NodeType, Tree

EXCERPT_CHARS = 600
IDLE_CAP_SECONDS = 60 * 60
NO_REMOTE = "remote execution is not available in this Workbench yet"


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


class NoRemoteExecutor:
    """Until remote execution is wired in, every host is out of reach: answers come by hand."""

    def run(
        self, _recipe: str, _host: str, _params: Mapping[str, str]
    ) -> CheckResult | Unreachable:
        return Unreachable(NO_REMOTE)


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
        for step in self.steps:
            if step.var:
                values[step.var] = step.answer
        return values

    def render(self, text: str | None) -> str:
        values = self.variables
        return TEMPLATE.sub(lambda m: values.get(m.group(1), ""), text or "")

    @property
    def prompt(self) -> str:
        return self.render(self.node.text)

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
            prompt=self.render(node.text),
            answer=answer,
            next_tree=self.current_tree.id,
            next_node=target,
            at=self._clock(),
            **extra,
        )
        self.steps.append(step)
        self.pending = None
        self._follow_goto()
        return step

    def _follow_goto(self) -> None:
        node = self.node
        if node.type is NodeType.GOTO and node.tree:
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
            outcome: CheckResult | Unreachable = Unreachable("no host: the ticket has no asset")
        else:
            outcome = executor.run(node.recipe or "", host, params)
        if isinstance(outcome, Unreachable):
            self.pending = Pending(self.current_tree.id, node.id, outcome.reason)
            return None
        return self._branch(node, outcome, note="")

    def _branch(self, node: Node, result: CheckResult, note: str) -> Step:
        unchecked: list[str] = []
        branch = next(b for b in node.branches if matches(b, result, unchecked))  # otherwise last
        note = "; ".join(filter(None, [note, *unchecked]))
        return self._step(
            node, f"exit code {result.exit_code}", branch.next, excerpt=excerpt(result), note=note
        )

    def _manual_note(self, reason: str | None = None) -> str:
        reason = reason or (self.pending.reason if self.pending else NO_REMOTE)
        return f"host not reached ({reason}); decided by hand by the technician"

    def enter_result(self, result: CheckResult) -> Step:
        """A check's result as the technician saw it (e.g. on the machine itself)."""
        node = self._expect(NodeType.CHECK)
        return self._branch(node, result, note=self._manual_note())

    def pick_branch(self, target: str) -> Step:
        """Choose a check's branch by hand (the host could not be reached)."""
        node = self._expect(NodeType.CHECK)
        if target not in {b.next for b in node.branches}:
            options = ", ".join(repr(b.next) for b in node.branches)
            raise BadInput(f"{target!r} is not a branch of {node.id!r}; choose one of {options}")
        return self._step(node, f"branch {target} picked by hand", target, note=self._manual_note())

    def acknowledge(self, executor: CheckExecutor | None = None) -> Step:
        """An action is done: by its recipe through `executor`, or by hand when None."""
        node = self._expect(NodeType.ACTION)
        assert node.next is not None  # noqa: S101  (the validator requires it)
        if node.recipe is None or executor is None:
            return self._step(node, "done", node.next)
        host, params = self._target(node)
        outcome = executor.run(node.recipe, host, params) if host else Unreachable("no host")
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
        state = {"started_at": self.started_at.isoformat(), "steps": steps, "pending": pending}
        return json.dumps(state, ensure_ascii=False, sort_keys=True)

    def load_state(self, text: str) -> None:
        state = json.loads(text)
        self.started_at = datetime.fromisoformat(state["started_at"])
        self.steps = [Step(**{**s, "at": datetime.fromisoformat(s["at"])}) for s in state["steps"]]
        self.pending = Pending(**state["pending"]) if state["pending"] else None
