"""One safe, bounded YAML loader for every file the workbench reads: libyaml's when installed.

The C loader parses the shipped recipes and trees several times faster than the pure-Python
one (it matters at window start); both are safe loaders and both keep line and column marks.

Bounds (issue 23). Trees, recipes and policies arrive from other people's laptops, so a file
is refused, with the line and column of the cause, when it is over MAX_BYTES or when its aliases
make it stand for too much. An alias names a node composed earlier, so a few lines of nested
aliases ("billion laughs") stand for billions of nodes: composing shares the node and stays
cheap, but anything that walks, copies or serialises the result expands every use. The C
composer cannot be told to count, so the document is composed by it first and its node graph
checked for a node reached twice, which only an alias makes (a file without `*` has none). Only
such a document is composed again by `_BoundedLoader`, which counts alias uses and the nodes
after expansion as it goes and stops at the alias that goes over, before building anything.

Every error leaves as a YamlError: PyYAML's own text spans lines and names "<unicode string>",
and its ReaderError (a control character) has no line at all. A YamlError has a mark and one
line of text, so every caller reports it as `FILE:LINE:COL: problem` (see `located`).
"""

from __future__ import annotations

from itertools import chain
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, SequenceNode
from yaml.reader import ReaderError

from workbench.core.files import MAX_TEXT_BYTES

SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = MAX_TEXT_BYTES  # the bound of a file named by the user
MAX_ALIASES = 1_000
# The largest shipped file, demo.yaml, has about 3,000 nodes.
MAX_EXPANDED_NODES = 100_000


class YamlError(yaml.MarkedYAMLError):
    """A document refused: `problem` and `problem_mark` are always set; its text is one line."""

    def __init__(self, problem: str, mark: Any) -> None:  # a C or a Python loader's mark
        super().__init__(problem=problem, problem_mark=mark)
        self.mark = mark

    def __str__(self) -> str:
        where = f"line {self.mark.line + 1}, column {self.mark.column + 1}"
        return f"{where}: {' '.join(str(self.problem).split())}"


class YamlBoundError(YamlError, ComposerError):
    """A document over one of the bounds, reported as a syntax error is."""


def located(error: yaml.MarkedYAMLError, where: str) -> str:
    """`WHERE:LINE:COL: not valid YAML: problem`, one line, for an error of the document read
    from `where`."""
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = " ".join(str(error.problem or error.context or "").split()) or "a syntax error"
    return f"{where}:{line}:{column}: not valid YAML: {problem}"


def _one_line(error: yaml.YAMLError, text: str) -> YamlError:
    """`error` as a YamlError with a mark: a ReaderError's is found from its character."""
    if isinstance(error, YamlError):
        return error
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark or _mark_at(text, 0)
        return YamlError(str(error.problem or error.context or "a syntax error"), mark)
    if isinstance(error, ReaderError):
        character = error.character
        found = text.find(chr(character) if isinstance(character, int) else str(character))
        code = ord(character) if isinstance(character, str) else character
        return YamlError(
            f"unacceptable character #x{code:04x}: {error.reason}", _mark_at(text, max(found, 0))
        )
    return YamlError(str(error).splitlines()[0] if str(error) else "a syntax error",
                     _mark_at(text, 0))  # fmt: skip


def _mark_at(text: str, index: int) -> yaml.Mark:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return yaml.Mark("<text>", index, line, column, None, 0)


class _BoundedLoader(yaml.SafeLoader):
    """The pure-Python safe loader, counting while it composes (see the module docstring)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._aliases = 0
        self._expanded = 0  # nodes so far, each alias counted as the nodes it names
        self._expanded_size: dict[int, int] = {}  # id of a finished node -> nodes it stands for

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
        if isinstance(event, yaml.AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        before = self._expanded
        self._grow(1, event.start_mark, "the document has")
        node = super().compose_node(parent, index)
        self._expanded_size[id(node)] = self._expanded - before
        return node

    def _count_alias(self, event: yaml.AliasEvent) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            return  # an undefined alias: the composer reports it
        self._aliases += 1
        if self._aliases > MAX_ALIASES:
            raise YamlBoundError(f"more than {MAX_ALIASES} aliases", event.start_mark)
        size = self._expanded_size.get(id(node))
        if size is None:
            raise YamlBoundError(
                f"alias *{event.anchor} is used inside the node it names (a structure without end)",
                event.start_mark,
            )
        self._grow(size, event.start_mark, f"alias *{event.anchor} makes the document")

    def _grow(self, nodes: int, mark: Any, what: str) -> None:
        self._expanded += nodes
        if self._expanded > MAX_EXPANDED_NODES:
            raise YamlBoundError(
                f"{what} more than {MAX_EXPANDED_NODES} nodes once aliases are expanded", mark
            )


def _shares_nodes(root: yaml.Node) -> bool:
    """Whether some node is reached twice: the document uses an alias (maybe recursively)."""
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, MappingNode):
            todo.extend(chain.from_iterable(node.value))
    return False


def _check_size(text: str) -> None:
    # A character is at most 4 bytes in UTF-8: most texts need no encoding to be measured.
    if len(text) * 4 > MAX_BYTES and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise YamlBoundError(f"the file is larger than {MAX_BYTES // 1024} KiB", _mark_at(text, 0))


def open_document(text: str, loader: Any = SafeLoader) -> tuple[Any, yaml.Node | None]:
    """The single document of `text` as (a loader to construct it with, its root node, None
    for an empty text); the caller disposes the loader. `loader` is a SafeLoader subclass.

    Raises a YamlError (YamlBoundError when over a bound) for a document refused.
    """
    _check_size(text)
    try:
        fast = loader(text)
    except UnicodeEncodeError as exc:  # libyaml takes UTF-8; a lone surrogate has none
        raise YamlError("not UTF-8 text (a lone surrogate)", _mark_at(text, exc.start)) from None
    try:
        root = fast.get_single_node()
    except yaml.YAMLError as exc:
        fast.dispose()
        raise _one_line(exc, text) from None
    except BaseException:
        fast.dispose()
        raise
    if root is None or "*" not in text or not _shares_nodes(root):
        return fast, root
    fast.dispose()
    bounded = _BoundedLoader(text)
    try:
        return bounded, bounded.get_single_node()
    except yaml.YAMLError as exc:
        bounded.dispose()
        raise _one_line(exc, text) from None
    except BaseException:
        bounded.dispose()
        raise


def compose(text: str, loader: Any = SafeLoader) -> yaml.Node | None:
    """The root node of `text` (positions kept), within the bounds; see open_document."""
    document, root = open_document(text, loader)
    document.dispose()
    return root


def safe_load(text: str, loader: Any = SafeLoader) -> Any:
    """The Python value of `text`, within the bounds; see open_document."""
    document, root = open_document(text, loader)
    try:
        return None if root is None else document.construct_document(root)
    except yaml.YAMLError as exc:  # e.g. an unknown tag, an unhashable key
        raise _one_line(exc, text) from None
    finally:
        document.dispose()
