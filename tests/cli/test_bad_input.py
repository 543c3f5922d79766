"""Bad input ends as one clear line (issue 22), never as "internal error", a traceback or a
hang, and changes nothing: commands × bad inputs through a real subprocess on a real cache.

The inputs: arguments that are not UTF-8, integers past 64 bits or written with other
scripts' digits, files that are directories, devices, named pipes, binary or over the size cap,
central URLs that SQLAlchemy or libpq refuse in odd ways (their password never shown), a
damaged known_hosts, odd data directories, invalid YAML, and ticket references in other digits.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from tests.support.workbench import AGENT
from workbench.cli import run
from workbench.cli.context import AppContext
from workbench.core.files import MAX_TEXT_BYTES
from workbench.remote.recipes import RECIPES_DIR
from workbench.store.database import DB_FILENAME

TIMEOUT_S = 30  # a command that waits on a pipe or reads /dev/zero fails here, not in CI's hour
PASSWORD = "Pw-never-shown-7"
UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=1"
TREE = "no-network"

Result = tuple[int, str, str]
NEW = ["ticket", "new", "--category", "network", "--impact", "3", "--urgency", "2"]


def workbench(
    data_dir: Path | str | bytes,
    *args: str | bytes,
    env: dict[bytes, bytes] | None = None,
    cwd: Path | None = None,
) -> Result:
    """The CLI in a subprocess with byte arguments (so they may be no UTF-8 at all)."""
    argv = [os.fsencode(sys.executable), b"-m", b"workbench", b"--data-dir",
            os.fsencode(data_dir), b"--as", AGENT.login.encode(),
            *(a if isinstance(a, bytes) else a.encode() for a in args)]  # fmt: skip
    environment = {k: v for k, v in os.environb.items() if not k.startswith((b"WORKBENCH", b"PG"))}
    done = subprocess.run(
        argv,
        env={**environment, **(env or {})},
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT_S,
        check=False,
        start_new_session=True,  # no terminal: nothing can wait for a typed answer
    )
    return (
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def refused(result: Result, *words: str, code: int | None = None) -> str:
    """The one error line of a refused command, holding every word given."""
    returncode, out, err = result
    assert returncode == code if code is not None else returncode in (1, 2), (out, err)
    assert "internal error" not in err and "Traceback" not in out + err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("workbench: error: "), err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def dump(data_dir: Path) -> list[str]:
    with sqlite3.connect(data_dir / DB_FILENAME) as db:
        return list(db.iterdump())


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache with demo people, assets and tickets HD-000001..3, made once per module."""
    data = tmp_path_factory.mktemp("seeded") / "data"
    code, _, err = workbench(data, "demo", "seed", "--tickets", "3")
    assert code == 0, err
    code, _, err = workbench(data, *NEW, "--title", "No network on the PC")
    assert code == 0, err
    return data


@pytest.fixture
def cache(seeded: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(seeded, data)
    return data


def refused_unchanged(cache: Path, args: list[str | bytes], *words: str) -> str:
    """`refused` for a command on `cache`, which it leaves exactly as it was."""
    before = dump(cache)
    line = refused(workbench(cache, *args), *words)
    assert dump(cache) == before
    return line


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ticket", "show", b"HD-\xff"],
        ["ticket", "note", "HD-000001", b"caf\xe9 latin-1"],
        [*NEW, "--title", b"\xff\xfe"],
        [*NEW, b"--title=printer \xc3"],
        ["search", b"\xc3"],
        ["whoami", "--set", b"ana\xff"],
        ["tree", "validate", b"tree-\xff.yaml"],
    ],
    ids=["ref", "note", "title", "title=", "search", "whoami", "path"],
)
def test_an_argument_that_is_not_utf8_is_refused_by_name(
    cache: Path, args: list[str | bytes]
) -> None:
    line = refused_unchanged(cache, args, "is not UTF-8 text")
    assert "argument" in line or "--title" in line


def test_a_url_that_is_not_utf8_is_refused_without_its_password(cache: Path) -> None:
    url = b"postgresql://ana:" + PASSWORD.encode() + b"\xff@db.example/helpdesk"
    line = refused_unchanged(cache, ["central", "init", "--url", url], "is not UTF-8 text")
    assert PASSWORD not in line and "ana:***@" in line


