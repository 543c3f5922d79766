"""`workbench tree ...` through a real subprocess: validate, list, import, run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli.test_cli import assert_one_line_error, new_args, ok_json, workbench
from tests.support.sshd import SshServer
from tests.support.trees import HEALTH_TREE, HEALTH_TREE_ID
from tests.support.workbench import ASSET, REQUESTER
from workbench.remote.hostkeys import KnownHosts
from workbench.resources import RESOURCES
from workbench.store import Store

FIXTURES = Path(__file__).parent.parent / "unit" / "trees" / "fixtures"
LIBRARY = sorted((RESOURCES / "trees").glob("*.yaml"))


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


@pytest.fixture
def ticket_ref(cache: Path) -> str:
    created = ok_json(
        cache,
        *new_args(
            "Printer on 3F prints nothing",
            "printing",
            "3",
            "2",
            "--requester",
            REQUESTER.email,
            "--asset",
            ASSET.tag,
        ),  # fmt: skip
    )
    return str(created["ticket"]["ref"])


def _answers(tmp_path: Path, name: str, answers: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(answers))
    return str(path)


def test_validate_prints_every_problem_and_exits_1(cache: Path) -> None:
    paths = [str(FIXTURES / "dangling_next.yaml"), str(FIXTURES / "trap_cycle.yaml")]
    result = workbench(cache, "tree", "validate", *paths)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"{paths[0]}:11:29: error: next names no node 'dnoe'",
        f"{paths[1]}:12:3: error: no terminal can be reached from node 'wait' (a trap cycle)",
        f"{paths[1]}:16:3: error: no terminal can be reached from node 'again' (a trap cycle)",
    ]
    assert lines[-1] == "2 files: 3 errors, 0 warnings"


def test_validate_warning_only_and_library_exit_0(cache: Path) -> None:
    result = workbench(cache, "tree", "validate", str(FIXTURES / "unreachable.yaml"))
    assert result.returncode == 0 and ":9:3: warning: node 'orphan'" in result.stdout
    library = workbench(cache, "tree", "validate", *map(str, LIBRARY), "--json")
    assert library.returncode == 0, library.stdout
    assert json.loads(library.stdout)["problems"] == []


def test_list_and_import(cache: Path, tmp_path: Path) -> None:
    listed = ok_json(cache, "tree", "list")["trees"]
    assert len(listed) == len(LIBRARY) and {t["origin"] for t in listed} == {"library"}
    broken = workbench(cache, "tree", "import", str(FIXTURES / "duplicate_node.yaml"))
    assert_one_line_error(broken, 2, "nothing imported: 1 error in the trees")
    assert ":9:3: error: duplicate node id 'done'" in broken.stdout
    mine = tmp_path / "printer.yaml"
    mine.write_text(
        (RESOURCES / "trees" / "printer-not-printing.yaml")
        .read_text()
        .replace("version: 2", "version: 3")
    )
    imported = ok_json(cache, "tree", "import", str(mine))
    assert imported["trees"] == [{"id": "printer-not-printing", "version": 3, "result": "imported"}]
    by_id = {t["id"]: t for t in ok_json(cache, "tree", "list")["trees"]}
    assert (by_id["printer-not-printing"]["origin"], by_id["printer-not-printing"]["version"]) == (
        "cache",
        3,
    )


def test_run_pauses_resumes_and_resolves(cache: Path, ticket_ref: str, tmp_path: Path) -> None:
    first = _answers(tmp_path, "a1.yaml", {"powered": "Yes", "others": "Yes", "hostname": None})
    paused = ok_json(
        cache, "tree", "run", "printer-not-printing", "--ticket", ticket_ref, "--answers", first
    )
    assert (paused["status"], paused["node"], paused["resumed"]) == ("paused", "queue", False)
    assert paused["steps"][-1]["answer"] == ASSET.hostname  # the default from the ticket
    rest = _answers(
        tmp_path,
        "a2.yaml",
        {
            "queue": {"exit_code": 0, "stdout": "HP-3F  Paused"},
            "clear": "done",
            "test-page": ["No", "Yes"],
            "driver": "done",  # a branch named by hand, though it leads to no such node
        },
    )
    refused = workbench(
        cache, "tree", "run", "printer-not-printing", "--ticket", ticket_ref, "--answers", rest
    )
    assert_one_line_error(refused, 2, "'done' is not a branch of 'driver'")
    rest = _answers(
        tmp_path,
        "a3.yaml",
        {"queue": {"exit_code": 0, "stdout": "HP-3F  Paused"}, "clear": "done", "test-page": "Yes"},
    )
    done = ok_json(
        cache, "tree", "run", "printer-not-printing", "--ticket", ticket_ref, "--answers", rest
    )
    assert (done["status"], done["resumed"], done["proposal"]["kind"]) == (
        "applied",
        True,
        "resolve",
    )
    assert "(answered by hand)" in done["transcript"] and "HP-3F  Paused" in done["transcript"]
    assert "not available" not in done["transcript"]
    shown = ok_json(cache, "ticket", "show", ticket_ref)
    assert shown["ticket"]["status"] == "resolved"
    kinds = [w["kind"] for w in shown["worklog"]]
    assert "tree_transcript" in kinds


def test_run_errors_are_one_line(cache: Path, ticket_ref: str, tmp_path: Path) -> None:
    answers = _answers(tmp_path, "a.yaml", {"powered": "Yes", "others": "Yes", "hostname": "x y"})
    bad = workbench(
        cache, "tree", "run", "printer-not-printing", "--ticket", ticket_ref, "--answers", answers
    )
    assert_one_line_error(bad, 2, "'x y' is refused for 'hostname': a hostname such as")
    unknown = workbench(
        cache, "tree", "run", "no-such-tree", "--ticket", ticket_ref, "--answers", answers
    )
    assert_one_line_error(unknown, 2, "no tree 'no-such-tree'")
    # The refused answers changed nothing: the run starts from the beginning.
    empty = _answers(tmp_path, "none.yaml", {"unrelated": 1})
    fresh = ok_json(
        cache, "tree", "run", "printer-not-printing", "--ticket", ticket_ref, "--answers", empty
    )
    assert (fresh["node"], fresh["resumed"]) == ("powered", False)


@pytest.mark.services
def test_run_with_remote_checks_through_the_assets_profile(
    store: Store, data_dir: Path, sshd_server: SshServer, tmp_path: Path
) -> None:
    loop = replace(ASSET, id="asset-loop", tag="LOOP-0001", serial="LOOP1", hostname="127.0.0.1")
    with store.write() as tx:
        tx.load_snapshot(assets=[loop])
    store.close()
    KnownHosts.in_data_dir(data_dir).add("127.0.0.1", sshd_server.port, sshd_server.host_pkey())
    tree_file = tmp_path / "linux-health.yaml"
    tree_file.write_text(HEALTH_TREE, encoding="utf-8")
    ok_json(data_dir, "tree", "import", str(tree_file))
    created = ok_json(data_dir, *new_args("Backup down", "software", "3", "3", "--requester",
                                          REQUESTER.email, "--asset", loop.tag))  # fmt: skip
    ref = created["ticket"]["ref"]
    no_answers = _answers(tmp_path, "none.yaml", {})
    # Without a profile for the asset the check cannot run: the run pauses at it.
    paused = ok_json(data_dir, "tree", "run", HEALTH_TREE_ID, "--ticket", ref, "--answers",
                     no_answers, "--remote")  # fmt: skip
    assert (paused["status"], paused["node"]) == ("paused", "diagnose")
    assert paused["not_run"] == "no credential profile for 127.0.0.1"
    said = workbench(data_dir, "tree", "run", HEALTH_TREE_ID, "--ticket", ref, "--answers",
                     no_answers, "--remote")  # fmt: skip
    assert "  not run: no credential profile for 127.0.0.1\n" in said.stdout
    assert "    visit: The diagnostics did not run (any other result)" in said.stdout
    ok_json(data_dir, "profile", "add", "lab", "--protocol", "ssh", "--user",
            sshd_server.username, "--auth", "key", "--key", str(sshd_server.client_key_path),
            "--port", str(sshd_server.port))  # fmt: skip
    ok_json(data_dir, "profile", "assign", loop.tag, "lab")
    done = ok_json(data_dir, "tree", "run", HEALTH_TREE_ID, "--ticket", ref, "--answers",
                   no_answers, "--remote")  # fmt: skip
    assert (done["status"], done["proposal"]["kind"]) == ("applied", "resolve"), done
    assert "| == failed services" in done["transcript"] and "by hand" not in done["transcript"]
    assert ok_json(data_dir, "ticket", "show", ref)["ticket"]["status"] == "resolved"


LITTLE = """\
id: {id}
title: {title}
version: {version}
category: {category}
start: {start}
nodes:
  ask:
    type: question
    text: Printer on?
    answers:
      - {{label: "Yes", next: done}}
  done:
    type: resolve
    resolution: Done
  away:
    type: goto
    tree: {goto}
