"""The validator: one fixture file per problem kind, located by line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.trees.loader import read_tree, read_tree_file
from workbench.trees.recipes import NO_CATALOG, StaticCatalog

FIXTURES = Path(__file__).with_name("fixtures")
CATALOG = StaticCatalog(
    {
        "demo.install-driver": {"inf_path": "required", "token": "secret"},
        "demo.status": {},
    }
)

# file, line, column, severity, words the message must contain
CASES = [
    ("yaml_syntax", 7, 1, "error", "YAML syntax"),
    ("unknown_type", 7, 11, "error", "unknown node type 'questoin'"),
    ("missing_start", 1, 1, "error", "needs `start`"),
    ("unknown_start", 4, 8, "error", "start names no node 'begin'"),
    ("dangling_next", 11, 29, "error", "next names no node 'dnoe'"),
    ("goto_unknown_tree", 8, 11, "error", "no known tree 'no-such-tree'"),
    ("duplicate_node", 9, 3, "error", "duplicate node id 'done' (first on line 6)"),
    ("duplicate_label", 11, 17, "error", "duplicate answer label 'yes'"),
    ("unknown_recipe", 9, 13, "error", "unknown recipe 'windows.fix-everything'"),
    ("missing_param", 9, 13, "error", "needs parameter 'inf_path'"),
    ("secret_param", 10, 13, "error", "'token' of 'demo.install-driver' is a secret"),
    ("undefined_variable", 13, 23, "error", "undefined variable 'hots'"),
    ("maybe_unset", 19, 27, "error", "variable 'host' may be unset at node 'done'"),
    ("bad_pattern", 10, 14, "error", "invalid pattern regex"),
    ("trap_cycle", 12, 3, "error", "no terminal can be reached from node 'wait'"),
    ("no_resolution", 6, 3, "error", "resolve node 'done' needs `resolution`"),
    ("empty_reason", 9, 13, "error", "needs a non-empty reason"),
    ("no_otherwise", 11, 7, "error", "has no `otherwise: true` branch"),
    ("unreachable", 9, 3, "warning", "node 'orphan' is unreachable"),
]


@pytest.mark.parametrize(("name", "line", "column", "severity", "words"), CASES)
def test_each_problem_is_located(
    name: str, line: int, column: int, severity: str, words: str
) -> None:
    path = FIXTURES / f"{name}.yaml"
    tree, problems = read_tree_file(path, CATALOG, known_trees={"t"})
    located = [(p.line, p.column, p.severity) for p in problems if words in p.message]
    assert located and located[0] == (line, column, severity), [str(p) for p in problems]
    assert str(problems[0]).startswith(f"{path}:{problems[0].line}:{problems[0].column}: ")
    # An error means no tree; a warning alone still gives one.
    assert (tree is None) == (severity == "error")


def test_every_fixture_has_a_case() -> None:
    assert {p.stem for p in FIXTURES.glob("*.yaml")} == {case[0] for case in CASES}


def test_trap_reports_every_node_of_the_cycle() -> None:
    _tree, problems = read_tree_file(FIXTURES / "trap_cycle.yaml", CATALOG, known_trees={"t"})
    assert [(p.line, p.column) for p in problems] == [(12, 3), (16, 3)]


def test_all_errors_in_one_run(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "id: many",
            "title: Many problems",
            "version: 1",
            "start: ask",
            "nodes:",
            "  ask:",
            "    type: question",
            "    text: Host {{hots}}?",  # 8: undefined variable
            "    answers:",
            '      - {label: "Yes", next: nowhere}',  # 10: dangling next
            '      - {label: "YES", next: done}',  # 11: duplicate label
            "  loop:",  # 12: trap
            "    type: action",
            "    text: Again",
            "    next: loop",
            "  done:",
            "    type: resolve",  # 16: no resolution
            "  odd:",
            "    type: frob",  # 19: unknown type
            "  look:",
            "    type: check",
            "    text: Look",
            "    recipe: demo.nothing",  # 23: unknown recipe
            "    branches:",
            "      - {when: {stdout_matches: '(('}, next: done}",  # 25: bad regex
            "      - {otherwise: true, next: done}",
        ]
    )
    path = tmp_path / "many.yaml"
    path.write_text(text)
    _tree, problems = read_tree_file(path, CATALOG)
    errors = {(p.line, p.message.split(" ")[0]) for p in problems if p.severity == "error"}
    assert {line for line, _word in errors} >= {8, 10, 11, 12, 16, 19, 23, 25}, problems


def test_without_a_catalog_recipes_are_warnings() -> None:
    tree, problems = read_tree_file(FIXTURES / "unknown_recipe.yaml", NO_CATALOG)
    assert tree is not None
    assert [(p.line, p.column, p.severity) for p in problems] == [(9, 13, "warning")]
    assert "recipe catalog is not installed" in problems[0].message


def test_goto_into_a_known_tree_is_fine() -> None:
    text = (FIXTURES / "goto_unknown_tree.yaml").read_text()
    tree, problems = read_tree(text, "x.yaml", CATALOG, known_trees={"t", "no-such-tree"})
    assert tree is not None and problems == []


def test_empty_and_non_mapping_files(tmp_path: Path) -> None:
    _tree, empty = read_tree("", "e.yaml", CATALOG)
    assert [str(p) for p in empty] == ["e.yaml:1:1: error: the file is empty"]
    _tree, listed = read_tree("- a\n- b\n", "l.yaml", CATALOG)
    assert [str(p) for p in listed] == ["l.yaml:1:1: error: a tree must be a mapping"]
    missing = tmp_path / "gone.yaml"
    _tree, unread = read_tree_file(missing, CATALOG)
    assert unread[0].severity == "error" and "cannot read" in unread[0].message