def test_a_workbench_variable_that_is_not_utf8_is_refused(cache: Path) -> None:
    result = workbench(cache, "ticket", "list", env={b"WORKBENCH_TECHNICIAN": b"ana\xff"})
    refused(result, "$WORKBENCH_TECHNICIAN is not UTF-8 text", code=2)


HUGE = "9" * 30


@pytest.mark.parametrize(
    "args",
    [
        ["ticket", "list", "--offset", HUGE],
        ["ticket", "list", "--limit", HUGE],
        ["ticket", "list", "--tier", HUGE],
        ["ticket", "log-time", "HD-000001", HUGE],
        ["ticket", "note", "HD-000001", "called back", "--minutes", HUGE],
        ["conflicts", "resolve", HUGE, "--keep", "mine"],
        ["demo", "seed", "--seed", HUGE],
        ["remote", "known-hosts", "forget", "pc-1", "--port", HUGE],
        ["central", "audit", "--limit", HUGE, "--url", UNREACHABLE],
        ["ticket", "list", "--limit", "١٠"],
        [*NEW, "--title", "t", "--impact", "١"],
        ["search", "printer", "--limit", "1_0"],
    ],
    ids=[
        "offset",
        "limit",
        "tier",
        "log-time",
        "minutes",
        "conflict",
        "seed",
        "port",
        "audit",
        "arabic-digits",
        "arabic-impact",
        "underscore",
    ],  # fmt: skip
)
def test_an_integer_out_of_range_or_not_in_ascii_digits_is_refused(
    cache: Path, args: list[str | bytes]
) -> None:
    refused_unchanged(cache, args, "Invalid value")


@pytest.mark.parametrize(
    "args",
    [
        ["ticket", "show", "HD-١"],
        ["ticket", "show", "１"],
        ["ticket", "note", "HD-٠٠١", "a note on the wrong ticket"],
        ["ticket", "reopen", "۱", "--reason", "persian digit"],
    ],
    ids=["arabic", "fullwidth", "note", "persian"],
)
def test_a_ref_in_other_digits_names_no_ticket(cache: Path, args: list[str | bytes]) -> None:
    refused_unchanged(cache, args, "no ticket")


@pytest.mark.parametrize(
    "args",
    [[*NEW, "--title", "t", "--priority-reason", "VIP"],
     ["ticket", "update", "HD-000001", "--priority-reason", "VIP"]],
    ids=["new", "update"],
)  # fmt: skip
def test_a_priority_reason_without_a_priority_is_refused(
    cache: Path, args: list[str | bytes]
) -> None:
    refused_unchanged(cache, args, "--priority")


# -- files -------------------------------------------------------------------------------------


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "a-directory").mkdir()
    return tmp_path / "a-directory"


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "a-pipe")  # no writer: reading it would wait forever
    return tmp_path / "a-pipe"


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"id: x\n\x00\x01\x02PK\x03\x04" + os.urandom(2000))
    return path


def _latin1(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: caf\xe9\n".encode("latin-1"))
    return path


def _oversized(tmp_path: Path) -> Path:
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * (MAX_TEXT_BYTES // 10 + 1), encoding="utf-8")
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "directory": (_directory, "directory"),
    "fifo": (_fifo, "named pipe"),
    "device": (lambda _tmp: Path("/dev/zero"), "device"),
    "binary": (_binary, "NUL byte"),
    "latin-1": (_latin1, "not UTF-8"),
    "oversized": (_oversized, "larger than the 1 MB allowed"),
}
FILE_COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "tree validate": lambda p: ["tree", "validate", p],
    "tree import": lambda p: ["tree", "import", p],
    "recipe validate": lambda p: ["recipe", "validate", p],
    "recipe import": lambda p: ["recipe", "import", p],
    "hosts-file": lambda p: ["remote", "fanout", "linux.diagnostics", "--hosts-file", p],
    "answers": lambda p: ["tree", "run", TREE, "--ticket", "HD-000001", "--answers", p],
    "policy set": lambda p: ["central", "policy", "set", p, "--url", UNREACHABLE],
    "csv import": lambda p: ["central", "import", "requesters", p, "--url", UNREACHABLE],
    "identity": lambda p: ["remote", "run", "linux.diagnostics", "--host", "127.0.0.1",
                           "--port", "9", "--identity", p],
}  # fmt: skip
# A directory of recipes is a valid input; a CSV export is read whole at any size; a key
# file's content is the SSH library's to judge.
NOT_BAD = {("recipe validate", "directory"), ("recipe import", "directory"),
           ("csv import", "oversized"), ("identity", "binary"), ("identity", "latin-1"),
           ("identity", "oversized")}  # fmt: skip