"""


def little(**fields: str) -> str:
    values = {"id": "little", "title": "Little", "version": "1", "category": "printing",
              "start": "ask", "goto": "little"} | fields  # fmt: skip
    return LITTLE.format(**values)


@pytest.mark.parametrize(
    ("files", "where", "words"),
    [
        ({"a": little(title="Raw \x1b[2J")}, "a.yaml:2:12", "control character U+001B"),
        ({"a": little(title='"\\e]0;pwned\\a"')}, "a.yaml:2:9", "control character U+001B"),
        ({"a": little(title='"CSI \\u009b"')}, "a.yaml:2:13", "control character U+009B"),
        ({"a": little(version="99999999999999999999999")}, "a.yaml:3:10", "version must be"),
        ({"a": little(version=str(2**31))}, "a.yaml:3:10", "version must be"),
        ({"a": little(category="nosuchcat")}, "a.yaml:4:11", "unknown category 'nosuchcat'"),
        ({"a": little(start="away", id="a", goto="a")}, "a.yaml:15:3", "only go round (a → a)"),
        ({"a": little(start="away", id="a", goto="b"), "b": little(start="away", id="b", goto="a")},
         "a.yaml:15:3", "only go round (a → b → a)"),
    ],
)  # fmt: skip
def test_bad_trees_are_located_and_never_imported(
    cache: Path, tmp_path: Path, files: dict[str, str], where: str, words: str
) -> None:
    paths = []
    for name, text in files.items():
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(text, encoding="utf-8")
    checked = workbench(cache, "tree", "validate", *map(str, paths))
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert f"{tmp_path}/{where}: error: " in checked.stdout and words in checked.stdout
    assert "\x1b" not in checked.stdout and "internal error" not in checked.stderr
    imported = workbench(cache, "tree", "import", *map(str, paths))
    assert_one_line_error(imported, 2, "nothing imported")
    assert {t["origin"] for t in ok_json(cache, "tree", "list")["trees"]} == {"library"}


def test_a_ticket_without_asset_asks_for_the_host_and_answers_by_label(
    cache: Path, tmp_path: Path
) -> None:
    created = ok_json(cache, *new_args("No network at the desk", "network", "3", "3",
                                       "--requester", REQUESTER.email))  # fmt: skip
    ref = created["ticket"]["ref"]
    walk = {"scope": "Only this PC", "medium": "Cable", "link": "Yes",
            "address": "No, a normal address"}  # fmt: skip
    to_verify = _answers(tmp_path, "a.yaml", walk)
    args = ["tree", "run", "no-network", "--ticket", ref, "--answers"]
    paused = workbench(cache, *args, to_verify)
    assert paused.returncode == 0, paused.stderr
    tail = paused.stdout.split("Paused at ", 1)[1]
    assert "Reach (no asset) and read its network state" in tail
    assert "not run: the ticket has no asset; name the machine with --host HOST" in tail
    assert "dhcp: Self-assigned address (169.254.x.x): no DHCP lease (exit code 0, output" in tail
    given = ok_json(cache, *args, to_verify, "--host", "OLY-HR-DT7754")
    assert (given["node"], given["host"]) == ("verify", "OLY-HR-DT7754")
    by_label = _answers(tmp_path, "b.yaml", {"verify": "the pc has a PROPER address"})
    walked = ok_json(cache, *args, by_label)
    assert walked["steps"][-1]["prompt"] == "Reach OLY-HR-DT7754 and read its network state"
    assert walked["steps"][-1]["answer"] == "The PC has a proper address (picked by hand)"
    assert walked["steps"][-1]["note"] == "answered by hand"
    refused = workbench(cache, *args, by_label, "--host", "-oProxyCommand=sh")
    assert_one_line_error(refused, 2, "starts with '-'")
