"""No value becomes an option (issue 23, point 2): a technician's value that starts like an
option is refused for every operand parameter of every shipped recipe, unless the recipe's
author allows it; the restart recipes end their options before the message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.core.errors import BadInput
from workbench.remote.recipes import RECIPES_DIR, ParamType, load_library, parse_recipe

LIBRARY = load_library(RECIPES_DIR)
OPERANDS = [
    (recipe, param)
    for recipe in LIBRARY
    for param in recipe.params
    if param.type in (ParamType.STRING, ParamType.PATH, ParamType.HOSTNAME) and not param.options
]


def values_of(recipe, param, value):  # type: ignore[no-untyped-def]
    """Every required parameter filled with a harmless value, `param` with `value`."""
    harmless = {ParamType.INT: "1", ParamType.HOSTNAME: "pc-1", ParamType.PATH: "C:\\x.inf"}
    filled = {
        p.name: p.default or (p.choices[0] if p.choices else harmless.get(p.type, "abcd"))
        for p in recipe.params
        if p.required and p.type is not ParamType.SECRET
    }
    return {**filled, param.name: value}


@pytest.mark.parametrize(("recipe", "param"), OPERANDS, ids=lambda x: getattr(x, "id", None)
                         or getattr(x, "name", None))  # fmt: skip
@pytest.mark.parametrize("value", ["-x", "--poweroff", " -c", "-rf"])
def test_a_value_starting_like_an_option_is_refused(recipe, param, value) -> None:  # type: ignore[no-untyped-def]
    # A parameter with a pattern may refuse it on that ground first; refused either way.
    reason = "starts like an option" if param.pattern is None else "option|does not match"
    with pytest.raises(BadInput, match=reason):
        recipe.render(values_of(recipe, param, value))


def test_shipped_recipes_have_operands_to_check() -> None:
    assert len(OPERANDS) >= 5  # messages, paths, host names, entries…


@pytest.mark.parametrize("recipe", [r for r in LIBRARY if not r.shell.posix], ids=lambda r: r.id)
def test_powershell_and_cmd_values_may_not_start_with_a_slash(recipe) -> None:  # type: ignore[no-untyped-def]
    for param in recipe.params:
        if param.type in (ParamType.STRING, ParamType.PATH) and not param.options:
            reason = "starts like an option" if param.pattern is None else "option|does not match"
            with pytest.raises(BadInput, match=reason):
                recipe.render(values_of(recipe, param, "/s"))


@pytest.mark.parametrize("recipe_id", ["linux.restart", "linux.pxe-next-boot"])
def test_the_restart_message_comes_after_the_end_of_options(recipe_id: str) -> None:
    rendered = LIBRARY.get(recipe_id).render({"message": "Save your work now"})
    # The message's placeholder follows the end of options; its value is an argument.
    assert re.search(r'shutdown -r \+"\$\{\d\}" -- "\$\{\d\}"', rendered.script)
    assert rendered.command.endswith(" 'Save your work now'")
    with pytest.raises(BadInput):  # the message pattern cannot start an option either
        LIBRARY.get(recipe_id).render({"message": "-k"})


def test_an_author_may_allow_option_values(tmp_path: Path) -> None:
    source = (
        "id: site.grep\ntitle: Search a log\nprotocol: ssh\nshell: sh\n"
        "params:\n  flags: {type: string, pattern: '-[a-z]{1,3}', options: true}\n"
        "  path: {type: path, required: true}\n"
        "script: grep {{flags}} -- error {{path}}\n"
    )
    recipe = parse_recipe(source, tmp_path / "grep.yaml")
    rendered = recipe.render({"flags": "-in", "path": "/var/log/syslog"})
    assert rendered.script == 'grep "${1}" -- error "${2}"'
    assert rendered.command.endswith(" wb -in /var/log/syslog")
    with pytest.raises(BadInput, match="starts like an option"):
        recipe.render({"flags": "-in", "path": "-r"})
