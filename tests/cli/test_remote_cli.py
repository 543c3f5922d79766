"""`workbench recipe ...` and `workbench remote ...` through a real subprocess and a real sshd."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.keyrings import JsonFileKeyring
from tests.support.sshd import SshServer
from tests.support.winrm_server import WinrmServer
from tests.support.workbench import AGENT, ASSET
from workbench.cli import run
from workbench.core.models import WorklogKind
from workbench.remote.profiles import KEYRING_SERVICE, CredentialProfile
from workbench.remote.recipes import RECIPES_DIR
from workbench.resources import load_policy
from workbench.services.profiles import ProfileService
from workbench.services.tickets import TicketService
from workbench.store import Store


def workbench(
    data_dir: Path, *args: str, stdin: str = "", who: str = AGENT.login
) -> subprocess.CompletedProcess[str]:
    # A new session has no controlling terminal: hidden prompts read stdin, like in CI.
    return subprocess.run(
        [sys.executable, "-m", "workbench", "--data-dir", str(data_dir), "--as", who, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,
    )


def wb(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    """In-process, for commands that need no prompt (faster than a subprocess)."""
    code = run(["--data-dir", str(data_dir), "--as", AGENT.login, *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(result: tuple[int, str, str], code: int, text: str) -> None:
    returncode, stdout, stderr = result
    assert returncode == code, (stdout, stderr)
    errors = [line for line in stderr.splitlines() if line.startswith("workbench: error:")]
    assert len(errors) == 1 and text in errors[0], stderr
    assert "Traceback" not in stderr


@pytest.fixture
def cache(store: Store, data_dir: Path) -> Path:
    store.close()
    return data_dir


def ssh_args(server: SshServer, *extra: str) -> list[str]:
    # fmt: off
    return ["--host", server.host, "--port", str(server.port), "--user", server.username,
            "--identity", str(server.client_key_path), *extra]
    # fmt: on


def test_recipe_list_and_show(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    code, out, _ = wb(capsys, cache, "recipe", "list", "--json")
    assert code == 0
    ids = {r["id"] for r in json.loads(out)["recipes"]}
    assert {"linux.diagnostics", "windows.install-driver", "ad.reset-password"} <= ids
    code, out, _ = wb(capsys, cache, "recipe", "show", "windows.install-driver", "--json")
    data = json.loads(out)
    assert data["exit_codes"] == {"ok": [0, 259], "reboot": [3010, 1641]}
    assert data["confirm"] is True and data["params"][0]["name"] == "inf_path"
    code, out, _ = wb(capsys, cache, "recipe", "show", "ad.reset-password")
    assert "password: secret, required" in out and "expected output:" in out
    assert "runs on the directory host (a server with RSAT); protocol winrm" in out
    listed = {r["id"]: r for r in json.loads(wb(capsys, cache, "recipe", "list", "--json")[1])[
        "recipes"]}  # fmt: skip
    assert listed["fog.schedule-deploy"]["target"] == "fog-server"
    assert listed["windows.install-driver"]["target"] == "asset"
    one_line_error(wb(capsys, cache, "recipe", "show", "nope"), 2, "no recipe 'nope'")


def test_recipe_validate_reports_located_problems(
    capsys: pytest.CaptureFixture[str], cache: Path, tmp_path: Path
) -> None:
    code, out, err = wb(capsys, cache, "recipe", "validate", str(RECIPES_DIR))
    assert code == 0, out + err
    assert out.count("ok ") == len(list(RECIPES_DIR.glob("*.yaml")))
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\ntitle: X\nprotocol: ssh\nshell: fish\nscript: echo {{who}}\n", "utf-8")
    result = wb(capsys, cache, "recipe", "validate", str(bad))
    one_line_error(result, 1, "2 problems")
    assert f"{bad}:4:8: 'shell' must be one of" in result[1]
    assert f"{bad}:5:9: script line 1: unknown parameter {{{{who}}}}" in result[1]


@pytest.mark.services
def test_run_needs_the_host_key_accepted_then_records_on_the_ticket(
    capsys: pytest.CaptureFixture[str], cache: Path, sshd_server: SshServer
) -> None:
    fingerprint = sshd_server.host_key_fingerprint
    code, out, _ = wb(capsys, cache, "remote", "run", "linux.diagnostics", *ssh_args(sshd_server))
    assert code == 1
    assert "host key rejected" in out and f"--accept-host-key {fingerprint}" in out

    store = Store.open(cache)
    try:
        service = TicketService(store, load_policy(), AGENT.login)
        ref = service.create(title="Slow PC", category="hardware", impact=2, urgency=2).ticket.ref
    finally:
        store.close()
    code, out, err = wb(
        capsys, cache, "remote", "run", "linux.diagnostics",
        *ssh_args(sshd_server, "--accept-host-key", fingerprint, "--ticket", ref,
                  "--jump", f"{sshd_server.username}@[{sshd_server.host}]:{sshd_server.port}"),
    )  # fmt: skip
    assert code == 0, out + err
    for section in ("== uptime", "== disk", "== memory", "== network", "== failed services"):
        assert section in out
    assert f"linux.diagnostics on {sshd_server.host}: ok, exit code 0" in out

    listed = json.loads(wb(capsys, cache, "remote", "known-hosts", "list", "--json")[1])
    assert [h["fingerprint"] for h in listed["known_hosts"]] == [fingerprint]
    store = Store.open(cache)
    try:
        worklog = TicketService(store, load_policy(), AGENT.login).detail(ref).worklog
    finally:
        store.close()
    jobs = [e for e in worklog if e.kind is WorklogKind.REMOTE_JOB]
    assert len(jobs) == 1 and jobs[0].minutes == 0 and jobs[0].author == AGENT.login
    assert "linux.diagnostics" in jobs[0].text and ": ok, exit code 0" in jobs[0].text
    audit = [json.loads(line) for line in (cache / "audit.log").read_text("utf-8").splitlines()]
    assert [(a["recipe"], a["outcome"], a["ticket"]) for a in audit] == [
        ("linux.diagnostics", "host_key_rejected", None),
        ("linux.diagnostics", "ok", ref),
    ]

    code, out, _ = wb(capsys, cache, "remote", "known-hosts", "forget", sshd_server.host,
                      "--port", str(sshd_server.port))  # fmt: skip
    assert code == 0 and "Forgot 1 key" in out
    code, out, _ = wb(capsys, cache, "remote", "run", "linux.diagnostics", *ssh_args(sshd_server))
    assert code == 1 and "host key rejected" in out


class _FogApi(http.server.BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
        )
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"id":"118","name":"Deploy Task"}')

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def fog_api() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []
    handler = type("Handler", (_FogApi,), {"requests": requests})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/fog", requests
    server.shutdown()
    server.server_close()


@pytest.mark.services
def test_fog_deploy_passes_secrets_on_stdin_only(
    cache: Path, sshd_server: SshServer, fog_api: tuple[str, list[dict[str, Any]]]
) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    url, requests = fog_api
    api_token, user_token = "api-'$(touch /tmp/pwned)'-tok", "user tok; rm -rf ~"
    result = workbench(
        cache, "remote", "run", "fog.schedule-deploy",
        *ssh_args(sshd_server, "--accept-host-key", sshd_server.host_key_fingerprint,
                  "--param", f"fog_url={url}", "--param", "host_id=42", "--yes", "--json"),
        stdin=f"{api_token}\n{user_token}\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(requests) == 1
    request = requests[0]
    assert request["path"] == "/fog/host/42/task" and request["body"] == {"taskTypeID": 1}
    assert request["headers"]["fog-api-token"] == api_token
    assert request["headers"]["fog-user-token"] == user_token
    data = json.loads(result.stdout)
    assert data["outcome"] == "ok" and data["stdout_tail"][0].startswith('{"id":"118"')
    assert data["params"]["api_token"] == "********"
    everything = result.stdout + result.stderr + (cache / "audit.log").read_text("utf-8")
    everything += Path(data["log_path"]).read_text("utf-8")
    for secret in (api_token, user_token):
        assert secret not in everything


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["linux.firmware-updates", "--param", "action=reboot"], 2, "is not one of check"),
        (["linux.firmware-updates", "--param", "action"], 2, "NAME=VALUE"),
        (["linux.firmware-updates", "--param", "colour=red"], 2, "has no parameter 'colour'"),
        (["linux.firmware-updates"], 2, "changes the machine: confirm with --yes"),
        # Refused before the secrets are asked for.
        (["fog.schedule-deploy", "--param", "host_id=1"], 2, "confirm with --yes"),
        (["fog.schedule-deploy", "--param", "host_id=0", "--yes"], 2, "below the minimum 1"),
        (["fog.schedule-deploy", "--param", "api_token=x"], 2, "is a secret"),
        (["windows.diagnostics", "--jump", "gw"], 2, "--jump, --identity and --agent are for SSH"),
        (
            ["windows.diagnostics", "--winrm-transport", "basic", "--http"],
            2,
            "only allowed over HTTPS",
        ),
        (["linux.diagnostics", "--accept-host-key", "abc"], 2, "SHA256:<43 characters>"),
        (["linux.diagnostics", "--identity", "/nonexistent/key"], 2, "/nonexistent/key"),
        (["linux.diagnostics", "--ticket", "HD-999999"], 2, "HD-999999"),
        (["linux.diagnostics", "--jump", "a@b:99999"], 2, "--jump takes [USER@]HOST[:PORT]"),
        # Checked like the user of a target, before the confirmation or a secret is asked for.
        (
            ["linux.diagnostics", "--user", "-oProxyCommand=touch /tmp/x"],
            2,
            "--user: user '-oProxyCommand=touch /tmp/x' must be a login name without blanks",
        ),
        (
            ["fog.schedule-deploy", "--param", "host_id=1", "--user", "ana lopez"],
            2,
            "--user: user 'ana lopez' must be a login name without blanks",
        ),
    ],
)
def test_bad_input_changes_nothing(
    capsys: pytest.CaptureFixture[str], cache: Path, args: list[str], code: int, message: str
) -> None:
    one_line_error(wb(capsys, cache, "remote", "run", *args, "--host", "127.0.0.1"), code, message)
    assert not (cache / "audit.log").exists()


def test_a_directory_recipe_runs_on_the_directory_host_never_on_a_users_pc(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    unlock = ["remote", "run", "ad.unlock-account", "--param", "account=dana.w", "--yes"]
    code, out, _ = wb(capsys, cache, "remote", "service-host", "--json")
    assert code == 0 and json.loads(out) == {"directory-host": None, "fog-server": None}
    # No directory host named: said plainly, nothing run against anything.
    one_line_error(wb(capsys, cache, *unlock), 2,
                   "ad.unlock-account runs on the directory host (a server with RSAT), and "
                   "this cache names none: set it with `workbench remote service-host "
                   "directory-host HOST`")  # fmt: skip
    # The user's PC (an asset with an owner), by hostname or tag, in any case.
    for pc in (ASSET.hostname, ASSET.hostname.lower(), ASSET.tag):
        one_line_error(wb(capsys, cache, *unlock, "--host", pc), 2,
                       "runs on the directory host (a server with RSAT), not on the user's "
                       f"machine {pc} (asset {ASSET.tag})")  # fmt: skip
    one_line_error(wb(capsys, cache, "remote", "run", "fog.schedule-deploy", "--param",
                      "host_id=3", "--yes", "--host", ASSET.hostname), 2,
                   "runs on the FOG server, not on the user's machine")  # fmt: skip
    assert wb(capsys, cache, "remote", "service-host", "directory-host", "mgmt01")[0] == 0
    one_line_error(wb(capsys, cache, *unlock, "--host", ASSET.hostname), 2,
                   "leave the host out to run it on mgmt01")  # fmt: skip
    code, out, _ = wb(capsys, cache, "remote", "service-host")
    assert out.splitlines() == [
        "directory-host: mgmt01",
        "fog-server: none (set it with: `workbench remote service-host fog-server HOST`)",
    ]
    one_line_error(wb(capsys, cache, "remote", "service-host", "fog-server", "--", "-oX"), 2,
                   "starts with '-'")  # fmt: skip
    one_line_error(wb(capsys, cache, "remote", "service-host", "fog-server", "fog server"), 2,
                   "is not a host name")  # fmt: skip
    one_line_error(wb(capsys, cache, "remote", "service-host", "fog-server"), 2,
                   "give the host for fog-server, or --clear")  # fmt: skip
    assert wb(capsys, cache, "remote", "service-host", "directory-host", "--clear")[0] == 0
    code, out, _ = wb(capsys, cache, "remote", "service-host", "--json")
    assert json.loads(out)["directory-host"] is None
    # A recipe for the ticket's machine still needs its host.
    one_line_error(wb(capsys, cache, "remote", "run", "linux.diagnostics"), 2,
                   "linux.diagnostics runs on the ticket's machine: name its host")  # fmt: skip
    assert not (cache / "audit.log").exists()


@pytest.mark.services
def test_unreachable_exits_1(
    capsys: pytest.CaptureFixture[str], cache: Path, sshd_server: SshServer
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    code, out, _ = wb(
        capsys, cache, "remote", "run", "linux.diagnostics", "--host", "127.0.0.1",
        "--port", str(closed), "--identity", str(sshd_server.client_key_path),
    )  # fmt: skip
    assert code == 1 and ": unreachable" in out


@pytest.mark.services
def test_fanout_result_table_and_retry_list(
    capsys: pytest.CaptureFixture[str], cache: Path, sshd_server: SshServer, tmp_path: Path
) -> None:
    from workbench.remote.hostkeys import KnownHosts  # noqa: PLC0415

    KnownHosts.in_data_dir(cache).add(sshd_server.host, sshd_server.port, sshd_server.host_pkey())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    good = f"{sshd_server.host}:{sshd_server.port}"
    hosts_file = tmp_path / "hosts.txt"
    hosts_file.write_text(f"# lab\n{good}\n127.0.0.1:{closed}  # switched off\n{good}\n", "utf-8")
    code, out, err = wb(
        capsys, cache, "remote", "fanout", "linux.diagnostics", "--hosts-file", str(hosts_file),
        "--user", sshd_server.username, "--identity", str(sshd_server.client_key_path),
        "--concurrency", "2", "--json",
    )  # fmt: skip
    assert code == 1, out + err
    data = json.loads(out)
    outcomes = [(f"{r['host']}:{r['port']}", r["outcome"]) for r in data["results"]]
    assert outcomes == [(good, "ok"), (f"127.0.0.1:{closed}", "unreachable")]  # duplicates dropped
    assert data["retry"] == [f"{sshd_server.username}@127.0.0.1:{closed}"]
    retry_file = Path(data["retry_file"])
    assert retry_file.read_text("utf-8").split() == data["retry"]
    code, out, _ = wb(
        capsys, cache, "remote", "fanout", "linux.diagnostics", "--host", good,
        "--identity", str(sshd_server.client_key_path), "--user", sshd_server.username,
    )  # fmt: skip
    assert code == 0
    assert f"{sshd_server.host} | == uptime" in out and "1 of 1 hosts ok" in out


def test_run_over_winrm_with_password_prompt_and_ca_file(
    cache: Path, winrm_server: WinrmServer
) -> None:
    # The test server runs commands with sh, so a POSIX recipe goes over WinRM here.
    result = workbench(
        cache, "remote", "run", "linux.diagnostics", "--protocol", "winrm",
        "--host", f"{winrm_server.host}:{winrm_server.port}", "--user", winrm_server.username,
        "--winrm-transport", "basic", "--ca-file", str(winrm_server.ca_file), "--json",
        stdin=f"{winrm_server.password}\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "ok" and "== uptime" in data["stdout_tail"]
    assert winrm_server.password not in result.stdout + (cache / "audit.log").read_text("utf-8")
    wrong = workbench(
        cache, "remote", "run", "linux.diagnostics", "--protocol", "winrm",
        "--host", f"{winrm_server.host}:{winrm_server.port}", "--user", winrm_server.username,
        "--winrm-transport", "basic", "--ca-file", str(winrm_server.ca_file),
        stdin="not-the-password\n",
    )  # fmt: skip
    assert wrong.returncode == 1 and "authentication failed" in wrong.stdout


def test_run_with_a_credential_profile(
    capsys: pytest.CaptureFixture[str], cache: Path, sshd_server: SshServer
) -> None:
    code, _out, err = wb(capsys, cache, "profile", "add", "lab", "--protocol", "ssh", "--user",
                         sshd_server.username, "--auth", "key", "--key",
                         str(sshd_server.client_key_path))  # fmt: skip
    assert code == 0, err
    host = f"{sshd_server.host}:{sshd_server.port}"
    # With base64's padding, as some tools print it: the same key (also through a profile).
    accept = ("--accept-host-key", sshd_server.host_key_fingerprint + "=")
    one_line_error(
        wb(capsys, cache, "remote", "run", "linux.diagnostics", "--host", host, "--profile", "lab",
           "--user", "someone", *accept),
        2, "--profile says how to log in; leave out --user",
    )  # fmt: skip
    one_line_error(
        wb(capsys, cache, "remote", "run", "linux.diagnostics", "--host", host, "--profile",
           "nosuch", *accept),
        2, "no credential profile 'nosuch'",
    )  # fmt: skip
    code, out, _ = wb(capsys, cache, "remote", "run", "linux.diagnostics", "--host", host,
                      "--profile", "lab", *accept, "--json")  # fmt: skip
    result = json.loads(out)
    assert code == 0 and result["outcome"] == "ok", out
    assert result["username"] == sshd_server.username and result["port"] == sshd_server.port


def test_a_profile_picks_the_transport_before_anything_is_asked(
    capsys: pytest.CaptureFixture[str], cache: Path
) -> None:
    for name, protocol, auth in (("lab", "ssh", "agent"), ("corp", "winrm", "kerberos")):
        code, _out, err = wb(capsys, cache, "profile", "add", name, "--protocol", protocol,
                             "--user", "tech", "--auth", auth)  # fmt: skip
        assert code == 0, err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    fingerprint = "SHA256:" + "A" * 43
    # An SSH profile runs a WinRM recipe over SSH, so a host key may be accepted for it.
    code, out, _ = wb(capsys, cache, "remote", "run", "windows.diagnostics", "--host",
                      f"127.0.0.1:{closed}", "--profile", "lab", "--accept-host-key", fingerprint,
                      "--json")  # fmt: skip
    result = json.loads(out)
    assert code == 1 and result["outcome"] == "unreachable" and result["port"] == closed, out
    one_line_error(
        wb(capsys, cache, "remote", "run", "windows.diagnostics", "--host", "127.0.0.1",
           "--profile", "lab", "--jump", "gw"),
        2, "--profile says how to log in; leave out --jump",
    )  # fmt: skip
    # A WinRM profile has no host keys: refused before the confirmation and the secret prompt.
    one_line_error(
        wb(capsys, cache, "remote", "run", "fog.schedule-deploy", "--param", "host_id=1",
           "--yes", "--host", "127.0.0.1", "--profile", "corp", "--accept-host-key",
           fingerprint),
        2, "profile 'corp' logs in over WinRM, which checks the server's TLS certificate "
        "instead of a host key: leave out --accept-host-key",
    )  # fmt: skip
    one_line_error(
        wb(capsys, cache, "remote", "run", "linux.diagnostics", "--host", "tech@127.0.0.1",
           "--profile", "lab"),
        2, "a host takes HOST[:PORT], not 'tech@127.0.0.1': the credential profile names the user",
    )  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("protocol", "user", "auth", "drop_secret", "message"),
    [
        ("winrm", "CORP\\tech", "ntlm", ["--forget-secret"],
         "profile 'broken' (winrm ntlm) needs a password: set it with"),
        ("ssh", "tech", "password", [],  # the entry vanished from the keyring behind its back
         "the keyring has no secret for profile 'broken' any more"),
    ],
)  # fmt: skip
def test_a_broken_profile_is_reported_before_the_prompts(
    cache: Path,
    profile_keyring: JsonFileKeyring,
    protocol: str,
    user: str,
    auth: str,
    drop_secret: list[str],
    message: str,
) -> None:
    added = workbench(cache, "profile", "add", "broken", "--protocol", protocol, "--user", user,
                      "--auth", auth, stdin="profile-secret\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    if drop_secret:
        assert workbench(cache, "profile", "edit", "broken", *drop_secret).returncode == 0
    else:
        profile_keyring.delete_password(KEYRING_SERVICE, "broken")
    result = workbench(
        cache, "remote", "run", "fog.schedule-deploy", "--param", "host_id=1", "--yes",
        "--host", f"127.0.0.1:{_closed_port()}", "--profile", "broken",
        stdin="api-token\nuser-token\n",
    )  # fmt: skip
    one_line_error((result.returncode, result.stdout, result.stderr), 2, message)
    assert "(secret)" not in result.stderr  # no recipe secret was asked for
    assert not (cache / "audit.log").exists()


def test_a_fanout_reads_the_profile_secret_once(
    capsys: pytest.CaptureFixture[str],
    cache: Path,
    profile_keyring: JsonFileKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = Store.open(cache)
    try:
        ProfileService(store, profile_keyring).save(
            CredentialProfile("lab", "ssh", "tech", "agent"), "agent-key-passphrase"
        )
    finally:
        store.close()
    reads: list[str] = []
    read = profile_keyring.get_password

    def counted(service: str, username: str) -> str | None:
        reads.append(username)
        return read(service, username)

    monkeypatch.setattr(profile_keyring, "get_password", counted)
    hosts = [arg for _ in range(3) for arg in ("--host", f"127.0.0.1:{_closed_port()}")]
    code, out, err = wb(capsys, cache, "remote", "fanout", "linux.diagnostics", "--profile",
                        "lab", *hosts, "--json")  # fmt: skip
    assert code == 1, out + err
    assert [r["outcome"] for r in json.loads(out)["results"]] == ["unreachable"] * 3
    assert reads == ["lab"]
