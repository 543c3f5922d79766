"""Read a tree from YAML and report every problem with its line and column.

The YAML is composed to a node graph (not constructed to dicts) so each key and value keeps
its position; duplicate keys, which a dict would silently merge, are seen too.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from workbench.core import patterns
from workbench.core.display import control_character
from workbench.core.errors import BadInput
from workbench.core.files import UnreadableFile, read_text_file
from workbench.core.yaml_loader import SafeLoader, compose, safe_load
from workbench.trees.model import (
    EXITS,
    TICKET_FIELDS,
    Answer,
    Branch,
    Node,
    NodeType,
    Problem,
    Tree,
)
from workbench.trees.recipes import REQUIRED, SECRET, RecipeCatalog

_BASE: Any = SafeLoader


class _Loader(_BASE):  # type: ignore[misc]
    """The safe loader, remembering the implicit tag of plain scalars: a tree repeats the same
    keys and words (type, text, next, label, Yes, ...) and composing is most of the
    validator's time (DESIGN.md section 9: 500 nodes in under 50 ms)."""

    _tags: dict[str, str] = {}  # noqa: RUF012  (a shared cache, on purpose)

    def descend_resolver(self, _node: Any, _index: Any) -> None:
        """The safe loader has no path resolvers: nothing to track."""

    def ascend_resolver(self) -> None:
        """See descend_resolver."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or implicit != (True, False):
            return super().resolve(kind, value, implicit)
        tag = self._tags.get(value)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if len(self._tags) > 50_000:
                self._tags.clear()  # bounded: a long-running GUI validates many files
            self._tags[value] = tag
        return tag


_LOADER: Any = _Loader
K = TypeVar("K")
TEMPLATE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
# Whole numbers are stored as 32-bit integers: a version past that validated and then broke
# the import. Exit codes of Windows reach 2**32 - 1 (0xC0000005) and of others go negative.
MAX_VERSION = 2**31 - 1
EXIT_CODES = (-(2**31), 2**32 - 1)
_YAML_INT = SafeConstructor()  # reads 0x1F, 0o17, 1_000 and 1:30 as YAML writes them

_TOP_KEYS = {"id", "title", "version", "category", "start", "nodes", "description"}
_KEYS: dict[NodeType, set[str]] = {
    NodeType.QUESTION: {"answers"},
    NodeType.INPUT: {"var", "pattern", "pattern_description", "default", "next"},
    NodeType.CHECK: {"recipe", "host", "params", "branches"},
    NodeType.ACTION: {"recipe", "host", "params", "next"},
    NodeType.GOTO: {"tree"},
    NodeType.RESOLVE: {"resolution"},
    NodeType.ESCALATE: {"tier", "reason"},
}
_REQUIRED: dict[NodeType, tuple[str, ...]] = {
    NodeType.QUESTION: ("text", "answers"),
    NodeType.INPUT: ("text", "var", "next"),
    NodeType.CHECK: ("text", "recipe", "branches"),
    NodeType.ACTION: ("text", "next"),
    NodeType.GOTO: ("tree",),
    NodeType.RESOLVE: ("resolution",),
    NodeType.ESCALATE: ("tier", "reason"),
}
_CONDITIONS = ("exit_code", "stdout_matches", "stderr_matches")

Pair = tuple[ScalarNode, yaml.Node]


@dataclass
class _Reading:
    file: str
    catalog: RecipeCatalog
    known_trees: Collection[str] | None
    problems: list[Problem] = field(default_factory=list)
    templates: list[tuple[str | None, str, yaml.Node]] = field(default_factory=list)
    check_category: Callable[[str], object] | None = None  # raises BadInput for an unknown one
    current: str | None = None  # the node whose fields are being read
    edges: list[tuple[str, str, yaml.Node]] = field(default_factory=list)  # from, to, where

    def report(self, where: yaml.Node | Any, severity: str, message: str) -> None:
        mark = where.start_mark if isinstance(where, yaml.Node) else where
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, severity, message))

    def error(self, where: yaml.Node | Any, message: str) -> None:
        self.report(where, "error", message)

    # -- shapes --------------------------------------------------------------------------
    def mapping(self, node: yaml.Node, what: str, duplicate: str = "key") -> dict[str, Pair]:
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping")
            return {}
        found: dict[str, Pair] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode):
                self.error(key, f"a key in {what} must be plain text")
                continue
            if key.value in found:
                first = found[key.value][0].start_mark.line + 1
                self.error(key, f"duplicate {duplicate} {key.value!r} (first on line {first})")
                continue
            found[key.value] = (key, value)
        return found

    def text(self, pair: Pair | None, what: str, template: bool = True) -> str | None:
        if pair is None:
            return None
        node = pair[1]
        if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.error(node, f"{what} must be text")
            return None
        if template:
            self.templates.append((self.current, node.value, node))
        return str(node.value)

    def integer(self, pair: Pair | None, what: str, low: int, high: int) -> int | None:
        if pair is None:
            return None
        node = pair[1]
        if not isinstance(node, ScalarNode) or node.tag != _INT:
            self.error(node, f"{what} must be a whole number")
            return None
        value = int(_YAML_INT.construct_yaml_int(node))
        if not low <= value <= high:
            self.error(node, f"{what} must be a whole number from {low} to {high}")
            return None
        return value

    def regex(self, pair: Pair | None, what: str) -> str | None:
        value = self.text(pair, what, template=False)
        if value is not None and pair is not None:
            try:
                patterns.compile_pattern(value)
            except patterns.UnsafePattern as exc:
                self.error(pair[1], f"invalid pattern regex in {what}: {exc}")
                return None
        return value

    def target(self, source: str, pair: Pair | None, what: str) -> str | None:
        name = self.text(pair, what, template=False)
        if name is not None and pair is not None:
            self.edges.append((source, name, pair[1]))
        return name


def _unknown_keys(
    reading: _Reading, fields: dict[str, Pair], allowed: set[str], where: str
) -> None:
    for name, (key, _value) in fields.items():
        if name not in allowed:
            reading.error(key, f"unknown key {name!r} in {where}")


def _items(reading: _Reading, pair: Pair, what: str) -> Iterator[tuple[yaml.Node, dict[str, Pair]]]:
    node = pair[1]
    if not isinstance(node, SequenceNode) or not node.value:
        reading.error(node, f"{what} must be a non-empty list")
        return
    for item in node.value:
        yield item, reading.mapping(item, f"an entry of {what}")


def _answers(reading: _Reading, node_id: str, pair: Pair) -> tuple[Answer, ...]:
    answers: list[Answer] = []
    seen: dict[str, int] = {}
    for item, entry in _items(reading, pair, f"the answers of {node_id!r}"):
        _unknown_keys(reading, entry, {"label", "next"}, f"an answer of {node_id!r}")
        label = reading.text(entry.get("label"), "an answer label", template=False)
        target = reading.target(node_id, entry.get("next"), "next")
        if label is None or target is None:
            _missing(reading, item, entry, ("label", "next"), "an answer")
            continue
        if label.casefold() in seen:
            reading.error(
                entry["label"][1],
                f"duplicate answer label {label!r} in {node_id!r} "
                f"(first on line {seen[label.casefold()]})",
            )
            continue
        seen[label.casefold()] = entry["label"][1].start_mark.line + 1
        answers.append(Answer(label, target))
    return tuple(answers)


def _branches(reading: _Reading, node_id: str, pair: Pair) -> tuple[Branch, ...]:
    branches: list[Branch] = []
    items = list(_items(reading, pair, f"the branches of {node_id!r}"))
    for index, (item, entry) in enumerate(items):
        _unknown_keys(
            reading, entry, {"when", "otherwise", "next", "label"}, f"a branch of {node_id!r}"
        )
        target = reading.target(node_id, entry.get("next"), "next")
        if target is None:
            _missing(reading, item, entry, ("next",), "a branch")
            continue
        label = (reading.text(entry.get("label"), "a branch label", template=False) or "").strip()
        if "label" not in entry:
            reading.report(
                item,
                "warning",
                f"a branch of {node_id!r} has no `label`: a technician who picks it by hand "
                "sees only its condition",
            )
        if "otherwise" in entry:
            flag = entry["otherwise"][1]
            if not (isinstance(flag, ScalarNode) and flag.tag == _BOOL and flag.value == "true"):
                reading.error(flag, "otherwise must be `true`")
            elif index != len(items) - 1:
                reading.error(entry["otherwise"][0], "the otherwise branch must come last")
            branches.append(Branch(target, otherwise=True, label=label))
            continue
        if "when" not in entry:
            reading.error(item, "a branch needs `when: {...}` or `otherwise: true`")
            continue
        when = reading.mapping(entry["when"][1], "when")
        _unknown_keys(reading, when, set(_CONDITIONS), "when")
        if not when:
            reading.error(entry["when"][1], f"when needs one of {', '.join(_CONDITIONS)}")
        branches.append(
            Branch(
                target,
                exit_code=reading.integer(when.get("exit_code"), "exit_code", *EXIT_CODES),
                stdout_matches=reading.regex(when.get("stdout_matches"), "stdout_matches"),
                stderr_matches=reading.regex(when.get("stderr_matches"), "stderr_matches"),
                label=label,
            )
        )
    if items and not any(b.otherwise for b in branches):
        reading.error(
            pair[1],
            f"check {node_id!r} has no `otherwise: true` branch: a result that matches no "
            "branch would strand the run",
        )
    return tuple(branches)


def _missing(
    reading: _Reading, where: yaml.Node, fields: dict[str, Pair], names: tuple[str, ...], what: str
) -> None:
    for name in names:
        if name not in fields:
            reading.error(where, f"{what} needs `{name}`")


def _check_recipe(
    reading: _Reading, recipe: str, params: dict[str, str], fields: dict[str, Pair]
) -> None:
    where = fields["recipe"][1]
    if not reading.catalog.installed:
        reading.report(
            where,
            "warning",
            f"recipe {recipe!r} not checked: the recipe catalog is not installed",
        )
    else:
        spec = reading.catalog.params(recipe)
        if spec is None:
            reading.error(where, f"unknown recipe {recipe!r}")
        else:
            for name, kind in spec.items():
                if kind == REQUIRED and name not in params:
                    reading.error(where, f"recipe {recipe!r} needs parameter {name!r}")
            for name in params:
                if name not in spec:
                    reading.error(
                        fields["params"][1], f"recipe {recipe!r} has no parameter {name!r}"
                    )
                elif spec[name] == SECRET:
                    reading.error(
                        fields["params"][1],
                        f"parameter {name!r} of {recipe!r} is a secret: it is asked for when "
                        "the recipe runs and must never be written in a tree",
                    )


def _recipe(reading: _Reading, node_id: str, fields: dict[str, Pair]) -> dict[str, Any]:
    recipe = reading.text(fields.get("recipe"), "recipe", template=False)
    params: dict[str, str] = {}
    if "params" in fields:
        for name, pair in reading.mapping(fields["params"][1], "params").items():
            value = reading.text(pair, f"parameter {name!r}")
            if value is not None:
                params[name] = value
    if recipe is None:
        if params:
            reading.error(fields["params"][0], f"{node_id!r} has params but no recipe")
        return {}
    _check_recipe(reading, recipe, params, fields)
    return {
        "recipe": recipe,
        "host": reading.text(fields.get("host"), "host"),
        "params": tuple(sorted(params.items())),
    }


def _terminal_fields(
    reading: _Reading, node_id: str, node_type: NodeType, fields: dict[str, Pair]
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    kind = node_type.value
    for name in ("resolution", "reason"):
        if name in _KEYS[node_type] and name in fields:
            args[name] = reading.text(fields[name], name)
            if not (args[name] or "").strip():
                reading.error(fields[name][1], f"{kind} node {node_id!r} needs a non-empty {name}")
    if node_type is NodeType.ESCALATE and "tier" in fields:
        args["tier"] = reading.integer(fields["tier"], "tier", 1, 3)
    return args


def _type_fields(
    reading: _Reading, node_id: str, node_type: NodeType, fields: dict[str, Pair]
) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if node_type is NodeType.QUESTION and "answers" in fields:
        args["answers"] = _answers(reading, node_id, fields["answers"])
    if node_type is NodeType.INPUT:
        var = reading.text(fields.get("var"), "var", template=False)
        if var is not None and not _VAR.match(var):
            reading.error(fields["var"][1], f"variable name {var!r} must be a plain identifier")
        args |= {
            "var": var,
            "pattern": reading.regex(fields.get("pattern"), "pattern"),
            "pattern_description": reading.text(
                fields.get("pattern_description"), "pattern_description", template=False
            ),
            "default": reading.text(fields.get("default"), "default"),
        }
    if node_type in (NodeType.CHECK, NodeType.ACTION):
        args |= _recipe(reading, node_id, fields)
    if node_type is NodeType.CHECK and "branches" in fields:
        args["branches"] = _branches(reading, node_id, fields["branches"])
    if "next" in fields:
        args["next"] = reading.target(node_id, fields["next"], "next")
    if node_type is NodeType.GOTO:
        args["tree"] = reading.text(fields.get("tree"), "tree", template=False)
        known = reading.known_trees
        if args["tree"] is not None and known is not None and args["tree"] not in known:
            reading.error(fields["tree"][1], f"goto names no known tree {args['tree']!r}")
    return args | _terminal_fields(reading, node_id, node_type, fields)


def _node(reading: _Reading, node_id: str, key: ScalarNode, value: yaml.Node) -> Node | None:
    reading.current = node_id
    if not _NAME.match(node_id):
        reading.error(key, f"node id {node_id!r} must be letters, digits, '.', '_' or '-'")
    fields = reading.mapping(value, f"node {node_id!r}")
    if not fields:
        return None
    if "type" not in fields:
        reading.error(key, f"node {node_id!r} needs a `type`")
        return None
    kind = reading.text(fields["type"], "type", template=False)
    if kind is None:
        return None
    if kind not in NodeType.__members__.values():
        known = ", ".join(t.value for t in NodeType)
        reading.error(fields["type"][1], f"unknown node type {kind!r} (known: {known})")
        return None
    node_type = NodeType(kind)
    _unknown_keys(reading, fields, {"type", "text"} | _KEYS[node_type], f"a {kind} node")
    _missing(reading, key, fields, _REQUIRED[node_type], f"{kind} node {node_id!r}")
    args: dict[str, Any] = {"text": reading.text(fields.get("text"), "text") or ""}
    args |= _type_fields(reading, node_id, node_type, fields)
    return Node(node_id, node_type, **args)


def _graph_checks(
    reading: _Reading, start: str | None, nodes: dict[str, Node], keys: dict[str, ScalarNode]
) -> None:
    dangling: set[str] = set()
    for source, target, where in reading.edges:
        if target not in nodes and source in nodes:
            reading.error(where, f"next names no node {target!r}")
            dangling.add(source)
    # Nodes that can reach an exit: walk the edges backwards from every exit.
    incoming: dict[str, list[str]] = {}
    for node in nodes.values():
        for target in node.successors():
            incoming.setdefault(target, []).append(node.id)
    reaches = _backwards(incoming, [n.id for n in nodes.values() if n.type in EXITS])
    for name in nodes:
        if name not in reaches and name not in dangling:
            reading.error(
                keys[name], f"no terminal can be reached from node {name!r} (a trap cycle)"
            )
    _unreachable(reading, start, nodes, keys)


def _unreachable(
    reading: _Reading, start: str | None, nodes: dict[str, Node], keys: dict[str, ScalarNode]
) -> None:
    if start not in nodes:
        return
    seen = {node.id for node in _walk(nodes, start)}
    for name in nodes:
        if name not in seen:
            reading.report(keys[name], "warning", f"node {name!r} is unreachable from start")


def _mark_of(node: yaml.Node, text: str, offset: int) -> Any:
    """The position of `offset` in a one-line scalar; the scalar's start when it is folded."""
    mark = node.start_mark
    before = text[:offset]
    if node.end_mark.line != mark.line or any(c in before for c in "\n\\'\""):
        return mark  # folded or escaped: the offset in the text is not the one in the file
    quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
    return yaml.Mark(mark.name, mark.index, mark.line, mark.column + quote + offset, None, 0)


