"""Bounded patterns (issue 23): ReDoS shapes refused when a tree or recipe is read, and every
match of an answer, a parameter value or a check's output held to a deadline."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_remote_cli import wb
from tests.support.recipes import catalog_from_dir
from workbench.core import patterns
from workbench.core.errors import BadInput
from workbench.core.yaml_loader import safe_load
from workbench.remote.recipes import Param, ParamType
from workbench.resources import RESOURCES
from workbench.store import Store
from workbench.trees.loader import read_tree, read_tree_file
from workbench.trees.model import Tree
from workbench.trees.runner import CheckResult, Run

SHIPPED = sorted((RESOURCES / "trees").glob("*.yaml")) + sorted(
    (RESOURCES / "recipes").glob("*.yaml")
)
CATALOG = catalog_from_dir(RESOURCES / "recipes")
# A shipped check pattern (remote-connection) and an output a hostile host can send it: `.*`
# runs to the end of the line from every "Certificate", so the work grows with its square.
CERTIFICATE = "Certificate.*(Expired|Missing)"
HOSTILE_OUTPUT = "Certificate " * 20_000


def _patterns_in(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("pattern", "stdout_matches", "stderr_matches") and isinstance(item, str):
                yield item
            else:
                yield from _patterns_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _patterns_in(item)


SHIPPED_PATTERNS = sorted(
    {p for path in SHIPPED for p in _patterns_in(safe_load(path.read_text(encoding="utf-8")))}
)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"^(a+)+$", "a quantifier inside a quantified group"),
        (r"(a*)*", "a quantifier inside a quantified group"),
        (r"(\w+\s?)*$", "a quantifier inside a quantified group"),
        (r"((a+)?)+", "a quantifier inside a quantified group"),
        (r"(\d+|\w+)*", "a quantifier inside a quantified group"),
        (r"(a|a)*", "alternatives that can match the same text"),
        (r"^(a|aa)+$", "alternatives that can match the same text"),
        (r"(a|)+", "alternatives that can match the same text"),
        (r"(x+x+)+y", "two quantifiers that can match the same text next to each other"),
        (r"^(\d+\.\d+)+$", "two quantifiers that can match the same text next to each other"),
        (r"(abc", "missing ), unterminated subpattern"),
        ("a" * (patterns.MAX_PATTERN_LENGTH + 1), "longer than 500 characters"),
    ],
)
def test_dangerous_or_invalid_patterns_are_refused_with_the_reason(
    pattern: str, reason: str
) -> None:
    with pytest.raises(patterns.UnsafePattern, match="^" + re.escape(reason)):
        patterns.compile_pattern(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a|ab)*",
        r"(?:\d+\.){3}\d+",
        r"^[a-z]+(?:-[a-z]+)*$",
        r"(\w+\s)*",
        r"(?>a+)+",
        r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+$",
    ],
)
def test_safe_repetitions_are_accepted(pattern: str) -> None:
    patterns.compile_pattern(pattern)


def test_every_pattern_of_the_shipped_trees_and_recipes_is_accepted() -> None:
    assert len(SHIPPED_PATTERNS) >= 15  # the collection found them
    for pattern in SHIPPED_PATTERNS:
        patterns.compile_pattern(pattern)


def test_matches_mean_what_re_search_and_re_fullmatch_mean() -> None:
    assert patterns.is_found("Error|Paused", "HP-3F  Paused")
    assert not patterns.is_found("(?m)^Problem:", "no Problem: here")
    assert patterns.is_found("spooler: (?!Running)", "spooler: Stopped")
    assert patterns.is_full_match("[0-9A-Fa-f]{4}", "00ab")
    assert not patterns.is_full_match("[0-9A-Fa-f]{4}", "00abc")


def test_a_match_stops_at_the_deadline() -> None:
    started = time.perf_counter()
    with pytest.raises(patterns.MatchTimeout, match="in time"):
        patterns.is_found(CERTIFICATE, HOSTILE_OUTPUT)
    assert time.perf_counter() - started < 1.0


# -- through the real entry points ------------------------------------------------------------

REDOS_TREE = """\
id: redos
title: An input with a dangerous pattern
version: 1
start: account
nodes:
  account:
    type: input
    text: Account name
    var: account
    pattern: '^(a+)+$'
    next: done
  done:
    type: resolve
    resolution: Checked {{account}}
"""


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def test_tree_validate_refuses_a_redos_pattern_at_its_position(
    capsys: pytest.CaptureFixture[str], cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / "redos.yaml"
    path.write_text(REDOS_TREE, encoding="utf-8")
    code, out, _err = wb(capsys, cache, "tree", "validate", str(path))
    assert code == 1
    assert f"{path}:10:14: error: invalid pattern regex in " in out
    assert "a quantifier inside a quantified group" in out


@pytest.fixture
def remote_connection() -> Tree:
    tree, problems = read_tree_file(RESOURCES / "trees" / "remote-connection.yaml", CATALOG)
    assert tree is not None, problems
    return tree


class HostileHost:
    def run(self, _recipe: str, _host: str, _params: Mapping[str, str]) -> CheckResult:
        return CheckResult(0, HOSTILE_OUTPUT)


def test_a_check_meeting_hostile_output_ends_in_time_and_says_why(
    remote_connection: Tree,
) -> None:
    context = {"ticket.asset.hostname": "OLY-ACC-LT0421"}
    run = Run(remote_connection, context, lambda _id: remote_connection, _clock)
    run.answer("VPN")
    run.answer("Yes")
    run.answer("Certificate or other error")
    assert run.node.id == "vpn-client"
    started = time.perf_counter()
    step = run.run_check(HostileHost())
    assert time.perf_counter() - started < 2.0  # one deadline per pattern tried
    assert step is not None and step.next_node == "vpn-escalate"  # the otherwise branch
    assert "stdout_matches 'Certificate.*(Expired|Missing)' not taken" in step.note
    assert "could not be checked against the pattern in time" in run.transcript()


def test_an_answer_that_cannot_be_checked_in_time_is_refused() -> None:
    tree, problems = read_tree(
        REDOS_TREE.replace("'^(a+)+$'", f"'{CERTIFICATE}'"), "slow.yaml", CATALOG
    )
    assert tree is not None, problems
    run = Run(tree, {}, lambda _id: tree, _clock)
    started = time.perf_counter()
    with pytest.raises(BadInput, match="the answer could not be checked against the pattern"):
        run.enter(HOSTILE_OUTPUT)
    assert time.perf_counter() - started < 1.0


def test_a_recipe_parameter_pattern_is_matched_whole() -> None:
    account = Param("account", ParamType.STRING, pattern="[A-Za-z0-9._-]{1,64}")
    assert account.check("j.doe") == "j.doe"
    with pytest.raises(BadInput, match="does not match"):
        account.check("j doe")


def _clock() -> datetime:
    return datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
