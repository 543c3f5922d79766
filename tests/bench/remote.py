"""Benchmark: remote jobs over SSH on loopback (DESIGN.md section 9, issue 6).

(a) One `true` over SSH, connection included: the workbench (its SSH runner, and a whole job
    with log file and audit record) against the OpenSSH `ssh` client, to the same loopback sshd,
    interleaved, median of N. Goal: workbench ≤ 1.5× ssh.
(b) Fan-out of one recipe to 20 endpoints at concurrency 8: 20 separate sshd daemons on their
    own loopback ports (tests/support/sshd.py), each with its own host and client key; wall time.

Run with `.venv/bin/python -m tests.bench.remote`; prints the figures and writes the "Remote"
section of tests/bench/RESULTS.md (replacing an earlier one). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.results import RESULTS, write_section
from tests.support.sshd import SshServer, find_sshd, running_sshd
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.jobs import JobRequest, JobRunner
from workbench.remote.outcome import Outcome
from workbench.remote.recipes import Recipe, parse_recipe
from workbench.remote.ssh import SshAuth, SshTarget, run_command

HEADING = "## Remote"
GOAL_RATIO = 1.5


def _recipe(script: str) -> Recipe:
    return parse_recipe(
        "id: bench.remote\ntitle: Bench\nprotocol: ssh\nshell: sh\ntimeout: 60\n"
        f"script: {json.dumps(script)}\n",
        Path("bench.yaml"),
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def single(server: SshServer, runs: int, data_dir: Path) -> dict[str, float]:
    """Median ms of `true` via the runner, via a whole job, and via the ssh client."""
    known = KnownHosts.in_data_dir(data_dir)
    known.add(server.host, server.port, server.host_pkey())
    known_file = data_dir / "openssh_known_hosts"
    known_file.write_text(server.known_hosts_line + "\n", encoding="ascii")
    target = SshTarget(server.host, server.username, server.port)
    auth = SshAuth(identity=server.client_key_path)
    ssh_argv = [
        shutil.which("ssh") or "ssh", "-q", "-F", "/dev/null", "-i", str(server.client_key_path),
        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_file}", "-p", str(server.port),
        f"{server.username}@{server.host}", "true",
    ]  # fmt: skip
    runner = JobRunner(data_dir, max_workers=1)
    recipe = _recipe("true")
    times: dict[str, list[float]] = {"runner": [], "job": [], "ssh": []}

    def quiet(_stream: str, _line: str) -> None:
        return None

    try:
        for _ in range(runs):  # interleaved, so load on the shared machine hits all alike
            started = time.perf_counter()
            result = run_command(target, auth, "true", known, timeout_s=60, on_line=quiet)
            times["runner"].append(_ms(started))
            assert result.outcome is Outcome.OK, result.message
            started = time.perf_counter()
            job = runner.submit(JobRequest(recipe, {}, target, auth, "bench")).result(60)
            times["job"].append(_ms(started))
            assert job.outcome is Outcome.OK, job.message
            started = time.perf_counter()
            subprocess.run(ssh_argv, check=True, timeout=60, stdin=subprocess.DEVNULL)
            times["ssh"].append(_ms(started))
    finally:
        runner.shutdown()
    return {name: statistics.median(values) for name, values in times.items()}


def fanout(servers: list[SshServer], concurrency: int, data_dir: Path) -> tuple[float, int]:
    """Wall seconds of one `uname -a` on every server at ``concurrency``; and how many ok."""
    known = KnownHosts.in_data_dir(data_dir)
    for server in servers:
        known.add(server.host, server.port, server.host_pkey())
    recipe = _recipe("uname -a")
    runner = JobRunner(data_dir, max_workers=concurrency)
    try:
        started = time.perf_counter()
        jobs = [
            runner.submit(JobRequest(
                recipe, {}, SshTarget(s.host, s.username, s.port),
                SshAuth(identity=s.client_key_path), "bench",
            ))
            for s in servers
        ]  # fmt: skip
        results = [job.result(120) for job in jobs]
        wall = time.perf_counter() - started
    finally:
        runner.shutdown()
    return wall, sum(r.outcome is Outcome.OK for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21, help="single runs (median)")
    parser.add_argument("--endpoints", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sshd = find_sshd()
    if sshd is None or shutil.which("ssh") is None:
        sys.exit("needs OpenSSH: apt install openssh-server openssh-client")
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wb-remote-bench-")))
        servers = [stack.enter_context(running_sshd(sshd)) for _ in range(args.endpoints)]
        medians = single(servers[0], args.runs, tmp / "single")
        serial, serial_ok = fanout(servers, 1, tmp / "serial")
        wall, ok = fanout(servers, args.concurrency, tmp / "fanout")
    ratio = medians["runner"] / medians["ssh"]
    n = args.endpoints
    rows = [
        f"| `true` over SSH on loopback, connection included (median of {args.runs}) | "
        f"workbench runner {medians['runner']:.0f} ms vs OpenSSH `ssh` {medians['ssh']:.0f} ms "
        f"= {ratio:.2f}×; whole job (log file, audit) {medians['job']:.0f} ms | "
        f"≤ {GOAL_RATIO}× | ed25519 key; interleaved runs |",
        f"| fan-out of one recipe (`uname -a`) to {n} loopback endpoints, concurrency "
        f"{args.concurrency} | {wall:.2f} s wall ({ok}/{n} ok); concurrency 1: {serial:.2f} s "
        f"({serial_ok}/{n} ok) = {serial / wall:.1f}× faster | — | {n} separate sshd daemons, "
        "one port each |",
    ]
    for row in rows:
        print(row)
    write_section(HEADING, "tests/bench/remote.py", rows)
    print(f"wrote the Remote section of {RESULTS}")


if __name__ == "__main__":
    main()
