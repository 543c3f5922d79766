"""Recipes no value can escape (issue 23, point 1), tried against a real sshd on loopback.

POSIX recipes never get a value spliced into their code: a placeholder becomes "$1", "$2", …
and the values travel as the arguments of `sh -c`. So the forms that fooled the old quote
scanner (a here-document, a comment with a quote in it) now run the value as text; the forms
where any value is code by nature (eval, sh -c, a value as the command, …) are refused when
the recipe is read. Each refused form is also run with the value spliced in, the old way,
to show it really was dangerous; each accepted one is run to show no marker file appears."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.support.sshd import SshServer
from workbench.remote.hostkeys import KnownHosts
from workbench.remote.recipes import RecipeError, Shell, evaluated_placeholder, parse_recipe
from workbench.remote.ssh import SshAuth, SshTarget, run_command

pytestmark = pytest.mark.services

# Scripts the validator must accept, and in which the value stays text.
ACCEPTED = {
    "here-document": "cat <<EOT\nvalue: {{s}}\nEOT",
    "quoted here-document": "cat <<'EOT'\nvalue: {{s}}\nEOT",
    "comment with a quote": 'true;# it\'s\necho "\' " {{s}} " \'"',
    "assignment then use": 'v={{s}}\necho "$v"',
    "line continuation": "printf '%s\\n' \\\n  {{s}}",
    "IFS games": "IFS=';'; printf '%s\\n' {{s}}",
    "in a pipeline": "printf '%s' {{s}} | cat",
    "test expression": "[ {{s}} = x ] || echo no",
}
# Scripts in which any value is code: refused, with what makes it so, and (where this
# machine can show it) a value that does harm when it is spliced in as one quoted word.
EVIL = "EVIL"  # replaced by the path of a script that creates the marker
REFUSED = {
    "eval": ("eval echo {{s}}", "eval", "$(touch MARKER)"),
    "sh -c": ("sh -c {{s}}", "sh", "touch MARKER"),
    "bash -c after a pipe": ("true | bash -c {{s}}", "bash", "touch MARKER"),
    "xargs sh": ("echo x | xargs sh -c {{s}}", "sh", "touch MARKER"),
    "find -exec": ("find /tmp -maxdepth 0 -exec sh -c {{s}} \\;", "find", "touch MARKER"),
    "source": (". {{s}}", ".", EVIL),
    "the value as the command": ("{{s}} --version", "command name", EVIL),
    "after then": ("if true; then {{s}}; fi", "command name", EVIL),
    "sudo runs it": ("sudo -n {{s}}", "sudo", None),
    "a variable runs it": ("$SUDO {{s}}", "$SUDO", None),
    "awk program": ("awk {{s}} /dev/null", "awk", 'BEGIN { system("touch MARKER") }'),
}
POWERSHELL_REFUSED = {
    "Invoke-Expression": "Invoke-Expression {{s}}",
    "iex after a pipe": "Get-Date | iex {{s}}",
    "expandable here-string": '$t = @"\nname: {{s}}\n"@\nWrite-Output $t',
    "scriptblock": "& ([scriptblock]::Create({{s}}))",
    "Start-Process": "Start-Process notepad -ArgumentList {{s}}",
}


def recipe_text(script: str, shell: str = "sh", protocol: str = "ssh") -> str:
    return (
        f"id: test.corpus\ntitle: Corpus\nprotocol: {protocol}\nshell: {shell}\n"
        f"params:\n  s: {{type: string, options: true}}\nscript: {json.dumps(script)}\n"
    )


def values(marker: Path) -> list[str]:
    """Values that run `touch MARKER` if they are ever taken for code."""
    touch = f"touch {marker}"
    return [f"$({touch})", f"`{touch}`", f"; {touch}", f"' ; {touch} ; '",
            f'" ; {touch} ; "', f"\n{touch}\n", f"EOT\n{touch}\ncat <<EOT"]  # fmt: skip


def run(server: SshServer, known: KnownHosts, command: str) -> None:
    run_command(
        SshTarget(server.host, server.username, server.port),
        SshAuth(identity=server.client_key_path),
        command,
        known,
        timeout_s=20,
        on_line=lambda _stream, _line: None,
    )


@pytest.fixture
def known(sshd_server: SshServer, tmp_path: Path) -> KnownHosts:
    hosts = KnownHosts(tmp_path / "known_hosts")
    hosts.add(sshd_server.host, sshd_server.port, sshd_server.host_pkey())
    return hosts


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted_forms_keep_every_value_text(
    name: str, sshd_server: SshServer, known: KnownHosts, tmp_path: Path
) -> None:
    recipe = parse_recipe(recipe_text(ACCEPTED[name]), tmp_path / "r.yaml")
    marker = tmp_path / f"marker-{name.replace(' ', '-')}"
    for value in values(marker):
        run(sshd_server, known, recipe.render({"s": value}).command)
        assert not marker.exists(), (name, value)


@pytest.mark.parametrize("name", REFUSED)
def test_refused_forms_are_refused_and_were_really_dangerous(
    name: str, sshd_server: SshServer, known: KnownHosts, tmp_path: Path
) -> None:
    script, said, harmful = REFUSED[name]
    with pytest.raises(RecipeError, match="runs text as code|command"):
        parse_recipe(recipe_text(script), tmp_path / "r.yaml")
    assert said in (evaluated_placeholder(Shell.SH, script, script.index("{{")) or "")
    if harmful is None:
        return  # no sudo here, and an empty $SUDO: shown refused, not run
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\ntouch {marker}\n")
    evil.chmod(0o755)
    value = str(evil) if harmful == EVIL else harmful.replace("MARKER", str(marker))
    # Spliced in as the old renderer did (one quoted word), the value still does harm.
    spliced = script.replace("{{s}}", shlex.quote(value))
    run(sshd_server, known, f"sh -c {shlex.quote(spliced)}")
    assert marker.exists(), f"{name}: the refused form was not dangerous after all"


@pytest.mark.parametrize("name", POWERSHELL_REFUSED)
def test_powershell_forms_that_run_a_value_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="runs text as code|here-string|inside quotes"):
        parse_recipe(
            recipe_text(POWERSHELL_REFUSED[name], "powershell", "winrm"), tmp_path / "r.yaml"
        )


def test_the_old_comment_trick_now_reads_as_a_placeholder_inside_quotes(tmp_path: Path) -> None:
    # The scanner knows `#` after `;` starts a comment, so the quote in it quotes nothing and
    # the placeholder is seen inside the double quotes the shell sees.
    with pytest.raises(RecipeError, match="inside quotes"):
        parse_recipe(recipe_text("true;# it's\necho \"' {{s}} \""), tmp_path / "r.yaml")