@pytest.mark.parametrize(
    ("command", "kind"),
    [(c, k) for c in FILE_COMMANDS for k in BAD_FILES if (c, k) not in NOT_BAD],
)
def test_a_file_that_is_no_readable_text_is_refused_at_once(
    cache: Path, tmp_path: Path, command: str, kind: str
) -> None:
    make, reason = BAD_FILES[kind]
    path = make(tmp_path)
    before = dump(cache)
    started = time.monotonic()
    code, out, err = workbench(cache, *FILE_COMMANDS[command](str(path)))
    assert time.monotonic() - started < 10, "bad input must be refused at once"
    assert "internal error" not in err and "Traceback" not in out + err, err
    assert reason in out + err, (out, err)
    if command == "tree validate" and code == 1 and not err:
        # The validator's report: every problem located on stdout, exit 1.
        assert f"{path}:1:1: error: cannot read the file: " in out
    else:
        refused((code, out, err))
    assert dump(cache) == before


def test_a_recipe_of_almost_the_size_cap_validates_in_seconds(cache: Path, tmp_path: Path) -> None:
    """Validation is linear: the largest file allowed takes seconds, not minutes."""
    shipped = (RECIPES_DIR / "linux.diagnostics.yaml").read_text(encoding="utf-8")
    head, tail = shipped.split("expected_output:", 1)
    lines = "".join(f'  echo "step {n}: checking the disk"\n' for n in range(26_500))
    text = head.replace("id: linux.diagnostics", "id: site.big") + lines + "expected_output:" + tail
    assert MAX_TEXT_BYTES * 0.9 < len(text.encode()) <= MAX_TEXT_BYTES
    path = tmp_path / "big.yaml"
    path.write_text(text, encoding="utf-8")
    started = time.monotonic()
    code, out, err = workbench(cache, "recipe", "validate", str(path))
    assert (code, err) == (0, ""), out
    assert time.monotonic() - started < 10


