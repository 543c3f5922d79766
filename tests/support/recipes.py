"""A recipe that is not shipped (to import, sync and run), a tree whose check names it, and
the validator's catalog of a recipe directory."""

from pathlib import Path

from workbench.remote.recipes import load_library
from workbench.trees.recipes import StaticCatalog, catalog_of


def catalog_from_dir(directory: Path) -> StaticCatalog:
    """The recipes in `directory`; a broken file raises RecipeError instead of being skipped."""
    return catalog_of(load_library(directory))


HELLO_ID = "site.hello"
HELLO_RECIPE = """\
id: site.hello
title: Say hello
protocol: ssh
shell: sh
params:
  name: {type: string, required: true, pattern: '[a-z]+'}
script: echo hello {{name}}
"""
# Not a recipe any more: an unknown protocol and a placeholder no parameter declares.
BROKEN_HELLO = HELLO_RECIPE.replace("protocol: ssh", "protocol: telnet").replace(
    "{{name}}", "{{nobody}}"
)

HELLO_TREE_ID = "say-hello"
HELLO_TREE = """\
id: say-hello
title: Greet the machine
version: 1
category: other
start: greet
nodes:
  greet:
    type: check
    text: Say hello on {{ticket.asset.hostname}}
    recipe: site.hello
    params: {name: world}
    branches:
      - {when: {exit_code: 0, stdout_matches: hello}, next: done, label: It answers}
      - {otherwise: true, next: visit, label: No answer}
  done:
    type: resolve
    resolution: The machine answers.
  visit:
    type: escalate
    tier: 2
    reason: The machine does not answer.
"""


def sh_output(command: str) -> str:
    """What a rendered POSIX command prints when a shell runs it, as the remote login shell
    would (values arrive as the script's own arguments, never as its code)."""
    import subprocess  # noqa: PLC0415

    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True).stdout
