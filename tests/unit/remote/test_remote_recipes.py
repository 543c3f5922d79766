"""Recipe loading, validation and quoting (DESIGN.md section 7)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.recipes import sh_output
from workbench.core.errors import BadInput
from workbench.remote.recipes import (
    RECIPES_DIR,
    ParamType,
    Protocol,
    Recipe,
    RecipeError,
    Shell,
    Target,
    load_library,
    parse_recipe,
    quote,
    read_recipe,
)

HEADER = "id: t.one\ntitle: T\nprotocol: ssh\nshell: sh\n"
ARGV_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def parse(body: str, header: str = HEADER) -> Recipe:
    return parse_recipe(header + body, Path("r.yaml"))


def problems(text: str) -> list[str]:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(text, Path("r.yaml"))
    return caught.value.problems


def test_full_recipe_loads_with_defaults() -> None:
    recipe = parse(
        "params:\n"
        "  inf_path: {type: path, required: true}\n"
        "  count: {type: int, min: 1, max: 5, default: 2}\n"
        "  mode: {type: choice, choices: [fast, full]}\n"
        "  host: {type: hostname}\n"
        "  password: {type: secret, keyring: workbench-ad}\n"
        "  name: {type: string, pattern: '[a-z]+'}\n"
        "confirm: true\ntimeout: 900\nexit_codes: {ok: [0, 2], reboot: [100]}\n"
        "script: install-it {{inf_path}} {{count}} {{mode}} {{host}} {{password}} {{name}}\n"
    )
    assert (recipe.confirm, recipe.timeout) == (True, 900)
    assert (recipe.ok_codes, recipe.reboot_codes) == ((0, 2), (100,))
    assert [p.type for p in recipe.params] == [
        ParamType.PATH, ParamType.INT, ParamType.CHOICE,
        ParamType.HOSTNAME, ParamType.SECRET, ParamType.STRING,
    ]  # fmt: skip
    assert recipe.validate({"inf_path": "/x"}) == {"inf_path": "/x", "count": "2"}
    assert recipe.secret_params[0].keyring == "workbench-ad"


def test_defaults_without_values() -> None:
    recipe = parse("script: uptime\n")
    assert (recipe.confirm, recipe.timeout, recipe.ok_codes, recipe.reboot_codes) == (
        False, 300, (0,), (),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEADER, "r.yaml:1:1: missing 'script'"),
        (HEADER + "script: x\ncolour: red\n", "r.yaml:6:9: unknown key 'colour'"),
        (HEADER.replace("shell: sh", "shell: zsh") + "script: x\n", "r.yaml:4:8: 'shell' must be"),
        (
            HEADER + "script: echo {{nope}}\n",
            "r.yaml:5:9: script line 1: unknown parameter {{nope}}",
        ),
        (HEADER + "params:\n  a: {type: float}\nscript: x\n", "r.yaml:6:13: parameter 'a': 'type'"),
        (HEADER + "params:\n  a: {type: string, pattern: '('}\nscript: x\n", "bad pattern"),
        (HEADER + "params:\n  a: {type: choice}\nscript: x\n", "needs 'choices'"),
        (HEADER + "params:\n  a: {type: int, min: x}\nscript: x\n", "'min' is a whole number"),
        (HEADER + "params:\n  a: {type: secret, default: x}\nscript: x\n", "cannot have a default"),
        (
            HEADER + "params:\n  a: {type: int, max: 3, default: 9}\nscript: x\n",
            "above the maximum",
        ),
        (HEADER + "timeout: -1\nscript: x\n", "r.yaml:5:10: 'timeout' must be 1 to 86400 seconds"),
        (
            HEADER + 'params:\n  v: {type: int}\nscript: |\n  echo ok # it\'s\n  echo "n={{v}}"\n',
            "script line 2: {{v}} is inside quotes",
        ),
        (
            HEADER.replace("shell: sh", "shell: powershell")
            + 'params:\n  v: {type: int}\nscript: \'"a `" {{v}}"\'\n',
            "{{v}} is inside quotes",
        ),
        (HEADER + "exit_codes: {ok: [0], reboot: [0]}\nscript: x\n", "both ok and reboot"),
        (HEADER + "exit_codes: {ok: zero}\nscript: x\n", "exit_codes.ok must be a list"),
        (HEADER + "script: x\nscript: y\n", "r.yaml:6:1: a recipe: duplicate key 'script'"),
        ("id: Bad Id\ntitle: T\nprotocol: ssh\nshell: sh\nscript: x\n", "r.yaml:1:5: id 'Bad Id'"),
        (HEADER + "script: [unclosed\n", "r.yaml:6:1: invalid YAML"),
        ("- a list\n", "r.yaml:1:1: a recipe must be a mapping"),
        (
            HEADER.replace("shell: sh", "shell: cmd") + "params:\n  p: {type: secret}\nscript: x\n",
            "secrets need shell sh, bash or powershell",
        ),
    ],
)
def test_problems_are_located(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


INT_PARAM = HEADER + "params:\n  v: {spec}\nscript: echo {{{{v}}}}\n"
CHOICE = HEADER + "params:\n  v: {{type: choice, choices: {choices}}}\nscript: echo {{{{v}}}}\n"


# Nonsense that a recipe file can say: each refused where it is written, before anything runs.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Bounds that no value can meet, or past the 64-bit numbers a script holds.
        (INT_PARAM.format(spec="{type: int, min: 10, max: 1}"),
         "r.yaml:6:23: parameter 'v': 'min' 10 is above 'max' 1: no value could be given"),
        (INT_PARAM.format(spec="{type: int, max: 99999999999999999999}"),
         "r.yaml:6:23: parameter 'v': 'max' is a number past 64 bits"),
        (INT_PARAM.format(spec="{type: int, min: -9223372036854775809}"), "past 64 bits"),
        (INT_PARAM.format(spec="{type: int, min: 1, max: 5, default: 7}"), "above the maximum 5"),
        (INT_PARAM.format(spec="{type: int, min: 1, max: 5, default: 0}"), "below the minimum 1"),
        (INT_PARAM.format(spec="{type: string, pattern: '[0-9]+', default: abc}"),
         "r.yaml:6:49: default: parameter 'v': 'abc' does not match [0-9]+"),
        (INT_PARAM.format(spec="{type: string, required: true, default: x}"),
         "a required parameter has no use for a default"),
        (INT_PARAM.format(spec="{type: int, options: true}"), "'options' is for types string"),
        (INT_PARAM.format(spec="{type: int, description: [a, b]}"), "'description' must be text"),
        # Choices that cannot be chosen, or chosen twice.
        (CHOICE.format(choices="[]"), "needs 'choices', a non-empty list of text"),
        (CHOICE.format(choices="[a, a]"), "r.yaml:6:34: parameter 'v': choice 'a' is listed twice"),
        (CHOICE.format(choices="[a, '']"), "choice '' must be one non-empty line"),
        (CHOICE.format(choices='[a, "b\\nc"]'), "must be one non-empty line"),
        (CHOICE.format(choices="['a b', c]").replace("shell: sh", "shell: cmd"),
         "choice 'a b' cannot be passed to cmd"),
        # The same parameter twice, and one the script never uses.
        (HEADER + "params:\n  v: {type: int}\n  v: {type: path}\nscript: echo {{v}}\n",
         "r.yaml:7:3: params: duplicate key 'v'"),
        (HEADER + "params:\n  v: {type: int}\n  w: {type: int}\nscript: echo {{v}}\n",
         "r.yaml:7:3: parameter 'w' is not used in the script (no {{w}})"),
        # Timeouts of none, less than none, days or past 64 bits.
        (HEADER + "timeout: 0\nscript: x\n", "r.yaml:5:10: 'timeout' must be 1 to 86400"),
        (HEADER + "timeout: 172800\nscript: x\n", "not 172800"),
        (HEADER + "timeout: 99999999999999999999999\nscript: x\n", "not a number past 64 bits"),
        (HEADER + "timeout: 1.5\nscript: x\n", "'timeout' must be a whole number"),
        # Exit codes the shell cannot return, twice, too many, or none that succeeds.
        (HEADER + "exit_codes: {ok: [0, -1]}\nscript: x\n",
         "r.yaml:5:22: exit_codes.ok: -1 is no exit code of a POSIX shell (0-255)"),
        (HEADER + "exit_codes: {ok: [0], reboot: [256]}\nscript: x\n", "256 is no exit code"),
        (HEADER.replace("shell: sh", "shell: powershell")
         + "exit_codes: {ok: [0, 4294967296]}\nscript: x\n",
         "4294967296 is no exit code of Windows (0-4294967295)"),
        (HEADER + "exit_codes: {ok: [0, 99999999999999999999999]}\nscript: x\n",
         "a number past 64 bits is no exit code"),
        (HEADER + "exit_codes: {ok: [0, 3, 3]}\nscript: x\n", "exit_codes.ok: 3 is listed twice"),
        (HEADER + "exit_codes: {ok: []}\nscript: x\n", "exit_codes.ok is empty"),
        (HEADER + f"exit_codes: {{ok: {list(range(200))}}}\nscript: x\n",
         "exit_codes.ok lists 200 codes; at most 32"),
        # Where it runs, and a title that a list can show.
        (HEADER + "target: the-pc\nscript: x\n",
         "r.yaml:5:9: 'target' must be one of asset, directory-host, fog-server"),
        (HEADER.replace("title: T", "title: 'a\n\n  b'") + "script: x\n",
         "'title' must be one line"),
        (HEADER + "params:\n  [a]: {type: int}\n  v: {type: int}\nscript: echo {{v}}\n",
         "keys must be plain names"),
    ],
)  # fmt: skip
def test_nonsense_in_a_recipe_is_refused_where_it_is_written(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found
    # A parameter refused for its spec is still declared: its placeholders are not "unknown".
    assert not any("unknown parameter {{v}}" in p for p in found), found


@pytest.mark.parametrize(
    ("raw", "why"),
    [("9223372036854775808", "outside the 64-bit range"), ("١٢", "not a whole number"),
     ("1_000", "not a whole number"), ("-9223372036854775809", "outside the 64-bit range")],
)  # fmt: skip
def test_int_values_are_ascii_digits_within_64_bits(raw: str, why: str) -> None:
    recipe = parse("params:\n  v: {type: int}\nscript: echo {{v}}\n")
    assert recipe.validate({"v": "-9223372036854775808"}) == {"v": "-9223372036854775808"}
    with pytest.raises(BadInput, match=why):
        recipe.validate({"v": raw})


def test_recipes_say_where_they_run() -> None:
    library = load_library()
    assert {r.id for r in library if r.target is not Target.ASSET} == {
        "ad.reset-password", "ad.unlock-account", "fog.schedule-deploy"
    }  # fmt: skip
    assert library.get("ad.reset-password").target is Target.DIRECTORY_HOST
    assert library.get("fog.schedule-deploy").target is Target.FOG_SERVER
    assert parse("script: x\n").target is Target.ASSET
    titles = [r.title for r in library]
    assert len(set(titles)) == len(titles)
    assert all(t.split(":")[0] in {"Windows", "Linux", "Linux/macOS", "Active Directory", "FOG"}
               for t in titles), titles  # fmt: skip
    # A machine starts with its platform's diagnostics, never with a directory recipe.
    assert library.default_for(Protocol.WINRM).id == "windows.diagnostics"  # type: ignore[union-attr]
    assert library.default_for(Protocol.SSH).id == "linux.diagnostics"  # type: ignore[union-attr]
    assert library.default_for(None) is None


def _big_recipe(shell: str, line: str, size: int = 1_000_000) -> str:
    head = f"id: t.big\ntitle: Big\nprotocol: ssh\nshell: {shell}\n"
    head += "params:\n  v: {type: string}\nscript: |\n"
    return head + line * ((size - len(head)) // len(line))


# A recipe of a megabyte (the file size cap) validates in a few seconds, whatever its shape:
# the script is read once, not once per placeholder (a 200 KB one took three minutes).
@pytest.mark.parametrize(
    ("shell", "line"),
    [
        ("sh", "  echo {{v}} a b c; echo {{v}}\n"),
        ("sh", "  echo {{v}} {{v}} {{v}} {{v}} {{v}} {{v}}"),  # one long command line
        ("sh", "  sudo -n -x -y -z {{v}} -- \\\n"),
        ("sh", "  echo 'a' \"b\" \\c # {{v}} it's\n"),
        ("powershell", '  Write-Output {{v}}; @"\n'),  # here-strings that never close
        ("powershell", "  @'\n  x\n'@\n  Write-Output {{v}}\n"),
        ("powershell", "  $a = [scriptblock] {{v}} ({{v}}) | % {{ $_ }}\n"),
    ],
)
def test_a_megabyte_recipe_validates_in_seconds(shell: str, line: str) -> None:
    text = _big_recipe(shell, line)
    started = time.monotonic()
    try:
        parse_recipe(text, Path("big.yaml"))
    except RecipeError:
        pass  # refused or not: what counts is the time
    assert time.monotonic() - started < 8


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = problems("id: t\ntitle: T\nprotocol: telnet\nshell: sh\ntimeout: x\nscript: '{{a}}'\n")
    assert len(found) == 3, found


def test_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecipeError, match="cannot read"):
        read_recipe(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("spec", "good", "bad", "why"),
    [
        ("{type: string, pattern: '[A-Z]{2}-[0-9]+'}", "WA-42", "WA-42; reboot", "does not match"),
        ("{type: int, min: 1, max: 10}", "7", "11", "above the maximum"),
        ("{type: int}", " 3 ", "3.5", "not a whole number"),
        ("{type: choice, choices: [a, b]}", "b", "c", "not one of a, b"),
        ("{type: path}", "C:\\Drivers\\x.inf", "a\nb", "not a path"),
        ("{type: hostname}", "oly-acc-lt0421.corp.example", "-oProxyCommand=x", "not a host"),
        ("{type: hostname}", "fe80::1", "a b", "not a host"),
        ("{type: secret}", "pa ss'word", "two\nlines", "line breaks"),
    ],
)
def test_values_are_validated(spec: str, good: str, bad: str, why: str) -> None:
    recipe = parse(f"params:\n  v: {spec}\nscript: echo {{{{v}}}}\n")
    recipe.validate({"v": good})
    with pytest.raises(BadInput, match=why):
        recipe.validate({"v": bad})


def test_missing_required_unknown_and_nul_are_refused() -> None:
    recipe = parse("params:\n  v: {type: string, required: true}\nscript: echo {{v}}\n")
    with pytest.raises(BadInput, match="needs the parameter 'v'"):
        recipe.validate({})
    with pytest.raises(BadInput, match="has no parameter 'w'"):
        recipe.validate({"v": "x", "w": "y"})
    with pytest.raises(BadInput, match="NUL"):
        recipe.validate({"v": "a\x00b"})


def test_secret_errors_never_echo_the_value() -> None:
    recipe = parse("params:\n  p: {type: secret}\nscript: echo {{p}}\n")
    with pytest.raises(BadInput) as caught:
        recipe.validate({"p": "hunter2\nx"})
    assert "hunter2" not in str(caught.value)


def test_secret_goes_to_stdin_not_to_the_command() -> None:
    recipe = parse(
        "params:\n  u: {type: string}\n  p: {type: secret}\nscript: set-pw {{u}} {{p}}\n"
    )
    rendered = recipe.render({"u": "dana", "p": "hunter2"})
    assert "hunter2" not in rendered.command + rendered.script + repr(rendered)
    assert rendered.stdin == "hunter2\n" and rendered.secret_names == ("p",)
    assert rendered.script == 'IFS= read -r WB_SECRET_p\nset-pw "${1}" "$WB_SECRET_p"'
    assert rendered.command.endswith(" wb dana")  # the value as an argument, not as code
    assert recipe.masked(recipe.validate({"u": "dana", "p": "hunter2"})) == {
        "u": "dana",
        "p": "********",
    }


@settings(max_examples=100, deadline=None)
@given(value=ARGV_TEXT)
def test_posix_quoting_passes_any_text_literally_through_a_real_sh(value: str) -> None:
    # Values that start like an option too ("options: true"): this is about quoting alone.
    recipe = parse("params:\n  v: {type: string, options: true}\nscript: printf '%s' {{v}}\n")
    rendered = recipe.render({"v": value})
    # The remote login shell receives `rendered.command`; run it the same way, through sh -c.
    done = subprocess.run(["sh", "-c", rendered.command], capture_output=True, check=True)
    assert done.stdout == value.encode("utf-8")


@settings(max_examples=100, deadline=None)
@given(value=ARGV_TEXT)
def test_secrets_arrive_literally_through_stdin(value: str) -> None:
    recipe = parse("params:\n  p: {type: secret}\nscript: printf '%s' {{p}}\n")
    try:
        rendered = recipe.render({"p": value})
    except BadInput:
        assert "\n" in value or "\r" in value
        return
    done = subprocess.run(
        ["sh", "-c", rendered.command],
        input=rendered.stdin.encode(),
        capture_output=True,
        check=True,
    )
    assert done.stdout == value.encode("utf-8")


def _powershell_unquote(quoted: str) -> str:
    """How PowerShell reads a single-quoted string: a quote ends it unless another follows."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert quoted[0] in quotes
    chars, i = [], 1
    while i < len(quoted):
        char = quoted[i]
        if char in quotes:
            if i + 1 < len(quoted) and quoted[i + 1] in quotes:
                chars.append(char)
                i += 2
                continue
            assert i == len(quoted) - 1, f"string ends early at {i}: {quoted!r}"
            return "".join(chars)
        chars.append(char)
        i += 1
    raise AssertionError(f"unterminated: {quoted!r}")


