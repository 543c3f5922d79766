"""Bounded YAML (issue 23): alias bombs and oversized files refused fast, with their position,
in bounded memory; the shipped files still load, with the C loader."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from tests.cli.test_remote_cli import wb
from workbench.core import yaml_loader
from workbench.core.errors import BadInput
from workbench.core.policy import policy_from_text
from workbench.core.yaml_loader import YamlBoundError, compose, open_document, safe_load
from workbench.resources import RESOURCES
from workbench.store import Store
from workbench.trees.loader import read_tree
from workbench.trees.recipes import NO_CATALOG

SHIPPED = [
    *sorted((RESOURCES / "trees").glob("*.yaml")),
    *sorted((RESOURCES / "recipes").glob("*.yaml")),
    RESOURCES / "sla.yaml",
    RESOURCES / "demo.yaml",
]


def billion_laughs(key: str = "", indent: str = "") -> str:
    """Nine levels of nine aliases each: 9**9 strings once expanded, from nine short lines.
    With `key`, the levels sit under that key, at `indent`."""
    lines = [f"{key}:"] if key else []
    lines.append(f"{indent}a: &a [x, x, x, x, x, x, x, x, x]")
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{indent}{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_fast_at_the_alias_that_goes_over() -> None:
    started = time.perf_counter()
    with pytest.raises(YamlBoundError) as refused:
        safe_load(billion_laughs())
    assert time.perf_counter() - started < 1.0
    assert "alias *e makes the document more than 100000 nodes" in str(refused.value.problem)
    mark = refused.value.problem_mark
    assert mark is not None and (mark.line + 1, mark.column + 1) == (6, 8)  # the first *e


def test_refusing_an_alias_bomb_takes_little_memory() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(YamlBoundError):
            safe_load(billion_laughs())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 * 1024 * 1024


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(YamlBoundError, match="used inside the node it names"):
        compose("a: &a [1, *a]\n")


def test_too_many_aliases_are_refused() -> None:
    uses = ", ".join(["*x"] * (yaml_loader.MAX_ALIASES + 1))
    with pytest.raises(YamlBoundError, match="more than 1000 aliases"):
        safe_load(f"x: &x 1\nuses: [{uses}]\n")


def test_a_few_aliases_still_load() -> None:
    assert safe_load("base: &base {retries: 3}\nfirst: *base\nsecond: {<<: *base, extra: 1}\n") == {
        "base": {"retries": 3},
        "first": {"retries": 3},
        "second": {"retries": 3, "extra": 1},
    }


@pytest.mark.parametrize(
    "text",
    ["#" * yaml_loader.MAX_BYTES + "\n", "# " + "é" * (yaml_loader.MAX_BYTES // 2) + "\n"],
    ids=["ascii", "two-byte characters"],
)
def test_a_file_over_the_size_cap_is_refused_at_its_start(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(YamlBoundError, match="larger than 1024 KiB") as refused:
        safe_load(text)
    assert time.perf_counter() - started < 1.0
    mark = refused.value.problem_mark
    assert mark is not None and (mark.line, mark.column) == (0, 0)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_the_shipped_files_load_with_the_c_loader(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    loader, root = open_document(text)
    loader.dispose()
    assert root is not None
    assert isinstance(loader, yaml_loader.SafeLoader)  # no alias: no pure-Python second pass
    assert safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506


# -- through the real entry points ------------------------------------------------------------

RECIPE = """\
id: site.laughs
title: A parameter description that is an alias bomb
protocol: ssh
shell: sh
params:
  name:
    type: string
    description:
{bomb}script: echo {{{{name}}}}
"""


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def test_recipe_validate_refuses_an_alias_bomb_at_its_position(
    capsys: pytest.CaptureFixture[str], cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(RECIPE.format(bomb=billion_laughs(indent="      ")), encoding="utf-8")
    started = time.perf_counter()
    code, out, _err = wb(capsys, cache, "recipe", "validate", str(path))
    assert time.perf_counter() - started < 2.0
    assert code != 0
    # Line 14 of the file is level f; its first alias (*e) is the one that goes over.
    assert f"{path}:14:14: invalid YAML: alias *e makes the document more than" in out


def test_an_sla_policy_with_an_alias_bomb_is_refused_at_its_position() -> None:
    text = (RESOURCES / "sla.yaml").read_text(encoding="utf-8") + billion_laughs("laughs", "  ")
    where = len(text.splitlines()) - 9 + 6  # the line of level f in the appended bomb
    with pytest.raises(BadInput, match=rf"^sla\.yaml:{where}:10: not valid YAML: alias \*e"):
        policy_from_text(text, "sla.yaml")


def test_a_tree_with_an_alias_bomb_is_a_located_error() -> None:
    tree, problems = read_tree(billion_laughs(), "laughs.yaml", NO_CATALOG)
    assert tree is None
    assert [(p.line, p.column, p.severity) for p in problems] == [(6, 8, "error")]
