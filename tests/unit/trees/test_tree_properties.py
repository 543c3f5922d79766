"""Property: a generated tree the validator accepts always lets a run reach a terminal."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.trees.loader import read_tree
from workbench.trees.model import Tree
from workbench.trees.recipes import StaticCatalog
from workbench.trees.runner import Run

CATALOG = StaticCatalog({})


@st.composite
def tree_documents(draw: st.DrawFn) -> dict[str, object]:
    """Questions n0..nk-1 and terminals after them; each question has one forward edge
    (so it can always escape) plus random edges anywhere, loops and back edges included."""
    questions = draw(st.integers(1, 25))
    terminals = draw(st.integers(1, 4))
    size = questions + terminals
    nodes: dict[str, object] = {}
    for i in range(questions):
        forward = draw(st.integers(i + 1, size - 1))
        others = draw(st.lists(st.integers(0, size - 1), max_size=3))
        targets = [forward, *others]
        nodes[f"n{i}"] = {
            "type": "question",
            "text": f"Question {i}?",
            "answers": [{"label": f"a{j}", "next": f"n{t}"} for j, t in enumerate(targets)],
        }
    for i in range(questions, size):
        if draw(st.booleans()):
            nodes[f"n{i}"] = {"type": "resolve", "resolution": f"fixed at {i}"}
        else:
            nodes[f"n{i}"] = {"type": "escalate", "tier": 2, "reason": f"stuck at {i}"}
    return {"id": "gen", "title": "Generated", "version": 1, "start": "n0", "nodes": nodes}


def _path_to_terminal(tree: Tree, start: str) -> list[str] | None:
    """Answer labels along a shortest path from `start` to a terminal (breadth first)."""
    came: dict[str, tuple[str, str] | None] = {start: None}
    todo = deque([start])
    while todo:
        name = todo.popleft()
        if tree.nodes[name].is_terminal:
            labels: list[str] = []
            while came[name] is not None:
                name, label = came[name]  # type: ignore[misc]
                labels.append(label)
            return labels[::-1]
        for answer in tree.nodes[name].answers:
            if answer.next not in came:
                came[answer.next] = (name, answer.label)
                todo.append(answer.next)
    return None


@settings(max_examples=80, deadline=None)
@given(tree_documents())
def test_valid_generated_trees_reach_a_terminal(document: dict[str, object]) -> None:
    tree, problems = read_tree(yaml.safe_dump(document), "gen.yaml", CATALOG)
    errors = [str(p) for p in problems if p.severity == "error"]
    assert tree is not None, errors
    # No trap anywhere: every node has some path to a terminal ...
    assert all(_path_to_terminal(tree, name) is not None for name in tree.nodes)
    # ... and a run that follows one from start ends with a proposal.
    run = Run(tree, {}, lambda _id: tree, lambda: datetime(2026, 1, 1, tzinfo=UTC))
    for label in _path_to_terminal(tree, tree.start) or []:
        run.answer(label)
    assert run.finished and run.proposal is not None


@settings(max_examples=60, deadline=None)
@given(tree_documents(), st.data())
def test_removing_every_escape_is_reported_as_a_trap(
    document: dict[str, object], data: st.DataObject
) -> None:
    nodes = document["nodes"]
    assert isinstance(nodes, dict)
    questions = [n for n, spec in nodes.items() if spec["type"] == "question"]
    victim = data.draw(st.sampled_from(questions))
    # The victim's answers all lead back to itself: nothing escapes from it.
    nodes[victim]["answers"] = [{"label": "again", "next": victim}]
    tree, problems = read_tree(yaml.safe_dump(document), "gen.yaml", CATALOG)
    assert tree is None
    assert any(f"node {victim!r} (a trap" in p.message for p in problems)
