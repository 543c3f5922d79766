"""Stored and remote text cannot drive the terminal: control characters reach it visibly.

Hostile text goes into every stored field the CLI prints (ticket, worklog, requester, recipe,
tree, conflict) and comes back from a real sshd; the text output may hold no escape, bell,
carriage return, C1 or bidi control, while --json keeps the exact text.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.recipes import HELLO_ID, HELLO_RECIPE, HELLO_TREE, HELLO_TREE_ID
from tests.support.sshd import SshServer
from tests.support.workbench import AGENT, ASSET, REQUESTER
from workbench.cli import run
from workbench.resources import load_policy
from workbench.services.tickets import TicketService
from workbench.store import Store, schema

# An OSC 52 clipboard write, a screen clear, a carriage return, an 8-bit CSI and a bidi override.
HOSTILE = "Printer\x1b]52;c;aGVsbG8=\x07\x1b[2J jam\r\x9b2J \u202eevil\u2066"
HOSTILE_SHOWN = "Printer^[]52;c;aGVsbG8=^G^[[2J jam^M<U+009B>2J <U+202E>evil<U+2066>"
# The same in a YAML double-quoted scalar (\e is ESC, \a BEL).
HOSTILE_YAML = r'"Printer\e]52;c;aGVsbG8=\a\e[2J jam\r\x9b2J \u202eevil\u2066"'
# Written independently of workbench.core.display, so the test does not trust its pattern.
DRIVES_A_TERMINAL = re.compile("[\x1b\x07\r\x80-\x9f\u202a-\u202e\u2066-\u2069]")

HOSTILE_RECIPE_ID = "site.hostile-output"
HOSTILE_RECIPE = f"""\
id: {HOSTILE_RECIPE_ID}
title: {HOSTILE_YAML}
protocol: ssh
shell: sh
script: |
  printf '\\033]52;c;aGk=\\007\\033[2Jdone\\r\\n'
  printf '\\033[31mred\\033[0m\\n' >&2
