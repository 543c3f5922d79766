"""Tree checks run as real jobs on the loopback sshd, end to end through TreeService."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.keyrings import JsonFileKeyring
from tests.support.recipes import catalog_from_dir
from tests.support.sshd import SshServer
from tests.support.workbench import ASSET, REQUESTER, ticket_on_asset
from workbench.core.models import Status, TicketDetail, WorklogKind
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.jobs import JobRunner
from workbench.remote.profiles import CredentialProfile
from workbench.remote.recipes import RecipeLibrary, load_library
from workbench.remote.ssh import SshAuth, SshTarget
from workbench.resources import RESOURCES
from workbench.services.profiles import ProfileService
from workbench.services.tickets import TicketService
from workbench.trees.remote_checks import (
    Connect,
    Connection,
    RemoteCheckExecutor,
    profiles_connect,
)
from workbench.trees.runner import Unreachable
from workbench.trees.service import TreeService

pytestmark = pytest.mark.services

# A test recipe next to the shipped linux.diagnostics: its exit code and output depend on a
# file the test writes (the loopback sshd runs as this user, on this machine).
STATE_RECIPE = """\
id: test.service-state
title: Read a service's state file
protocol: ssh
shell: sh
timeout: 30
params:
  path: {type: path, required: true}
script: cat {{path}}
"""

TREE = """\
id: linux-service
title: Service on a Linux machine is down
version: 1
category: software
start: diagnose
nodes:
  diagnose:
    type: check
    text: Overview of {{ticket.asset.hostname}}
    recipe: linux.diagnostics
    branches:
      - {when: {exit_code: 0, stdout_matches: '(?m)^== failed services$'}, next: state}
      - {otherwise: true, next: visit}
  state:
    type: check
    text: Read the state file of the service
    recipe: test.service-state
    params: {path: "%s"}
    branches:
      - {when: {exit_code: 0, stdout_matches: '^running'}, next: fine}
      - {when: {exit_code: 0}, next: stopped}
      - {when: {exit_code: 1, stderr_matches: 'No such file'}, next: missing}
      - {otherwise: true, next: visit}
  fine:
    type: resolve
    resolution: The service runs; nothing to repair on {{ticket.asset.hostname}}.
  stopped:
    type: escalate
    tier: 2
    reason: The service on {{ticket.asset.hostname}} is stopped.
  missing:
    type: escalate
    tier: 2
    reason: The service on {{ticket.asset.hostname}} is not installed.
  visit:
    type: escalate
    tier: 2
    reason: "{{ticket.asset.hostname}} needs a visit."
"""


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "service.state"


@pytest.fixture
def recipes_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "recipes"
    directory.mkdir()
    shutil.copy(RESOURCES / "recipes" / "linux.diagnostics.yaml", directory)
    (directory / "test.service-state.yaml").write_text(STATE_RECIPE, "utf-8")
    return directory


@pytest.fixture
def trees(
    service: TicketService, recipes_dir: Path, state_file: Path, tmp_path: Path
) -> TreeService:
    library = tmp_path / "trees"
    library.mkdir()
    (library / "linux-service.yaml").write_text(TREE % state_file, "utf-8")
    return TreeService(service, catalog_from_dir(recipes_dir), library)


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[JobRunner]:
    runner = JobRunner(tmp_path / "jobs")
    yield runner
    runner.shutdown()


@pytest.fixture
def recipes(recipes_dir: Path) -> RecipeLibrary:
    return load_library(recipes_dir)


@pytest.fixture
def ticket_ref(service: TicketService) -> str:
    return ticket_on_asset(
        service, "The backup service does not start", "software", impact=2
    ).ticket.ref


def loopback(server: SshServer, port: int | None = None, accept: bool = True) -> Connect:
    """The asset's hostname leads to the loopback sshd (or to `port` on loopback)."""

    def connect(host: str) -> Connection | None:
        if host != ASSET.hostname:
            return None
        target = SshTarget(server.host, server.username, port or server.port, connect_timeout=5)
        fingerprint = server.host_key_fingerprint if accept else None
        return Connection(target, SshAuth(identity=server.client_key_path), fingerprint)

    return connect


def walk(
    trees: TreeService, ref: str, executor: RemoteCheckExecutor
) -> tuple[TicketDetail, str, list[Unreachable]]:
    """Run every check until a terminal; the pending reasons of checks picked by hand."""
    handle = trees.start("linux-service", ref)
    run = handle.run
    unreached: list[Unreachable] = []
    while not run.finished:
        if run.run_check(executor) is None:
            assert run.pending is not None
            unreached.append(Unreachable(run.pending.reason))
            run.pick_branch("visit")  # what the technician chooses by hand
        trees.save(handle)
    detail = trees.accept(handle)
    (entry,) = [w for w in detail.worklog if w.kind is WorklogKind.TREE_TRANSCRIPT]
    return detail, entry.text, unreached