# -- YAML errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("start: [yes,\n", ":2:1: not valid YAML: "),
        ("start:\n\tnext: 1\n", ":2:1: not valid YAML: "),
        ("start: yes\x1b[2J\n", ":1:11: not valid YAML: unacceptable character #x001b"),
        ("start: !!python/object:os.system x\n", ":1:8: not valid YAML: "),
    ],
    ids=["unclosed", "tab", "escape", "tag"],
)
def test_an_invalid_answers_file_is_one_located_line(
    cache: Path, tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["tree", "run", TREE, "--ticket", "HD-000001", "--answers", str(path)]
    refused_unchanged(cache, args, f"{path}{where}")


@pytest.mark.parametrize(
    "code", ["99999999999999999999999", "'١'", "4294967296", "true", "'1_0'"],
    ids=["huge", "arabic", "33-bits", "boolean", "underscore"],
)  # fmt: skip
def test_an_answered_exit_code_must_be_a_32_bit_number(
    cache: Path, tmp_path: Path, code: str
) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text(
        "scope: Only this PC\nmedium: Cable\nlink: 'Yes'\naddress: No, a normal address\n"
        f"verify: {{exit_code: {code}, stdout: ''}}\n",
        encoding="utf-8",
    )
    listed = json.loads(workbench(cache, "ticket", "list", "--open", "--json")[1])
    [ticket] = [t["ref"] for t in listed["tickets"]]
    args = ["tree", "run", TREE, "--ticket", ticket, "--answers", str(path), "--propose-only"]
    refused_unchanged(cache, args, "exit_code for 'verify' must be a whole number of 32 bits")


@pytest.mark.parametrize(
    "text", ["queues: [1,\n", "queues:\n\t1: desk\n", "queues: {1: desk\x1b}\n"],
    ids=["unclosed", "tab", "escape"],
)  # fmt: skip
def test_an_invalid_policy_is_a_summary_and_one_located_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = workbench(tmp_path / "data", "central", "policy", "set", str(path),
                               "--url", UNREACHABLE)  # fmt: skip
    assert code == 2 and "Traceback" not in out + err, err
    summary, *problems = err.splitlines()
    assert summary.startswith("workbench: error: nothing stored: sla.yaml has 1 problem"), err
    assert len(problems) == 1 and problems[0].startswith("sla.yaml:"), err
    assert ": not valid YAML: " in problems[0]


# -- central URLs ------------------------------------------------------------------------------

ODD_URLS = {
    "port": (f"postgresql://ana:{PASSWORD}@db.example:abc/helpdesk", "port 'abc'"),
    "port-query": (f"postgresql://ana:{PASSWORD}@db.example/helpdesk?port=5o", "port '5o'"),
    "port-range": (f"postgresql://ana:{PASSWORD}@db.example:99999/helpdesk", "port '99999'"),
    "two-hosts": (f"postgresql://ana:{PASSWORD}@db1.example,db2.example/helpdesk", "one"),
    "two-ports": (f"postgresql://ana:{PASSWORD}@db1:5432,db2:5433/helpdesk", "one"),
    "ipv6": (f"postgresql://ana:{PASSWORD}@[::1/helpdesk", "closing ']'"),
    "no-host": (f"postgresql://ana:{PASSWORD}@/helpdesk", "no host"),
    "at-sign": (f"postgresql://ana:{PASSWORD}@pc@db.example/helpdesk", "%40"),
    "scheme": (f"mysql://ana:{PASSWORD}@db.example/helpdesk", "PostgreSQL"),
}
URL_COMMANDS: dict[str, Callable[[str], list[str]]] = {
    "central init": lambda url: ["central", "init", "--url", url],
    "central site list": lambda url: ["central", "site", "list", "--url", url],
    "login": lambda url: ["login", "--central", url, "--technician", AGENT.login],
}


@pytest.mark.parametrize("case", ODD_URLS)
@pytest.mark.parametrize("command", URL_COMMANDS)
def test_an_odd_central_url_is_one_line_without_its_password(
    cache: Path, command: str, case: str
) -> None:
    url, words = ODD_URLS[case]
    before = dump(cache)
    code, out, err = workbench(cache, *URL_COMMANDS[command](url))
    refused((code, out, err), words, code=2)
    assert PASSWORD not in out + err
    assert dump(cache) == before


# -- the known-hosts file ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["remote", "known-hosts", "list"],
        ["remote", "known-hosts", "forget", "pc-1"],
        ["remote", "run", "linux.diagnostics", "--host", "127.0.0.1", "--port", "9", "--agent"],
        ["connect", "ssh", "127.0.0.1", "--dry-run"],
    ],
    ids=["list", "forget", "run", "connect"],
)
@pytest.mark.parametrize(
    "garbage",
    ["this line is not a key", "pc-2 ssh-ed25519 @@not-base64@@", "|1|no-salt|x {key}"],
    ids=["words", "base64", "hashed-name"],
)
def test_a_damaged_known_hosts_trusts_nothing_and_names_its_line(
    cache: Path, args: list[str | bytes], garbage: str
) -> None:
    generated = paramiko.ECDSAKey.generate()
    key = f"{generated.get_name()} {generated.get_base64()}"
    known = cache / "known_hosts"
    known.write_text(f"pc-1 {key}\n{garbage.format(key=key)}\n", encoding="utf-8")
    before = known.read_bytes()
    refused_unchanged(cache, args, f"{known}:2: ", "no host is trusted")
    assert known.read_bytes() == before


# -- data directories and internal errors ------------------------------------------------------


@pytest.mark.parametrize(
    ("data_dir", "words"),
    [("~no-such-user-wb/data", "there is no user 'no-such-user-wb'"), ("", "--data-dir is empty")],
    ids=["unknown-user", "empty"],
)
def test_a_data_dir_that_names_nothing_is_refused(
    tmp_path: Path, data_dir: str, words: str
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    line = refused(workbench(data_dir, "ticket", "list", cwd=cwd), words, code=2)
    assert "details in" not in line
    assert list(cwd.iterdir()) == []  # no cache, no log in the current directory


def test_an_internal_error_without_a_log_file_points_to_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug (simulated) where no log can be written: no traceback and no "details in"."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")

    def a_bug(_self: AppContext) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(AppContext, "store", property(a_bug))
    assert run(["--data-dir", str(blocker / "data"), "whoami"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "workbench: error: internal error (no log file could be written; run again with "
        "--verbose)\n"
    )
