"""Issue 22's tree defects: control characters, huge integers, categories, branch labels,
gotos that chain or go round, checks on tickets without an asset, and honest by-hand notes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.recipes import catalog_from_dir
from tests.support.workbench import ASSET, Clock, ticket_on_asset
from workbench.core.errors import BadInput
from workbench.resources import RESOURCES, load_policy
from workbench.services.tickets import TicketService
from workbench.trees.loader import MAX_VERSION, read_tree
from workbench.trees.model import Problem
from workbench.trees.recipes import StaticCatalog
from workbench.trees.runner import CheckResult, Unreachable
from workbench.trees.service import TreeService

CATALOG = StaticCatalog({"demo.status": {}})
CHECK_CATEGORY = load_policy().check_category

SMALL = """\
id: small
title: {title}
version: {version}
category: printing
start: look
nodes:
  look:
    type: check
    text: Look at {{{{ticket.asset.hostname}}}}
    recipe: demo.status
    branches:
      - {{label: "Looks fine", when: {{exit_code: {code}}}, next: done}}
      - {{label: "Anything else", otherwise: true, next: done}}
  done:
    type: escalate
    tier: {tier}
    reason: {reason}
"""


def small(
    title: str = "Small", version: str = "1", code: str = "0", tier: str = "2", reason: str = "R"
) -> str:
    return SMALL.format(title=title, version=version, code=code, tier=tier, reason=reason)


def errors(text: str, **kwargs: object) -> list[Problem]:
    tree, problems = read_tree(text, "t.yaml", CATALOG, **kwargs)  # type: ignore[arg-type]
    found = [p for p in problems if p.severity == "error"]
    assert (tree is None) == bool(found)
    return found


# -- control characters ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "line", "column", "code"),
    [
        (small(title="Raw \x1b[2J here"), 2, 12, "U+001B"),  # raw: YAML itself would crash
        (small(reason="beep\x07"), 17, 17, "U+0007"),
        (small(title="x\x7f"), 2, 9, "U+007F"),
        (small(title="C1 \x9b31m"), 2, 11, "U+009B"),
        (small(title="NEL\x85"), 2, 11, "U+0085"),
        (small(title='"\\e[2J"'), 2, 9, "U+001B"),  # escaped in double quotes
        (small(title='"\\x1b]52;c;aGk=\\x07"'), 2, 9, "U+001B"),
        (small(title='"CSI \\u009b"'), 2, 13, "U+009B"),
        (small(reason='"a\\rb"'), 17, 15, "U+000D"),
        (small(reason='"\\0"'), 17, 14, "U+0000"),
        (small().replace("Looks fine", "Looks \\e fine"), 12, 24, "U+001B"),
        (small().replace("  done:", '  "do\\ene":'), 14, 6, "U+001B"),  # a node id
    ],
)
def test_control_characters_are_refused_where_they_are(
    text: str, line: int, column: int, code: str
) -> None:
    found = [p for p in errors(text) if "control character" in p.message]
    assert found, errors(text)
    assert (found[0].line, found[0].column) == (line, column), [str(p) for p in found]
    assert f"control character {code}:" in found[0].message


@pytest.mark.parametrize("text", ['"tab\\there"', '"two\\nlines"', "|\n      block\n      text"])
def test_tab_and_line_feed_stay_allowed(text: str) -> None:
    tree, problems = read_tree(small(reason=text), "t.yaml", CATALOG)
    assert tree is not None and problems == []


def test_a_crlf_file_is_no_control_character() -> None:
    tree, problems = read_tree(small().replace("\n", "\r\n"), "t.yaml", CATALOG)
    assert tree is not None and problems == []


# -- integers ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "line", "what"),
    [
        ({"version": "99999999999999999999999"}, 3, "version"),
        ({"version": str(2**64)}, 3, "version"),
        ({"version": str(MAX_VERSION + 1)}, 3, "version"),
        ({"version": "0"}, 3, "version"),
        ({"version": "-1"}, 3, "version"),
        ({"code": str(10**20)}, 12, "exit_code"),
        ({"code": str(-(2**40))}, 12, "exit_code"),
        ({"tier": str(10**30)}, 16, "tier"),
        ({"tier": "0"}, 16, "tier"),
    ],
)
def test_integers_out_of_range_are_located(fields: dict[str, str], line: int, what: str) -> None:
    found = errors(small(**fields))  # type: ignore[arg-type]
    assert [(p.line, p.message.split(" ")[0]) for p in found] == [(line, what)], found
    assert "must be a whole number from" in found[0].message


@pytest.mark.parametrize(
    ("fields", "version", "code"),
    [
        ({"version": str(MAX_VERSION)}, MAX_VERSION, 0),
        ({"version": "0x10"}, 16, 0),
        ({"version": "1_000"}, 1000, 0),
        ({"code": "0xC0000005"}, 1, 0xC0000005),
        ({"code": "-1"}, 1, -1),
    ],
)
def test_integers_in_range_read_as_yaml_writes_them(
    fields: dict[str, str], version: int, code: int
) -> None:
    tree, problems = read_tree(small(**fields), "t.yaml", CATALOG)  # type: ignore[arg-type]
    assert tree is not None and problems == []
    assert (tree.version, tree.nodes["look"].branches[0].exit_code) == (version, code)


# -- categories --------------------------------------------------------------------------------
@pytest.mark.parametrize("category", ["nosuchcat", "Printing", '"printing "', "''"])
def test_a_category_outside_the_policy_is_refused(category: str) -> None:
    text = small().replace("category: printing", f"category: {category}")
    found = errors(text, check_category=CHECK_CATEGORY)
    assert [(p.line, p.column) for p in found] == [(4, 11)]
    assert "unknown category" in found[0].message and "choose one of" in found[0].message


def test_a_policy_category_or_none_is_fine() -> None:
    for text in (small(), small().replace("category: printing\n", "")):
        tree, problems = read_tree(text, "t.yaml", CATALOG, check_category=CHECK_CATEGORY)
        assert tree is not None and problems == []


# -- labels ------------------------------------------------------------------------------------
def test_a_branch_without_label_is_a_warning() -> None:
    text = small().replace('label: "Looks fine", ', "").replace('label: "Anything else", ', "")
    tree, problems = read_tree(text, "t.yaml", CATALOG)
    assert tree is not None
    assert [(p.line, p.column, p.severity) for p in problems] == [
        (12, 9, "warning"),
        (13, 9, "warning"),
    ]
    assert "has no `label`" in problems[0].message
    assert tree.nodes["look"].branches[0].title == "exit code 0"  # the condition stands in


def test_every_shipped_branch_has_a_label() -> None:
    catalog = catalog_from_dir(RESOURCES / "recipes")
    for path in sorted((RESOURCES / "trees").glob("*.yaml")):
        tree, _problems = read_tree(path.read_text(), str(path), catalog)
        assert tree is not None
        for node in tree.nodes.values():
            for branch in node.branches:
                assert branch.label and not re.search(r"exit code|\\|stdout", branch.label)


# -- gotos -------------------------------------------------------------------------------------
def write(directory: Path, tree_id: str, text: str) -> Path:
    path = directory / f"{tree_id}.yaml"
    path.write_text(text, "utf-8")
    return path


GOTO = "id: {id}\ntitle: T {id}\nversion: 1\nstart: {start}\nnodes:\n{nodes}"
ONLY_GOTO = "  away:\n    type: goto\n    tree: {target}\n"
ASK_THEN_GOTO = (
    "  ask:\n    type: question\n    text: Go on?\n    answers:\n"
    '      - {{label: "Yes", next: away}}\n      - {{label: "No", next: done}}\n'
    "  away:\n    type: goto\n    tree: {target}\n"
    "  done:\n    type: resolve\n    resolution: Done\n"
)
QUESTION = (
    "  ask:\n    type: question\n    text: Printer on?\n    answers:\n"
    '      - {label: "Yes", next: done}\n'
    "  done:\n    type: resolve\n    resolution: Done\n"
)


def only_goto(tree_id: str, target: str) -> str:
    return GOTO.format(id=tree_id, start="away", nodes=ONLY_GOTO.format(target=target))


def ask_then_goto(tree_id: str, target: str) -> str:
    return GOTO.format(id=tree_id, start="ask", nodes=ASK_THEN_GOTO.format(target=target))


def plain(tree_id: str) -> str:
    return GOTO.format(id=tree_id, start="ask", nodes=QUESTION)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    directory = tmp_path / "library"
    directory.mkdir()
    return directory


@pytest.fixture
def trees(service: TicketService, library: Path, clock: Clock) -> TreeService:
    return TreeService(service, CATALOG, library, clock)


def located(problems: list[Problem]) -> list[tuple[str, int, int]]:
    return [(Path(p.file).stem, p.line, p.column) for p in problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("files", "in_library", "expected", "chain"),
    [
        ({"a": only_goto("a", "b"), "b": only_goto("b", "a")}, {}, [("a", 6, 3), ("b", 6, 3)],
         "a → b → a"),
        ({"a": only_goto("a", "a")}, {}, [("a", 6, 3)], "a → a"),
        ({"a": only_goto("a", "b")}, {"b": only_goto("b", "a")}, [("a", 6, 3)], "a → b → a"),
        ({"a": only_goto("a", "b")}, {"b": only_goto("b", "c"), "c": only_goto("c", "b")},
         [("a", 6, 3)], "a → b → c → b"),
    ],
)  # fmt: skip
def test_goto_cycles_are_traps(
    trees: TreeService,
    library: Path,
    tmp_path: Path,
    files: dict[str, str],
    in_library: dict[str, str],
    expected: list[tuple[str, int, int]],
    chain: str,
) -> None:
    for tree_id, text in in_library.items():
        write(library, tree_id, text)
    paths = [write(tmp_path, tree_id, text) for tree_id, text in files.items()]
    _found, problems = trees.validate(paths)
    assert located(problems) == expected, [str(p) for p in problems]
    assert f"only go round ({chain}), a trap cycle" in problems[0].message
    with pytest.raises(BadInput, match="nothing imported"):
        trees.import_files(paths)


def test_a_goto_cycle_with_a_way_out_is_fine(
    trees: TreeService, library: Path, tmp_path: Path
) -> None:
    # a → b → a, but a's question can resolve: going round is the technician's choice.
    write(library, "b", only_goto("b", "a"))
    _found, problems = trees.validate([write(tmp_path, "a", ask_then_goto("a", "b"))])
    assert located(problems) == []
    # ... and a stored tree that would close a trap is caught when it is imported.
    write(library, "c", plain("c"))
    paths = [write(tmp_path, "c", only_goto("c", "c"))]
    assert located(trees.validate(paths)[1]) == [("c", 6, 3)]


def test_a_goto_into_a_tree_that_starts_with_a_goto_reaches_a_real_node(
    trees: TreeService, library: Path, service: TicketService
) -> None:
    write(library, "first", only_goto("first", "second"))
    write(library, "second", only_goto("second", "third"))
    write(library, "third", plain("third"))
    ref = ticket_on_asset(service, "Printer silent", "printing").ticket.ref
    run = trees.start("first", ref).run
    assert (run.current_tree.id, run.node.id, run.prompt) == ("third", "ask", "Printer on?")
    run.answer("Yes")
    assert run.finished and run.proposal is not None
    with pytest.raises(BadInput, match="nothing to go back to"):
        run.back()
        run.back()


def test_a_goto_loop_left_in_the_trees_is_refused_not_followed_forever(
    trees: TreeService, library: Path, service: TicketService
) -> None:
    write(library, "a", ask_then_goto("a", "b"))
    write(library, "b", only_goto("b", "c"))
    write(library, "c", only_goto("c", "b"))  # a library broken by hand
    ref = ticket_on_asset(service, "Printer silent", "printing").ticket.ref
    run = trees.start("a", ref).run
    with pytest.raises(BadInput, match=r"go round without a step \(a → b → c → b\)"):
        run.answer("Yes")
    assert run.node.id == "ask" and run.steps == []  # the refused answer left no trace


# -- a ticket without an asset, and notes that say what happened ------------------------------
CHECK = """\
id: look
title: Look
version: 1
start: look
nodes:
  look:
    type: check
    text: Reach {{ticket.asset.hostname}} and read its state
    recipe: demo.status
    branches:
      - {label: "Fine", when: {exit_code: 0}, next: done}
      - {label: "Not fine", otherwise: true, next: done}
  done:
    type: resolve
    resolution: Checked {{ticket.asset.hostname}}