@pytest.mark.parametrize(
    ("content", "outcome"),
    [
        ("running since 08:00\n", "resolve: The service runs"),
        ("stopped at 07:12\n", "escalate to tier 2: The service on OLY-ACC-LT0421 is stopped"),
        (None, "escalate to tier 2: The service on OLY-ACC-LT0421 is not installed"),
    ],
)
def test_check_branches_on_the_real_output_and_exit_code(
    sshd_server: SshServer,
    trees: TreeService,
    jobs: JobRunner,
    recipes: RecipeLibrary,
    ticket_ref: str,
    state_file: Path,
    content: str | None,
    outcome: str,
) -> None:
    if content is not None:
        state_file.write_text(content, "utf-8")
    executor = RemoteCheckExecutor(jobs, recipes, loopback(sshd_server), "ana.lopez", ticket_ref)
    detail, transcript, unreached = walk(trees, ticket_ref, executor)
    assert unreached == []
    assert f"Outcome: {outcome}" in transcript
    assert (detail.ticket.status is Status.RESOLVED) == outcome.startswith("resolve")
    # The excerpts are the real output: the diagnostics' sections, then the file or cat's error.
    assert "| == failed services" in transcript
    expected = content.strip() if content else f"stderr: cat: {state_file}: No such file"
    assert f"| {expected}" in transcript
    assert "by hand" not in transcript
    # The accepted fingerprint was stored: the jobs' own known-hosts file now trusts the host.
    known = KnownHosts.in_data_dir(jobs.data_dir).entries()
    assert [k.fingerprint for k in known] == [sshd_server.host_key_fingerprint]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def test_unreachable_host_is_decided_by_hand_and_the_transcript_says_why(
    sshd_server: SshServer,
    trees: TreeService,
    jobs: JobRunner,
    recipes: RecipeLibrary,
    ticket_ref: str,
) -> None:
    port = closed_port()
    connect = loopback(sshd_server, port=port)
    executor = RemoteCheckExecutor(jobs, recipes, connect, "ana.lopez", ticket_ref)
    detail, transcript, unreached = walk(trees, ticket_ref, executor)
    assert [u.reason.split(":")[0] for u in unreached] == ["unreachable"]
    assert detail.ticket.tier == 2 and "Outcome: escalate to tier 2" in transcript
    assert "branch visit (picked by hand)" in transcript
    assert f"(not run: {unreached[0].reason}; answered by hand)" in transcript
    assert f"cannot reach {sshd_server.username}@127.0.0.1:{port}" in unreached[0].reason


def test_unknown_host_key_is_out_of_reach_with_its_fingerprint(
    sshd_server: SshServer, trees: TreeService, jobs: JobRunner, recipes: RecipeLibrary,
    ticket_ref: str,
) -> None:  # fmt: skip
    connect = loopback(sshd_server, accept=False)
    executor = RemoteCheckExecutor(jobs, recipes, connect, "ana.lopez", ticket_ref)
    _detail, transcript, unreached = walk(trees, ticket_ref, executor)
    (reason,) = [u.reason for u in unreached]
    assert reason.startswith("host key rejected")
    assert (
        sshd_server.host_key_fingerprint in reason
        and sshd_server.host_key_fingerprint in transcript
    )
    assert KnownHosts.in_data_dir(jobs.data_dir).entries() == []  # nothing trusted silently


def test_no_credentials_for_the_host(
    trees: TreeService, jobs: JobRunner, recipes: RecipeLibrary, ticket_ref: str
) -> None:
    executor = RemoteCheckExecutor(jobs, recipes, lambda _host: None, "ana.lopez", ticket_ref)
    _detail, transcript, unreached = walk(trees, ticket_ref, executor)
    assert [u.reason for u in unreached] == [f"no credential profile for {ASSET.hostname}"]
    assert f"(not run: no credential profile for {ASSET.hostname}; answered by hand)" in transcript
    assert not (jobs.data_dir / "audit.log").exists()  # nothing was run


@pytest.mark.parametrize(
    ("asset_protocol", "asset_port", "profile_port"),
    [
        (None, None, "sshd"),  # the profile's port
        ("winrm", 5986, "sshd"),  # the asset's WinRM port is no port of an SSH profile
        ("ssh", "sshd", "closed"),  # the asset's own SSH port wins over the profile's
        (None, "sshd", "closed"),  # an asset that names no protocol: its port stands
    ],
)
def test_checks_reach_the_asset_through_its_credential_profile(
    sshd_server: SshServer,
    service: TicketService,
    trees: TreeService,
    jobs: JobRunner,
    recipes: RecipeLibrary,
    state_file: Path,
    tmp_path: Path,
    asset_protocol: str | None,
    asset_port: int | str | None,
    profile_port: str,
) -> None:
    """What the window's tree pane does: hostname → asset → its profile → key from the profile,
    at the port of the profile's protocol."""
    ports = {"sshd": sshd_server.port, "closed": closed_port()}
    port = ports[asset_port] if isinstance(asset_port, str) else asset_port
    loop_asset = replace(ASSET, id="asset-loop", tag="LOOP-0001", serial="LOOP1",
                         hostname="127.0.0.1", protocol=asset_protocol, port=port)  # fmt: skip
    with service.store.write() as tx:
        tx.load_snapshot(assets=[loop_asset])
    profiles = ProfileService(service.store, JsonFileKeyring(tmp_path / "keyring.json"))
    profiles.save(CredentialProfile("lab", "ssh", sshd_server.username, "key",
                                    port=ports[profile_port],
                                    key_path=str(sshd_server.client_key_path)))  # fmt: skip
    profiles.assign(loop_asset.id, "lab")
    KnownHosts.in_data_dir(jobs.data_dir).add("127.0.0.1", sshd_server.port,
                                              sshd_server.host_pkey())  # fmt: skip
    state_file.write_text("running since 08:00\n", "utf-8")
    ref = service.create(
        title="Backup service down on the loopback machine", category="software", impact=2,
        urgency=2, requester=REQUESTER.email, asset=loop_asset.tag,
    ).ticket.ref  # fmt: skip
    connect = profiles_connect(profiles)
    assert connect(ASSET.hostname) is None  # an asset without a profile: out of reach
    executor = RemoteCheckExecutor(jobs, recipes, connect, "ana.lopez", ref)
    detail, transcript, unreached = walk(trees, ref, executor)
    assert unreached == [] and detail.ticket.status is Status.RESOLVED, unreached
    assert "| running since 08:00" in transcript