"""


def wb(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = run(["--data-dir", str(data_dir), "--as", AGENT.login, *args])
    out, err = capsys.readouterr()
    return code, out, err


def shown(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> str:
    """The text output of a command that succeeds; nothing in it may drive the terminal."""
    code, out, err = wb(capsys, data_dir, *args)
    assert code == 0, out + err
    assert DRIVES_A_TERMINAL.search(out) is None, out
    assert DRIVES_A_TERMINAL.search(err) is None, err
    return out


def exact(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> Any:
    """The --json output: exact text once decoded, yet no raw control character on the wire."""
    out = shown(capsys, data_dir, *args, "--json")
    return json.loads(out)


def _import(data_dir: Path, kind: str, path: Path) -> None:
    assert run(["--data-dir", str(data_dir), "--as", AGENT.login, kind, "import", str(path)]) == 0


@pytest.fixture
def hostile_cache(store: Store, data_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A cache with HOSTILE in a ticket, its note, its requester, a recipe, a tree, a conflict."""
    requester = replace(REQUESTER, id="req-hostile", name=f"Dana {HOSTILE}", email="h@a.example")
    with store.write() as tx:
        tx.load_snapshot(requesters=[requester])
    service = TicketService(store, load_policy(), AGENT.login)
    ticket = service.create(title=HOSTILE, category="hardware", impact=3, urgency=2,
                            requester=requester.email, asset=ASSET.tag).ticket  # fmt: skip
    service.update(ticket.id, {"description": f"Description {HOSTILE}\nsecond line"})
    service.note(ticket.id, f"Note {HOSTILE}")
    with store.write() as tx:
        tx._db.execute(
            schema.conflicts.insert().values(
                id=1, entity="tickets", entity_id=ticket.id, field="title",
                their_value=json.dumps(HOSTILE), their_author=f"ben{HOSTILE}",
                mine_value=json.dumps("mine"), my_author=AGENT.login,
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    store.close()
    recipe = tmp_path / "hello.yaml"
    recipe.write_text(HELLO_RECIPE + f"description: {HOSTILE_YAML}\n", "utf-8")
    tree = tmp_path / "tree.yaml"
    tree.write_text(HELLO_TREE)
    for kind, path in (("recipe", recipe), ("tree", tree)):
        _import(data_dir, kind, path)
    # `tree import` refuses control characters; a stored row (pulled from a central) may not.
    reopened = Store.open(data_dir)
    with reopened.write() as tx:
        tx._db.execute(schema.trees.update().values(title=HOSTILE))
    reopened.close()
    return data_dir, ticket.ref


def test_ticket_show_list_and_search_show_escapes_visibly(
    capsys: pytest.CaptureFixture[str], hostile_cache: tuple[Path, str]
) -> None:
    cache, ref = hostile_cache
    out = shown(capsys, cache, "ticket", "show", ref)
    assert f"{ref}  {HOSTILE_SHOWN}" in out
    assert f"Description {HOSTILE_SHOWN}\n  second line" in out
    assert f"Note {HOSTILE_SHOWN}" in out and f"Dana {HOSTILE_SHOWN}" in out
    data = exact(capsys, cache, "ticket", "show", ref)
    assert data["ticket"]["title"] == HOSTILE
    assert data["ticket"]["description"] == f"Description {HOSTILE}\nsecond line"
    assert data["requester"]["name"] == f"Dana {HOSTILE}"
    assert data["worklog"][-1]["text"] == f"Note {HOSTILE}"

    assert "Printer^[]52;c;" in shown(capsys, cache, "ticket", "list")
    [listed] = exact(capsys, cache, "ticket", "list")["tickets"]
    assert listed["title"] == HOSTILE and listed["requester_name"] == f"Dana {HOSTILE}"

    assert "Printer^[]52;c;" in shown(capsys, cache, "search", "printer")
    [hit] = exact(capsys, cache, "search", "printer")["hits"]
    assert hit["title"] == HOSTILE


def test_conflicts_recipes_and_trees_show_escapes_visibly(
    capsys: pytest.CaptureFixture[str], hostile_cache: tuple[Path, str]
) -> None:
    cache, _ref = hostile_cache
    assert f"ben{HOSTILE_SHOWN}" in shown(capsys, cache, "conflicts", "list")
    [conflict] = exact(capsys, cache, "conflicts", "list")["conflicts"]
    assert conflict["their_value"] == HOSTILE and conflict["their_author"] == f"ben{HOSTILE}"

    assert shown(capsys, cache, "recipe", "show", HELLO_ID).splitlines()[1] == HOSTILE_SHOWN
    assert exact(capsys, cache, "recipe", "show", HELLO_ID)["description"] == HOSTILE
    shown(capsys, cache, "recipe", "list")

    assert HOSTILE_SHOWN in shown(capsys, cache, "tree", "list")
    trees = exact(capsys, cache, "tree", "list")["trees"]
    assert [t["title"] for t in trees if t["id"] == HELLO_TREE_ID] == [HOSTILE]


def test_tree_run_shows_check_output_visibly(
    capsys: pytest.CaptureFixture[str], hostile_cache: tuple[Path, str], tmp_path: Path
) -> None:
    cache, ref = hostile_cache
    answers = tmp_path / "answers.yaml"
    answers.write_text(r'greet: {exit_code: 0, stdout: "hello \e]52;c;aGk=\a\e[2J"}' + "\n")
    out = shown(capsys, cache, "tree", "run", HELLO_TREE_ID, "--ticket", ref,
                "--answers", str(answers), "--propose-only")  # fmt: skip
    assert "hello ^[]52;c;aGk=^G^[[2J" in out
    data = exact(capsys, cache, "tree", "run", HELLO_TREE_ID, "--ticket", ref,
                 "--answers", str(answers), "--propose-only", "--restart")  # fmt: skip
    assert "hello \x1b]52;c;aGk=\x07\x1b[2J" in data["transcript"]


@pytest.mark.services
def test_remote_output_is_shown_visibly(
    capsys: pytest.CaptureFixture[str], store: Store, data_dir: Path, sshd_server: SshServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    store.close()
    recipe = tmp_path / "hostile.yaml"
    recipe.write_text(HOSTILE_RECIPE, "utf-8")
    _import(data_dir, "recipe", recipe)
    capsys.readouterr()
    login = ["--user", sshd_server.username, "--identity", str(sshd_server.client_key_path)]
    target = ["--host", sshd_server.host, "--port", str(sshd_server.port), *login]
    code, out, err = wb(capsys, data_dir, "remote", "run", HOSTILE_RECIPE_ID, *target,
                        "--accept-host-key", sshd_server.host_key_fingerprint)  # fmt: skip
    assert code == 0, out + err
    assert DRIVES_A_TERMINAL.search(out + err) is None, out + err
    assert out.splitlines()[0] == "^[]52;c;aGk=^G^[[2Jdone"
    assert err.splitlines() == ["^[[31mred^[[0m"]

    result = exact(capsys, data_dir, "remote", "run", HOSTILE_RECIPE_ID, *target)
    assert result["stdout_tail"][0] == "\x1b]52;c;aGk=\x07\x1b[2Jdone"

    good = f"{sshd_server.host}:{sshd_server.port}"
    out = shown(capsys, data_dir, "remote", "fanout", HOSTILE_RECIPE_ID, "--host", good, *login)
    assert f"{sshd_server.host} | ^[]52;c;aGk=^G^[[2Jdone" in out
    assert "1 of 1 hosts ok" in out


def test_an_error_that_quotes_what_was_typed_shows_it_visibly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = wb(capsys, tmp_path, "ticket", "show", HOSTILE)
    assert code == 2 and out == ""
    assert err.startswith("workbench: error: no ticket")  # the ref shown, escaped
    assert DRIVES_A_TERMINAL.search(err) is None, err
