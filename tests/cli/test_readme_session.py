"""The README's example session, run line by line as a reader would type it.

The block that follows the `tested-session` marker in README.md is read from the file, so the
README cannot promise what the command line does not do: each line runs through bash against a
fresh data directory (`WORKBENCH_DATA_DIR`; the session seeds its own demo data), must exit 0,
and a line that prints must print something other than "nothing found".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- tested-session:"
ASSIGNMENT = re.compile(r"^([A-Z_][A-Z0-9_]*)=\$\((.*)\)$", re.DOTALL)
# What a search that finds nothing says (an empty list is a true answer; a search for the
# README's own example finding nothing is not).
NOTHING_FOUND = ("No ticket matches", "No requester matches")


def session_lines(readme: str) -> list[str]:
    """The commands of the fenced block after the marker: continuation lines joined, blank
    lines and comment lines left out."""
    after = readme.split(MARKER, 1)
    assert len(after) == 2, f"README.md has no {MARKER!r} marker"
    block = re.match(r"[^\n]*\n```(?:sh|bash|console)?\n(.*?)\n```", after[1], re.DOTALL)
    assert block, "the tested-session marker is not followed by a fenced block"
    joined = re.sub(r"\\\n\s*", " ", block.group(1))
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


def test_the_session_block_is_found_and_uses_the_workbench() -> None:
    lines = session_lines(README.read_text(encoding="utf-8"))
    assert len(lines) >= 5
    assert lines[0].startswith("workbench demo seed")  # the session brings its own data
    assert all("workbench " in line for line in lines)


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """`workbench` and `python3` as this test's interpreter runs them; a fresh data dir."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, module in (("workbench", ["-m", "workbench"]), ("python3", [])):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {" ".join(module)} "$@"\n')
        shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        WORKBENCH_DATA_DIR=str(tmp_path / "data"),
    )
    return env


def run_line(line: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", line],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_every_line_of_the_readme_session_works(shell_env: dict[str, str]) -> None:
    env = dict(shell_env)
    for line in session_lines(README.read_text(encoding="utf-8")):
        assignment = ASSIGNMENT.match(line)
        if assignment:  # NAME=$(…): later lines use "$NAME"
            name = assignment.group(1)
            result = run_line(f'{line} && printf "%s" "${name}"', env)
        else:
            result = run_line(line, env)
        assert result.returncode == 0, (line, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, (line, result.stderr)
        output = result.stdout.strip()
        assert output, f"{line!r} printed nothing"
        assert not any(text in output for text in NOTHING_FOUND), (line, output)
        if assignment:
            env[assignment.group(1)] = output
    assert re.fullmatch(r"HD-\d{6}|P-[0-9A-F]{8}-\d{4}", env.get("REF", "")), env.get("REF")