@given(value=st.text())
def test_powershell_quoting_reads_back_as_the_value(value: str) -> None:
    assert _powershell_unquote(quote(Shell.POWERSHELL, value)) == value


def test_powershell_quoting_examples() -> None:
    assert quote(Shell.POWERSHELL, "O'Brien; Remove-Item C:\\") == "'O''Brien; Remove-Item C:\\'"
    assert quote(Shell.POWERSHELL, "$(evil)") == "'$(evil)'"


@pytest.mark.parametrize("value", ["C:\\Drivers\\net.inf", "host-01.corp", "a:b/c_d"])
def test_cmd_accepts_plain_values_as_is(value: str) -> None:
    assert quote(Shell.CMD, value) == value


@pytest.mark.parametrize("value", ["a b", "a&b", "x|y", "%PATH%", "a^b", '"', "", "a\nb"])
def test_cmd_refuses_anything_else(value: str) -> None:
    with pytest.raises(BadInput, match="cannot be passed to cmd safely"):
        quote(Shell.CMD, value)


def test_shipped_recipes_load_and_have_documented_output() -> None:
    library = load_library()
    recipes = list(library)
    assert len(recipes) >= 15
    readme = (RECIPES_DIR / "README.md").read_text("utf-8")
    for recipe in recipes:
        assert recipe.expected_output.strip(), recipe.id
        assert f"`{recipe.id}`" in readme, recipe.id
        changes = any(w in recipe.id for w in ("install", "clear", "restart", "reset", "unlock"))
        assert recipe.confirm or not changes, recipe.id