def _set_on_entry(nodes: dict[str, Node], start: str | None) -> dict[str, frozenset[str]]:
    """For each node reachable from start: the variables every path to it has set."""
    if start not in nodes:
        return {}
    entry: dict[str, frozenset[str]] = {start: frozenset()}
    todo = [start]
    while todo:
        node = nodes[todo.pop()]
        out = entry[node.id] | {node.var} if node.var else entry[node.id]
        for target in node.successors():
            if target not in nodes:
                continue
            narrowed = entry[target] & out if target in entry else out
            if entry.get(target) != narrowed:
                entry[target] = narrowed
                todo.append(target)
    return entry


def _variable_checks(reading: _Reading, nodes: dict[str, Node], start: str | None) -> None:
    anywhere = {n.var for n in nodes.values() if n.var}
    on_entry = _set_on_entry(nodes, start)
    for owner, text, where in reading.templates:
        for match in TEMPLATE.finditer(text):
            name = match.group(1)
            if name in TICKET_FIELDS:
                continue
            if name not in anywhere:
                reading.error(
                    _mark_of(where, text, match.start()),
                    f"undefined variable {name!r}: no input sets it and it is not a ticket field",
                )
            elif owner in on_entry and name not in on_entry[owner]:
                reading.error(
                    _mark_of(where, text, match.start()),
                    f"variable {name!r} may be unset at node {owner!r}: a path from start "
                    "reaches it without passing the input that sets it",
                )


