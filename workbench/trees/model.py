"""A parsed troubleshooting tree and the problems found while reading one."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class NodeType(StrEnum):
    QUESTION = "question"
    INPUT = "input"
    CHECK = "check"
    ACTION = "action"
    GOTO = "goto"
    RESOLVE = "resolve"
    ESCALATE = "escalate"


TERMINALS = frozenset({NodeType.RESOLVE, NodeType.ESCALATE})
# A goto leaves this tree: for this tree's trap analysis it ends the path like a terminal.
EXITS = TERMINALS | {NodeType.GOTO}

# Ticket fields a template may name, e.g. "{{ticket.asset.hostname}}".
TICKET_FIELDS = frozenset(
    {
        "ticket.ref",
        "ticket.title",
        "ticket.description",
        "ticket.category",
        "ticket.priority",
        "ticket.asset.tag",
        "ticket.asset.serial",
        "ticket.asset.hostname",
        "ticket.asset.model",
        "ticket.asset.os",
        "ticket.requester.name",
        "ticket.requester.email",
        "ticket.requester.phone",
        "ticket.requester.department",
        "ticket.site.name",
    }
)


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    severity: str  # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Answer:
    label: str
    next: str


@dataclass(frozen=True, slots=True)
class Branch:
    """One branch of a check: all given conditions must hold; `otherwise` always matches."""

    next: str
    exit_code: int | None = None
    stdout_matches: str | None = None
    stderr_matches: str | None = None
    otherwise: bool = False
    label: str = ""  # what the branch means, for the technician who picks it by hand

    @property
    def condition(self) -> str:
        """The condition in words: "exit code 0, output matches Error|Paused"."""
        if self.otherwise:
            return "any other result"
        parts = []
        if self.exit_code is not None:
            parts.append(f"exit code {self.exit_code}")
        if self.stdout_matches:
            parts.append(f"output matches {self.stdout_matches}")
        if self.stderr_matches:
            parts.append(f"errors match {self.stderr_matches}")
        return ", ".join(parts)

    @property
    def title(self) -> str:
        """The label, or the condition for a tree written without labels."""
        return self.label or self.condition


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    type: NodeType
    text: str = ""
    next: str | None = None
    answers: tuple[Answer, ...] = ()
    var: str | None = None
    pattern: str | None = None
    pattern_description: str | None = None
    default: str | None = None
    recipe: str | None = None
    host: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    branches: tuple[Branch, ...] = ()
    tree: str | None = None  # goto: the tree to continue in
    resolution: str | None = None
    tier: int | None = None
    reason: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.type in TERMINALS

    def successors(self) -> list[str]:
        targets = [a.next for a in self.answers] + [b.next for b in self.branches]
        return targets + ([self.next] if self.next else [])


@dataclass(frozen=True, slots=True)
class Tree:
    id: str
    title: str
    version: int
    category: str
    start: str
    nodes: dict[str, Node] = field(hash=False)
    digest: str  # sha256 of the source text: tells a changed tree from the one a run began on
    source: str = field(repr=False)
    # node id -> (line, column) in the source, to locate problems found across trees
    positions: dict[str, tuple[int, int]] = field(
        default_factory=dict, hash=False, compare=False, repr=False
    )