def test_library_reports_duplicate_ids(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(HEADER + "script: x\n", "utf-8")
    with pytest.raises(RecipeError, match="also used by"):
        load_library(tmp_path)
    with pytest.raises(BadInput, match="no recipe 'nope'"):
        load_library(RECIPES_DIR).get("nope")


def test_json_roundtrip_of_script_with_braces() -> None:
    recipe = parse(
        f"script: {json.dumps('echo {not a param} {{ v }}')}\nparams:\n  v: {{type: int}}\n"
    )
    assert sh_output(recipe.render({"v": "5"}).command) == "{not a param} 5\n"


def test_powershell_script_and_secrets_travel_on_stdin_not_the_command_line() -> None:
    import base64  # noqa: PLC0415

    reset = load_library().get("ad.reset-password")
    rendered = reset.render({"account": "dana.w", "password": "Winter'26$(x)"})
    # A short, fixed command line whatever the script's size (the Windows limit is 8191).
    assert rendered.command == load_library().get("windows.diagnostics").render({}).command
    assert len(rendered.command) < 1000
    encoded = rendered.command.rsplit(" ", 1)[1]
    bootstrap = base64.b64decode(encoded).decode("utf-16-le")
    assert "[Console]::In.ReadLine()" in bootstrap and "FromBase64String" in bootstrap
    first, secret, rest = rendered.stdin.split("\n")
    assert base64.b64decode(first).decode("utf-8") == rendered.script
    assert (secret, rest) == ("Winter'26$(x)", "")
    assert rendered.script.startswith("$WB_SECRET_password = [Console]::In.ReadLine()\n")
    assert "-Identity 'dana.w'" in rendered.script and "Winter" not in rendered.script