_NO_CONTROL = (
    "a tree's texts reach technicians' screens and terminals, so they hold no control "
    "character but line feed and tab"
)


def _raw_control(reading: _Reading, text: str) -> bool:
    """Whether the file holds a control character as such (YAML would refuse it unlocated)."""
    # A carriage return ends a line in YAML (CRLF files); it is no character of a text.
    found = control_character(text.replace("\r", "\n"))
    if found is None:
        return False
    offset, code = found
    line = text.count("\n", 0, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1)
    reading.error(
        yaml.Mark(reading.file, offset, line, column, None, 0),
        f"control character {code}: {_NO_CONTROL}",
    )
    return True


def _control_checks(reading: _Reading, root: yaml.Node) -> None:
    """Every key and value of the document, escaped control characters (\\e, \\x1b) included."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue  # an alias: its node was checked where it was written
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            found = control_character(node.value)
            if found is not None:
                offset, code = found
                mark = _mark_of(node, node.value, offset)
                reading.error(mark, f"control character {code}: {_NO_CONTROL}")
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, MappingNode):
            todo.extend(part for pair in node.value for part in pair)


def read_tree(
    text: str,
    file: str,
    catalog: RecipeCatalog,
    known_trees: Collection[str] | None = None,
    check_category: Callable[[str], object] | None = None,
) -> tuple[Tree | None, list[Problem]]:
    """The tree in `text` and every problem found; the tree is None when there is an error.

    `known_trees` names the trees a goto may continue in (None: do not check gotos);
    `check_category` raises BadInput for a category the SLA policy does not know (None: any).
    """
    reading = _Reading(file, catalog, known_trees, check_category=check_category)
    if _raw_control(reading, text):
        return None, reading.problems
    try:
        root = compose(text, _LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reading.error(mark, f"YAML syntax: {exc.problem or exc.context}")
        return None, reading.problems
    if root is None:
        reading.problems.append(Problem(file, 1, 1, "error", "the file is empty"))
        return None, reading.problems
    _control_checks(reading, root)
    top = reading.mapping(root, "a tree")
    if not top:
        reading.problems.sort(key=lambda p: (p.line, p.column))
        return None, reading.problems
    _unknown_keys(reading, top, _TOP_KEYS, "a tree")
    _missing(reading, root, top, ("id", "title", "version", "start", "nodes"), "a tree")
    tree_id = reading.text(top.get("id"), "id", template=False)
    if tree_id is not None and not _NAME.match(tree_id):
        reading.error(top["id"][1], f"tree id {tree_id!r} must be letters, digits, '.', '_', '-'")
    version = reading.integer(top.get("version"), "version", 1, MAX_VERSION)
    category = reading.text(top.get("category"), "category", template=False)
    if category is not None and check_category is not None:
        try:
            check_category(category)
        except BadInput as exc:
            reading.error(top["category"][1], str(exc))
    nodes: dict[str, Node] = {}
    keys: dict[str, ScalarNode] = {}
    if "nodes" in top:
        for name, (key, value) in reading.mapping(top["nodes"][1], "nodes", "node id").items():
            keys[name] = key
            node = _node(reading, name, key, value)
            if node is not None:
                nodes[name] = node
    start = reading.text(top.get("start"), "start", template=False)
    if start is not None and start not in keys:
        reading.error(top["start"][1], f"start names no node {start!r}")
    _graph_checks(reading, start, nodes, keys)
    _variable_checks(reading, nodes, start)
    reading.problems.sort(key=lambda p: (p.line, p.column))
    if any(p.severity == "error" for p in reading.problems):
        return None, reading.problems
    assert tree_id is not None and version is not None and start is not None  # noqa: S101
    tree = Tree(
        id=tree_id,
        title=reading.text(top["title"], "title", template=False) or "",
        version=version,
        category=category or "",
        start=start,
        nodes=nodes,
        digest=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=text,
        positions={
            name: (key.start_mark.line + 1, key.start_mark.column + 1) for name, key in keys.items()
        },
    )
    return tree, reading.problems


def read_tree_file(
    path: Path,
    catalog: RecipeCatalog,
    known_trees: Collection[str] | None = None,
    check_category: Callable[[str], object] | None = None,
) -> tuple[Tree | None, list[Problem]]:
    try:
        text = read_text_file(path, "the tree")
    except UnreadableFile as exc:
        return None, [Problem(str(path), 1, 1, "error", f"cannot read the file: {exc.reason}")]
    return read_tree(text, str(path), catalog, known_trees, check_category)


def tree_id_of(text: str) -> str | None:
    """The `id` of a tree file without validating it (to know which trees a goto may name)."""
    try:
        data = safe_load(text, _LOADER)
    except yaml.YAMLError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _backwards(incoming: Mapping[K, list[K]], ends: list[K]) -> set[K]:
    """`ends` and everything from which an edge path leads to one of them."""
    reaches, todo = set(ends), list(ends)
    while todo:
        for before in incoming.get(todo.pop(), []):
            if before not in reaches:
                reaches.add(before)
                todo.append(before)
    return reaches


def goto_traps(trees: Mapping[str, Tree], files: Mapping[str, str]) -> list[Problem]:
    """Gotos from which no terminal can be reached through the trees they continue in.

    A tree's own check counts a goto as an exit; this one follows it into `trees` (every tree a
    goto may name, by id) and reports, for each tree in `files` (id → file), a goto whose way
    on only goes round: A → B → A, or a tree going to itself, without a resolve or escalate.
    """
    incoming: dict[tuple[str, str], list[tuple[str, str]]] = {}
    ends: list[tuple[str, str]] = []
    for tree in trees.values():
        for node in tree.nodes.values():
            after = [(tree.id, name) for name in node.successors()]
            target = trees.get(node.tree or "") if node.type is NodeType.GOTO else None
            if target is not None:
                after.append((target.id, target.start))
            elif node.type in EXITS:  # a terminal, or a goto to an unknown tree (its own error)
                ends.append((tree.id, node.id))
            for successor in after:
                incoming.setdefault(successor, []).append((tree.id, node.id))
    reaches = _backwards(incoming, ends)
    problems = []
    for tree_id, file in files.items():
        tree = trees[tree_id]
        for node in tree.nodes.values():
            if node.type is NodeType.GOTO and (tree_id, node.id) not in reaches:
                line, column = tree.positions.get(node.id, (1, 1))
                chain = " → ".join(_goto_chain(trees, tree_id, node.tree or ""))
                problems.append(
                    Problem(
                        file,
                        line,
                        column,
                        "error",
                        f"no terminal can be reached from node {node.id!r}: the trees it "
                        f"continues in only go round ({chain}), a trap cycle",
                    )  # fmt: skip
                )
    return problems


def _goto_chain(trees: Mapping[str, Tree], first: str, target: str) -> list[str]:
    """The trees a goto from `first` to `target` passes, up to the first one met again."""
    chain = [first]
    while target in trees and target not in chain:
        chain.append(target)
        tree = trees[target]
        target = next(
            (n.tree or "" for n in _walk(tree.nodes, tree.start) if n.type is NodeType.GOTO), ""
        )
    return [*chain, target] if target else chain


def _walk(nodes: Mapping[str, Node], start: str) -> list[Node]:
    """The nodes reachable from `start`, nearest first."""
    seen, order, todo = {start}, [], deque([start])
    while todo:
        node = nodes[todo.popleft()]
        order.append(node)
        for name in node.successors():
            if name in nodes and name not in seen:
                seen.add(name)
                todo.append(name)
    return order