"""


class Recorder:
    def __init__(self, outcome: CheckResult | Unreachable) -> None:
        self.outcome = outcome
        self.hosts: list[str] = []

    def run(self, _recipe: str, host: str, _params: object) -> CheckResult | Unreachable:
        self.hosts.append(host)
        return self.outcome


def test_a_ticket_without_asset_asks_for_the_host(
    trees: TreeService, library: Path, service: TicketService
) -> None:
    write(library, "look", CHECK)
    ref = service.create(title="Slow", category="software", impact=3, urgency=3).ticket.ref
    handle = trees.start("look", ref)
    run = handle.run
    assert run.prompt == "Reach (no asset) and read its state" and run.target_host == ""
    executor = Recorder(CheckResult(0, "ok"))
    assert run.run_check(executor) is None and executor.hosts == []  # nothing to reach
    assert run.pending is not None and "the ticket has no asset" in run.pending.reason
    for bad in ("", "-oProxyCommand=x", "a b"):
        with pytest.raises(BadInput):
            run.set_host(bad)
    run.set_host("OLY-HR-DT7754")
    trees.save(handle)
    resumed = trees.start("look", ref).run  # the host is part of the stored run
    assert resumed.prompt == "Reach OLY-HR-DT7754 and read its state"
    resumed.back()  # leave the pending state
    assert resumed.run_check(executor) is not None and executor.hosts == ["OLY-HR-DT7754"]
    assert resumed.proposal is not None and resumed.proposal.text == "Checked OLY-HR-DT7754"
    assert "Fine (exit code 0)" in resumed.transcript()


def test_a_ticket_with_an_asset_keeps_its_host(
    trees: TreeService, library: Path, service: TicketService
) -> None:
    write(library, "look", CHECK)
    run = trees.start("look", ticket_on_asset(service, "Slow", "software").ticket.ref).run
    assert run.target_host == ASSET.hostname
    with pytest.raises(BadInput, match=f"the ticket's asset {ASSET.hostname} is the host"):
        run.set_host("elsewhere")


@pytest.mark.parametrize(
    ("outcome", "note"),
    [
        (None, "(answered by hand)"),
        (Unreachable("no credential profile for X"),
         "(not run: no credential profile for X; answered by hand)"),
    ],
)  # fmt: skip
def test_the_transcript_says_what_happened_to_a_check(
    trees: TreeService,
    library: Path,
    service: TicketService,
    outcome: Unreachable | None,
    note: str,
) -> None:
    write(library, "look", CHECK)
    run = trees.start("look", ticket_on_asset(service, "Slow", "software").ticket.ref).run
    if outcome is not None:
        run.run_check(Recorder(outcome))
    run.pick_branch("not FINE")  # a label, in any case
    transcript = run.transcript()
    assert "→ Not fine (picked by hand)" in transcript and note in transcript
    assert "not available" not in transcript
