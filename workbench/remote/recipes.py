"""Recipes (DESIGN.md section 7): load YAML with located errors, validate values, render safely.

A parameter value never becomes code: after validation it is quoted for the recipe's shell
(POSIX ``shlex.quote``; PowerShell single quotes, with embedded quotes doubled; cmd only accepts
plain values). Secrets are never put into the command line at all: the rendered script starts by
reading them from stdin (one line each, in the order of ``Rendered.secret_names``) into shell
variables, and the template placeholder becomes a reference to that variable. The runner writes
the secret values to the channel's stdin, so the command shown, logged and audited has no secret.
"""

from __future__ import annotations

import base64
import bisect
import ipaddress
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from workbench.core import patterns
from workbench.core.errors import BadInput
from workbench.core.files import UnreadableFile, read_text_file
from workbench.core.yaml_loader import open_document

RECIPES_DIR = Path(__file__).resolve().parent.parent.parent / "resources" / "recipes"

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_RECIPE_ID = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
_CMD_PLAIN = re.compile(r"^[A-Za-z0-9._:/\\-]+$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)
MAX_VALUE_LENGTH = 4096
# Whole numbers a script can hold (PowerShell [long], a POSIX shell's arithmetic).
INT_RANGE = (-(2**63), 2**63 - 1)
# The workbench's own deadline for a job: more than a day is a mistake, not a long job.
MAX_TIMEOUT_S = 24 * 60 * 60
# Exit codes a command can end with: POSIX 0-255; Windows an unsigned 32-bit number.
EXIT_CODE_RANGE = {True: (0, 255), False: (0, 2**32 - 1)}  # key: shell.posix
MAX_EXIT_CODES = 32
MAX_TITLE_LENGTH = 120
_ASCII_INT = re.compile(r"[+-]?[0-9]+")
SECRET_MASK = "********"


class Protocol(StrEnum):
    SSH = "ssh"
    WINRM = "winrm"


class Shell(StrEnum):
    SH = "sh"
    BASH = "bash"
    POWERSHELL = "powershell"
    CMD = "cmd"

    @property
    def posix(self) -> bool:
        return self in (Shell.SH, Shell.BASH)


class Target(StrEnum):
    """Where a recipe runs: the ticket's machine, or a service host this cache names
    (workbench.services.remote.ServiceHosts): AD tools run on a host with RSAT, FOG tasks on
    the FOG server, never on the user's PC."""

    ASSET = "asset"
    DIRECTORY_HOST = "directory-host"
    FOG_SERVER = "fog-server"

    @property
    def label(self) -> str:
        return _TARGET_LABELS[self]


_TARGET_LABELS = {
    Target.ASSET: "the ticket's machine",
    Target.DIRECTORY_HOST: "the directory host (a server with RSAT)",
    Target.FOG_SERVER: "the FOG server",
}


class ParamType(StrEnum):
    STRING = "string"
    INT = "int"
    CHOICE = "choice"
    PATH = "path"
    HOSTNAME = "hostname"
    SECRET = "secret"


class RecipeError(BadInput):
    """A recipe file is malformed; the message names file, line and column."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: ParamType
    required: bool = False
    default: str | None = None
    description: str = ""
    pattern: str | None = None  # string: the whole value must match
    choices: tuple[str, ...] = ()  # choice
    minimum: int | None = None  # int
    maximum: int | None = None  # int
    keyring: str | None = None  # secret: keyring service name to look the value up in
    # A value may start like an option (`-x`; `/x` for PowerShell and cmd): only when the
    # recipe's author says so, for a value the command must take as an option.
    options: bool = False

    def check(self, raw: str) -> str:
        """The canonical value, or BadInput saying what is wrong (never echoing a secret)."""
        where = f"parameter {self.name!r}"
        shown = "the value" if self.type is ParamType.SECRET else repr(raw)
        if "\x00" in raw:
            raise BadInput(f"{where}: {shown} contains a NUL character")
        try:
            raw.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(f"{where}: {shown} is not valid text") from None
        if len(raw) > MAX_VALUE_LENGTH:
            raise BadInput(f"{where}: longer than {MAX_VALUE_LENGTH} characters")
        if self.type is ParamType.INT:
            return str(self._int(raw, where))
        problem = self._problem(raw)
        if problem:
            raise BadInput(f"{where}: {shown} {problem}")
        return raw

    def _problem(self, raw: str) -> str | None:
        one_line = "\n" not in raw and "\r" not in raw
        match self.type:
            case ParamType.STRING if self.pattern is not None:
                try:
                    matched = patterns.is_full_match(self.pattern, raw)
                except patterns.MatchTimeout as exc:  # the pattern was checked at load
                    return str(exc)
                return None if matched else f"does not match {self.pattern}"
            case ParamType.CHOICE:
                return None if raw in self.choices else f"is not one of {', '.join(self.choices)}"
            case ParamType.PATH:
                return None if raw and one_line else "is not a path (one non-empty line)"
            case ParamType.HOSTNAME:
                return None if _is_hostname(raw) else "is not a host name or IP address"
            case ParamType.SECRET:
                # Secrets travel as one stdin line each.
                return None if one_line else "must not contain line breaks"
        return None

    def _int(self, raw: str, where: str) -> int:
        if not _ASCII_INT.fullmatch(raw.strip()):  # int() would also take "1_000" and "١"
            raise BadInput(f"{where}: {raw!r} is not a whole number")
        number = int(raw.strip(), 10)
        if not INT_RANGE[0] <= number <= INT_RANGE[1]:
            raise BadInput(f"{where}: {number} is outside the 64-bit range of a script's numbers")
        if self.minimum is not None and number < self.minimum:
            raise BadInput(f"{where}: {number} is below the minimum {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise BadInput(f"{where}: {number} is above the maximum {self.maximum}")
        return number


def _is_hostname(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(_HOSTNAME.match(value)) and not value.startswith("-")
    return True


@dataclass(frozen=True, slots=True)
class Recipe:
    id: str
    title: str
    protocol: Protocol
    shell: Shell
    script: str
    params: tuple[Param, ...] = ()
    confirm: bool = False
    timeout: int = 300
    ok_codes: tuple[int, ...] = (0,)
    reboot_codes: tuple[int, ...] = ()
    description: str = ""
    expected_output: str = ""
    source: Path | None = None
    target: Target = Target.ASSET

    def param(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.params) or "none"
        raise BadInput(f"recipe {self.id} has no parameter {name!r} (parameters: {known})")

    @property
    def secret_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.type is ParamType.SECRET)

    def validate(self, values: Mapping[str, str]) -> dict[str, str]:
        """Checked values of every parameter (defaults filled in); BadInput on the first problem."""
        for name in values:
            self.param(name)
        checked: dict[str, str] = {}
        for param in self.params:
            raw = values.get(param.name, param.default)
            if raw is None:
                if param.required:
                    raise BadInput(f"recipe {self.id} needs the parameter {param.name!r}")
                continue
            checked[param.name] = param.check(raw)
            if not param.options and param.type in _OPERANDS:
                _not_an_option(param.name, checked[param.name], self.shell)
        return checked

    def masked(self, values: Mapping[str, str]) -> dict[str, str]:
        """The values for logs and audit: secrets replaced by a mask."""
        secret = {p.name for p in self.secret_params}
        return {k: SECRET_MASK if k in secret else v for k, v in values.items()}

    def render(self, values: Mapping[str, str]) -> Rendered:
        """Validate ``values`` and build the command; secrets go to ``Rendered.stdin`` only.

        POSIX shells never get a value spliced into their code: a placeholder becomes a
        positional parameter ("$1", …) and the values follow the script as the arguments of
        `sh -c`, each quoted as one word of that command line. PowerShell and cmd get each
        value as one quoted literal in its place (see `quote`)."""
        checked = self.validate(values)
        secrets = [p.name for p in self.secret_params if p.name in checked]
        plain = [p.name for p in self.params if p.type is not ParamType.SECRET]

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            param = self.param(name)
            if param.type is ParamType.SECRET:
                return secret_reference(self.shell, name)
            if self.shell.posix:
                return f'"${{{plain.index(name) + 1}}}"'
            return quote(self.shell, checked.get(name, ""), name)

        body = _PLACEHOLDER.sub(substitute, self.script)
        script = secret_prelude(self.shell, secrets) + body
        arguments = [checked.get(name, "") for name in plain] if self.shell.posix else []
        command, script_input = launch(self.shell, script, arguments)
        stdin = script_input + "".join(checked[name] + "\n" for name in secrets)
        return Rendered(self, script, command, stdin, tuple(secrets))


@dataclass(frozen=True, slots=True)
class Rendered:
    recipe: Recipe
    script: str  # what the shell runs; safe to show and log (no secret values)
    command: str  # the remote command line that starts the shell with the script
    stdin: str = field(repr=False)  # secret values, one per line; never logged
    secret_names: tuple[str, ...] = ()


# PowerShell ends a single-quoted string at any of these, not only at the ASCII one.
_PS_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")


def powershell_literal(value: str) -> str:
    """``value`` as one PowerShell single-quoted string: each quote character doubled, as
    PowerShell reads a doubled one as that character (recipes and session launchers both)."""
    return "'" + _PS_QUOTES.sub(r"\1\1", value) + "'"


def quote(shell: Shell, value: str, name: str = "value") -> str:
    """``value`` as one literal word for ``shell``."""
    if shell.posix:
        return shlex.quote(value)
    if shell is Shell.POWERSHELL:
        return powershell_literal(value)
    if not _CMD_PLAIN.match(value):
        raise BadInput(
            f"parameter {name!r}: {value!r} cannot be passed to cmd safely; only letters, digits "
            "and . _ : / \\ - are allowed"
        )
    return value


# Values a technician types that a command takes as operands (a choice is the author's own).
_OPERANDS = {ParamType.STRING, ParamType.PATH, ParamType.HOSTNAME}


def _not_an_option(name: str, value: str, shell: Shell) -> None:
    """A value that would reach the command as an option (`--poweroff` as a restart message,
    `-rf` as a path) is refused: quoting keeps it one word, not a non-option."""
    leads = ("-",) if shell.posix else ("-", "/")
    if value.lstrip().startswith(leads):
        raise BadInput(
            f"parameter {name!r}: {value!r} starts like an option ({value.lstrip()[0]}); "
            "values may not start with " + " or ".join(repr(c) for c in leads)
        )


def _secret_var(name: str) -> str:
    return f"WB_SECRET_{name}"


def secret_reference(shell: Shell, name: str) -> str:
    if shell.posix:
        return f'"${_secret_var(name)}"'
    return f"${_secret_var(name)}"


def secret_prelude(shell: Shell, names: Iterable[str]) -> str:
    """Lines that read the secrets from stdin, in order, before the recipe's own script."""
    lines = []
    for name in names:
        var = _secret_var(name)
        if shell.posix:
            lines.append(f"IFS= read -r {var}\n")
        else:
            lines.append(f"${var} = [Console]::In.ReadLine()\n")
    return "".join(lines)


def _encoded_powershell(script: str) -> str:
    encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
    return f"powershell -NoProfile -NonInteractive -EncodedCommand {encoded}"


# Reads one stdin line (the recipe script, UTF-8 in base64) and runs it; the script's `exit N`
# ends PowerShell with N. Further stdin lines are the secrets the script's prelude reads.
POWERSHELL_BOOTSTRAP = _encoded_powershell(
    "$ProgressPreference = 'SilentlyContinue'; $wbScript = [Console]::In.ReadLine(); "
    "& ([scriptblock]::Create([Text.Encoding]::UTF8.GetString("
    "[Convert]::FromBase64String($wbScript))))"
)


def launch(shell: Shell, script: str, arguments: Sequence[str] = ()) -> tuple[str, str]:
    """The command line that makes the remote side run ``script`` in ``shell`` (POSIX: with
    ``arguments`` as its positional parameters), and what must precede the secrets on stdin.

    PowerShell scripts travel as the first stdin line: a Windows command line (8191 characters
    through cmd, and WinRM's rsp:Command) is too short for an encoded script of a few KB.
    """
    if shell.posix:
        words = " ".join(shlex.quote(a) for a in arguments)
        # `wb` is $0 (the name in the shell's own messages); the values are $1, $2, …
        return f"{shell.value} -c {shlex.quote(script)} wb{' ' + words if words else ''}", ""
    if shell is Shell.POWERSHELL:
        return POWERSHELL_BOOTSTRAP, base64.b64encode(script.encode("utf-8")).decode("ascii") + "\n"
    return f"cmd /c {script}", ""


# -- loading ---------------------------------------------------------------------------------

_TOP_KEYS = {
    "id", "title", "protocol", "shell", "params", "confirm", "timeout", "script", "exit_codes",
    "description", "expected_output", "target",
}  # fmt: skip
_PARAM_KEYS = {
    "type", "required", "default", "description", "pattern", "choices", "min", "max", "keyring",
    "options",
}  # fmt: skip


class _Problems:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, node: yaml.Node | None, message: str) -> None:
        if node is None:
            self.items.append(f"{self.path}: {message}")
        else:
            mark = node.start_mark
            self.items.append(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {message}")


def _mapping(node: yaml.Node, problems: _Problems, what: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        problems.add(node, f"{what} must be a mapping")
        return {}
    result: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            problems.add(key, f"{what}: keys must be plain names")
        elif key.value in result:
            problems.add(key, f"{what}: duplicate key {key.value!r}")
        else:
            result[key.value] = value
    return result


def read_recipe(path: Path) -> tuple[Recipe, str]:
    """One recipe file and its text as read (what an import stores is what was checked)."""
    try:
        text = read_text_file(path, "the recipe")
    except UnreadableFile as exc:
        raise RecipeError([f"{path}: cannot read: {exc.reason}"]) from None
    return parse_recipe(text, path), text


def parse_recipe(text: str, path: Path) -> Recipe:
    problems = _Problems(path)
    loader = None
    try:
        loader, root = open_document(text)
        if root is None:
            raise RecipeError([f"{path}: empty file"])
        recipe = _build(loader, root, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise RecipeError([f"{where}: invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:  # a ReaderError (a control character) carries no mark
        raise RecipeError([f"{path}: invalid YAML: {str(exc).splitlines()[0]}"]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if problems.items or recipe is None:
        raise RecipeError(problems.items or [f"{path}: not a recipe"])
    return recipe


def _value(loader: Any, node: yaml.Node) -> Any:
    return loader.construct_object(node, deep=True)


def _build(loader: Any, root: yaml.Node, problems: _Problems) -> Recipe | None:
    top = _mapping(root, problems, "a recipe")
    if not top:
        return None
    for key in top.keys() - _TOP_KEYS:
        problems.add(top[key], f"unknown key {key!r} (known: {', '.join(sorted(_TOP_KEYS))})")

    def text(key: str, required: bool = True) -> str:
        node = top.get(key)
        if node is None:
            if required:
                problems.add(root, f"missing {key!r}")
            return ""
        value = _value(loader, node)
        if not isinstance(value, str) or (required and not value.strip()):
            problems.add(node, f"{key!r} must be non-empty text")
            return ""
        return value

    def enum(key: str, kind: type[Protocol] | type[Shell] | type[Target]) -> Any:
        raw = text(key)
        try:
            return kind(raw)
        except ValueError:
            if raw:
                choices = ", ".join(m.value for m in kind)
                problems.add(top[key], f"{key!r} must be one of {choices}, not {raw!r}")
            return None

    recipe_id = text("id")
    if recipe_id and not _RECIPE_ID.match(recipe_id):
        problems.add(top["id"], f"id {recipe_id!r} must be lowercase words joined by . or -")
    protocol = enum("protocol", Protocol)
    target = enum("target", Target) if "target" in top else Target.ASSET
    title = text("title")
    if "\n" in title.strip() or len(title) > MAX_TITLE_LENGTH:
        problems.add(top["title"], f"'title' must be one line of at most {MAX_TITLE_LENGTH} "
                     "characters (the console lists it)")  # fmt: skip
    shell = enum("shell", Shell)
    script = text("script")
    params = _params(loader, top.get("params"), problems, shell)
    confirm = _flag(loader, top.get("confirm"), problems, "confirm")
    timeout = _int_node(loader, top.get("timeout"), problems, "timeout", 300)
    if not 0 < timeout <= MAX_TIMEOUT_S:
        problems.add(
            top.get("timeout"),
            f"'timeout' must be 1 to {MAX_TIMEOUT_S} seconds (24 h), not {_shown_int(timeout)}",
        )
    ok_codes, reboot_codes = _exit_codes(loader, top.get("exit_codes"), problems, shell)
    if params:
        _check_params_used(top["params"], params, script, problems)
    # Declared, valid or not: a parameter refused for its spec is not "unknown" in the script.
    declared = top.get("params")
    names = {
        key.value
        for key, _value in (declared.value if isinstance(declared, yaml.MappingNode) else ())
        if isinstance(key, yaml.ScalarNode)
    }
    quoted = set(_quoted_placeholders(shell, script)) if shell else set()
    scan = _CommandScan(shell, script) if shell else None
    line, counted = 1, 0
    for match in _PLACEHOLDER.finditer(script):
        line += script.count("\n", counted, match.start())
        counted = match.start()
        if match.group(1) not in names:
            problems.add(top["script"], f"script line {line}: unknown parameter {match.group(0)}")
        elif match.start() in quoted:
            problems.add(
                top["script"],
                f"script line {line}: {match.group(0)} is inside quotes; the workbench quotes "
                "values itself, so put placeholders outside quotes",
            )
        elif why := scan.why(match.start()) if scan else None:
            problems.add(top["script"], f"script line {line}: {match.group(0)} {why}")
    if problems.items or protocol is None or shell is None or target is None:
        return None
    return Recipe(
        id=recipe_id,
        title=title.strip(),
        protocol=protocol,
        shell=shell,
        script=script,
        params=params,
        confirm=confirm,
        timeout=timeout,
        ok_codes=ok_codes,
        reboot_codes=reboot_codes,
        description=text("description", required=False),
        expected_output=text("expected_output", required=False),
        source=problems.path,
        target=target,
    )


# A shell starts a comment at `#` where a word may start: after blanks and operators (so
# `true;# it's` is a comment, and the quote in it quotes nothing).
_WORD_ENDS = frozenset(" \t\n;&|()")
# Commands that run text as code (their own, or a child shell's or interpreter's): a value
# among their words could be executed, however it is quoted. A placeholder may not stand
# in one, nor be the command itself.
_EVALUATING = {
    Shell.SH: frozenset({
        "eval", "source", ".", "sh", "bash", "dash", "zsh", "ksh", "ash", "busybox", "su",
        "exec", "xargs", "trap", "find", "ssh", "watch", "python", "python3", "perl", "ruby",
        "node", "php", "awk", "gawk", "mawk", "nawk", "sed", "env", "command", "builtin",
    }),
    Shell.POWERSHELL: frozenset({
        "invoke-expression", "iex", "invoke-command", "icm", "start-process", "saps", "start",
        "powershell", "powershell.exe", "pwsh", "cmd", "cmd.exe", "&", ".", "add-type",
        "new-object", "invoke-item", "ii", "start-job", "sajb",
    }),
    Shell.CMD: frozenset({"cmd", "cmd.exe", "call", "start", "for", "powershell", "pwsh"}),
}  # fmt: skip
_EVALUATING[Shell.BASH] = _EVALUATING[Shell.SH]
# POSIX commands whose first non-option argument is a command they run.
_RUNNERS = frozenset({
    "sudo", "doas", "nice", "nohup", "timeout", "time", "setsid", "stdbuf", "ionice",
    "chroot", "runuser", "taskset", "flock", "unbuffer", "chrt",
})  # fmt: skip
# Where a simple command starts: after these (and at the start of the script).
# (`{` and `}` only as words of their own: `{not-a-group}` is an ordinary word.)
_COMMAND_STARTS = re.compile(
    r"(?:^|[;&|()`]|(?<!\S)[{}](?!\S)|(?<!\\)\n|\$\(|\bthen\b|\bdo\b|\belse\b)"
)
# PowerShell: statements; parentheses hold expressions, where a string is only a value.
_STATEMENT_STARTS = re.compile(r"(?:^|[;|{}]|(?<!`)\n)")
_HERE_STRING_OPENS = re.compile(r"@[\"'][ \t]*\n")
_HERE_STRING_CLOSES = re.compile(r"\n[\"']@")
_SCRIPTBLOCK = re.compile(r"\[scriptblock\]::create", re.I)


# A command start is at most this long plus the one character its lookahead reads (`else`).
_LONGEST_START = 6


class _CommandScan:
    """Why placeholders could become code (see `why`), asked in script order: the script is
    read once, left to right. (Reading it again from the start for every placeholder made a
    200 KB script take minutes.)"""

    def __init__(self, shell: Shell, script: str) -> None:
        self.shell = shell
        # Other placeholders count as plain words (their braces are no shell grammar); the
        # mask keeps every offset.
        self.masked = _PLACEHOLDER.sub(lambda m: "v" * len(m.group(0)), script)
        self.starts = _STATEMENT_STARTS if shell is Shell.POWERSHELL else _COMMAND_STARTS
        self.here_strings = _here_strings(script) if shell is Shell.POWERSHELL else []
        self._resume = 0  # where the search for command starts goes on
        self._settled = 0  # end of the last command start that more text cannot change
        self._command = _Command(-1)

    def why(self, at: int) -> str | None:
        """Why the placeholder at offset `at` could become code, or None for a plain word: the
        command it stands in runs text as code, it is the command itself (POSIX and cmd: a
        PowerShell string there is only a value), or it is inside a PowerShell here-string,
        where quotes are literal and $(…) runs. Offsets must come in increasing order."""
        index = bisect.bisect_right(self.here_strings, (at, len(self.masked)))
        if index and self.here_strings[index - 1][0] < at < self.here_strings[index - 1][1]:
            return 'is inside a here-string (@"…"@), where $(…) in a value runs'
        start = self._command_start(at)
        if start != self._command.start:
            self._command = _Command(start)
        command = self._command
        command.read(self.masked, at, self.shell)
        if not command.words:
            if self.shell is Shell.POWERSHELL:
                return None
            return "is where a command name goes: a value may not choose what runs"
        if self.shell.posix and command.runner is not None and command.options_after_runner:
            return f"is the command {command.runner} runs: a value may not choose what runs"
        if command.evaluating:
            return f"is given to {min(command.evaluating)}, which runs text as code"
        if self.shell is Shell.POWERSHELL and command.scriptblock:
            return "is given to [scriptblock]::Create, which runs text as code"
        return None

    def _command_start(self, at: int) -> int:
        """Where the command holding offset `at` starts, as if the script ended at `at`."""
        last = self._settled
        for match in self.starts.finditer(self.masked, self._resume, at):
            if match.end() < at - 1:  # its lookahead read text before `at`: final
                self._settled = self._resume = match.end()
            last = match.end()
        self._resume = max(self._settled, at - _LONGEST_START - 1)
        return last


class _Command:
    """The words of one simple command (or PowerShell statement) read so far."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.read_to = start  # text before this is in `done` (its last word may go on)
        self.done = 0  # words that ended (a blank followed them)
        self.evaluating_done: set[str] = set()
        self.runner_done: str | None = None  # the last runner word
        self.options_done = True  # every ended word after that runner is an option
        self.scriptblock = False
        # For the text up to the offset last asked about (the last word may be unfinished):
        self.words = 0
        self.evaluating: set[str] = set()
        self.runner: str | None = None
        self.options_after_runner = True

    def read(self, masked: str, at: int, shell: Shell) -> None:
        chunk = masked[self.read_to : at]
        words = chunk.split()
        ended = words if not chunk or chunk[-1].isspace() else words[:-1]
        for word in ended:
            self._add(word, shell)
        self.read_to = at - (len(words[-1]) if len(ended) < len(words) else 0)
        if shell is Shell.POWERSHELL and not self.scriptblock:
            back = max(self.start, at - len(chunk) - len("[scriptblock]::create"))
            self.scriptblock = bool(_SCRIPTBLOCK.search(masked, back, at))
        self.words, self.evaluating = self.done, set(self.evaluating_done)
        runner, options = self.runner_done, self.options_done
        if len(ended) < len(words):  # the unfinished word, as the text ends at `at`
            last = words[-1]
            self.words += 1
            self.evaluating |= _evaluating(last, shell)
            if _is_runner(last, self.done, shell):
                runner, options = last, True
            elif runner is not None:
                options = options and last.startswith("-")
        self.runner = runner
        self.options_after_runner = options

    def _add(self, word: str, shell: Shell) -> None:
        self.evaluating_done |= _evaluating(word, shell)
        if _is_runner(word, self.done, shell):
            self.runner_done, self.options_done = word, True
        elif self.runner_done is not None:
            self.options_done = self.options_done and word.startswith("-")
        self.done += 1


def _evaluating(word: str, shell: Shell) -> set[str]:
    name = word.strip("'\"").lower()
    return {name, name.rsplit("/", 1)[-1]} & _EVALUATING[shell]


def _is_runner(word: str, index: int, shell: Shell) -> bool:
    """sudo, nice, timeout, $SUDO…: their first word that is not an option is a command."""
    if not shell.posix:
        return False
    return (index == 0 and word.strip('"').startswith("$")) or word.rsplit("/", 1)[-1] in _RUNNERS


def _here_strings(script: str) -> list[tuple[int, int]]:
    """The spans of PowerShell here-strings, each from its @" to its "@ (a regex with a lazy
    `.*?` would scan to the end again for every opening without a close)."""
    spans: list[tuple[int, int]] = []
    position = 0
    while opening := _HERE_STRING_OPENS.search(script, position):
        closing = _HERE_STRING_CLOSES.search(script, opening.end())
        if closing is None:
            break
        spans.append((opening.start(), closing.end()))
        position = closing.end()
    return spans


def evaluated_placeholder(shell: Shell, script: str, at: int) -> str | None:
    """Why the placeholder at offset `at` could become code (see `_CommandScan.why`)."""
    return _CommandScan(shell, script).why(at)


def _quoted_placeholders(shell: Shell, script: str) -> list[int]:
    """Offsets of placeholders that sit inside '...' or "..." (where quoting would not hold).

    A small scanner, enough for recipe scripts: it knows backslash (POSIX) and backtick
    (PowerShell) escapes and # comments; here-documents are not recipe material.
    """
    escape = "\\" if shell.posix else "`"
    found: list[int] = []
    quote_char: str | None = None
    i = 0
    while i < len(script):
        char = script[i]
        if script.startswith("{{", i) and _PLACEHOLDER.match(script, i):
            if quote_char is not None:
                found.append(i)
        elif char == escape and quote_char != "'":
            i += 1
        elif quote_char is None and char == "#" and (i == 0 or script[i - 1] in _WORD_ENDS):
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
            continue
        elif quote_char is None and char in "'\"":
            quote_char = char
        elif char == quote_char:
            quote_char = None
        i += 1
    return found


def _flag(loader: Any, node: yaml.Node | None, problems: _Problems, what: str) -> bool:
    if node is None:
        return False
    value = _value(loader, node)
    if not isinstance(value, bool):
        problems.add(node, f"{what!r} must be true or false")
        return False
    return value


def _int_node(
    loader: Any, node: yaml.Node | None, problems: _Problems, what: str, default: int
) -> int:
    if node is None:
        return default
    value = _value(loader, node)
    if not isinstance(value, int) or isinstance(value, bool):
        problems.add(node, f"{what!r} must be a whole number")
        return default
    return value


def _shown_int(number: int) -> str:
    """A number for a message: one past 64 bits by its size, not by its 5,000 digits."""
    return str(number) if INT_RANGE[0] <= number <= INT_RANGE[1] else "a number past 64 bits"


def _exit_codes(
    loader: Any, node: yaml.Node | None, problems: _Problems, shell: Shell | None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if node is None:
        return (0,), ()
    mapping = _mapping(node, problems, "exit_codes")
    result: dict[str, tuple[int, ...]] = {"ok": (0,), "reboot": ()}
    for key, value_node in mapping.items():
        if key not in result:
            problems.add(value_node, f"exit_codes: unknown key {key!r} (known: ok, reboot)")
            continue
        value = _value(loader, value_node)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            problems.add(value_node, f"exit_codes.{key} must be a list of whole numbers")
            continue
        if _bad_exit_codes(key, value, value_node, problems, shell):
            continue
        result[key] = tuple(value)
    overlap = set(result["ok"]) & set(result["reboot"])
    if overlap:
        problems.add(node, f"exit_codes: {sorted(overlap)} listed as both ok and reboot")
    return result["ok"], result["reboot"]


def _bad_exit_codes(
    key: str, codes: list[int], node: yaml.Node, problems: _Problems, shell: Shell | None
) -> bool:
    """Adds the problems of one exit code list; True if it has any."""
    before = len(problems.items)
    where = f"exit_codes.{key}"
    if len(codes) > MAX_EXIT_CODES:
        problems.add(node, f"{where} lists {len(codes)} codes; at most {MAX_EXIT_CODES}")
    elif key == "ok" and not codes:
        problems.add(node, f"{where} is empty: no run could ever succeed")
    low, high = EXIT_CODE_RANGE[shell is None or shell.posix]
    system = "a POSIX shell" if shell is None or shell.posix else "Windows"
    items = node.value if isinstance(node, yaml.SequenceNode) else []
    for index, code in enumerate(codes[:MAX_EXIT_CODES]):
        at = items[index] if index < len(items) else node
        if not low <= code <= high:
            problems.add(at, f"{where}: {_shown_int(code)} is no exit code of {system} "
                         f"({low}-{high})")  # fmt: skip
        elif code in codes[:index]:
            problems.add(at, f"{where}: {code} is listed twice")
    return len(problems.items) > before


def _check_params_used(
    node: yaml.Node, params: tuple[Param, ...], script: str, problems: _Problems
) -> None:
    """A parameter the script never uses is a typo or a leftover: the value asked for would
    do nothing."""
    used = {match.group(1) for match in _PLACEHOLDER.finditer(script)}
    keys = {k.value: k for k, _v in node.value if isinstance(k, yaml.ScalarNode)}
    for param in params:
        if param.name not in used:
            problems.add(keys.get(param.name, node), f"parameter {param.name!r} is not used "
                         f"in the script (no {{{{{param.name}}}}})")  # fmt: skip


def _params(
    loader: Any, node: yaml.Node | None, problems: _Problems, shell: Shell | None
) -> tuple[Param, ...]:
    if node is None:
        return ()
    result = []
    for name, spec_node in _mapping(node, problems, "params").items():
        param = _param(loader, name, spec_node, problems, shell)
        if param is not None:
            result.append(param)
    return tuple(result)


def _param(
    loader: Any,
    name: str,
    node: yaml.Node,
    problems: _Problems,
    shell: Shell | None,
) -> Param | None:
    where = f"parameter {name!r}"
    if not _PARAM_NAME.match(name):
        problems.add(node, f"{where}: names are lowercase letters, digits and _")
    spec = _mapping(node, problems, where)
    before = len(problems.items)
    for key in spec.keys() - _PARAM_KEYS:
        problems.add(spec[key], f"{where}: unknown key {key!r}")
    values = {key: _value(loader, value) for key, value in spec.items()}
    try:
        kind = ParamType(str(values.get("type")))
    except ValueError:
        choices = ", ".join(t.value for t in ParamType)
        problems.add(spec.get("type", node), f"{where}: 'type' must be one of {choices}")
        return None
    _check_type_options(kind, spec, values, problems, where, shell)
    _check_secret(kind, node, spec, values, problems, where, shell)
    if not isinstance(values.get("required", False), bool):
        problems.add(spec["required"], f"{where}: 'required' must be true or false")
    default = values.get("default")
    if default is not None and not isinstance(default, str | int):
        problems.add(spec["default"], f"{where}: 'default' must be text or a number")
    if default is not None and values.get("required") is True:
        problems.add(spec["default"], f"{where}: a required parameter has no use for a "
                     "default (it is always given); drop one of them")  # fmt: skip
    if "options" in values and kind not in _OPERANDS:
        problems.add(spec["options"], f"{where}: 'options' is for types string, path and "
                     "hostname (other values never start an option)")  # fmt: skip
    if not isinstance(values.get("description", ""), str):
        problems.add(spec["description"], f"{where}: 'description' must be text")
    if len(problems.items) > before:
        return None
    param = Param(
        name=name,
        type=kind,
        required=values.get("required", False),
        default=None if default is None else str(default),
        description=str(values.get("description", "")),
        pattern=values.get("pattern"),
        choices=tuple(values.get("choices", ())),
        minimum=values.get("min"),
        maximum=values.get("max"),
        keyring=values.get("keyring"),
        options=values.get("options") is True,
    )
    if "options" in values and not isinstance(values["options"], bool):
        problems.add(spec["options"], f"{where}: 'options' must be true or false")
    if param.default is not None:
        try:
            param.check(param.default)
        except BadInput as exc:
            problems.add(spec["default"], f"default: {exc}")
            return None
    return param


def _check_type_options(
    kind: ParamType,
    spec: dict[str, yaml.Node],
    values: dict[str, Any],
    problems: _Problems,
    where: str,
    shell: Shell | None,
) -> None:
    pattern = values.get("pattern")
    if pattern is not None:
        if kind is not ParamType.STRING or not isinstance(pattern, str):
            problems.add(spec["pattern"], f"{where}: 'pattern' is text, for type string only")
        else:
            try:
                patterns.compile_pattern(pattern)
            except patterns.UnsafePattern as exc:
                problems.add(spec["pattern"], f"{where}: bad pattern: {exc}")
    choices = values.get("choices")
    if (kind is ParamType.CHOICE or choices is not None) and (
        kind is not ParamType.CHOICE
        or not isinstance(choices, list)
        or not choices
        or not all(isinstance(c, str) for c in choices)
    ):
        problems.add(spec.get("choices", spec.get("type")), f"{where}: type choice needs "
                     "'choices', a non-empty list of text")  # fmt: skip
    elif kind is ParamType.CHOICE and isinstance(choices, list):
        _check_choices(choices, spec["choices"], problems, where, shell)
    bounds: dict[str, int] = {}
    for bound in ("min", "max"):
        value = values.get(bound)
        if bound not in values:
            continue
        if kind is not ParamType.INT or not isinstance(value, int) or isinstance(value, bool):
            problems.add(spec[bound], f"{where}: {bound!r} is a whole number, for type int only")
        elif not INT_RANGE[0] <= value <= INT_RANGE[1]:
            problems.add(spec[bound], f"{where}: {bound!r} is {_shown_int(value)}, outside the "
                         "64-bit range of a script's numbers")  # fmt: skip
        else:
            bounds[bound] = value
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:
        problems.add(spec["min"], f"{where}: 'min' {bounds['min']} is above 'max' "
                     f"{bounds['max']}: no value could be given")  # fmt: skip


def _check_choices(
    choices: list[str], node: yaml.Node, problems: _Problems, where: str, shell: Shell | None
) -> None:
    items = node.value if isinstance(node, yaml.SequenceNode) else []
    seen: set[str] = set()
    for index, choice in enumerate(choices):
        at = items[index] if index < len(items) else node
        if not choice.strip() or "\n" in choice or "\r" in choice or "\x00" in choice:
            problems.add(at, f"{where}: choice {choice!r} must be one non-empty line")
        elif choice in seen:
            problems.add(at, f"{where}: choice {choice!r} is listed twice")
        elif shell is Shell.CMD and not _CMD_PLAIN.match(choice):
            problems.add(at, f"{where}: choice {choice!r} cannot be passed to cmd (only letters, "
                         "digits and . _ : / \\ -)")  # fmt: skip
        seen.add(choice)


def _check_secret(
    kind: ParamType,
    node: yaml.Node,
    spec: dict[str, yaml.Node],
    values: dict[str, Any],
    problems: _Problems,
    where: str,
    shell: Shell | None,
) -> None:
    if kind is ParamType.SECRET:
        if "default" in values:
            problems.add(spec["default"], f"{where}: a secret cannot have a default")
        if shell is Shell.CMD:
            problems.add(node, f"{where}: secrets need shell sh, bash or powershell (not cmd)")
    keyring = values.get("keyring")
    if keyring is not None and (kind is not ParamType.SECRET or not isinstance(keyring, str)):
        problems.add(spec["keyring"], f"{where}: 'keyring' names a keyring service, for secrets")


@dataclass(frozen=True, slots=True)
class RecipeLibrary:
    recipes: Mapping[str, Recipe]
    # Stored recipes that did not validate (id → first problem): never used, only named.
    invalid: Mapping[str, str] = field(default_factory=dict)

    def get(self, recipe_id: str) -> Recipe:
        try:
            return self.recipes[recipe_id]
        except KeyError:
            if recipe_id in self.invalid:
                raise BadInput(
                    f"recipe {recipe_id!r} in the cache is invalid and is not used: "
                    f"{self.invalid[recipe_id]}"
                ) from None
            raise BadInput(
                f"no recipe {recipe_id!r}; `workbench recipe list` shows the known ones"
            ) from None

    def __iter__(self) -> Iterator[Recipe]:
        return iter(sorted(self.recipes.values(), key=lambda r: r.id))

    def default_for(self, protocol: Protocol | None) -> Recipe | None:
        """The recipe to start with on a machine reached by ``protocol``: its diagnostics,
        else another that only reads, else any for the machine (never a directory or FOG
        recipe, never by the alphabet alone)."""
        mine = [r for r in self if r.target is Target.ASSET and r.protocol is protocol]
        ranked = sorted(mine, key=lambda r: (not r.id.endswith(".diagnostics"), r.confirm))
        return ranked[0] if ranked else None


def read_recipes(files: Iterable[Path]) -> tuple[list[tuple[Recipe, str]], list[str]]:
    """The recipes that load, with their text, and every problem with file, line and column
    (a file whose id an earlier one has is a problem too): `recipe validate` and import."""
    recipes: list[tuple[Recipe, str]] = []
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            loaded, text = read_recipe(path)
        except RecipeError as exc:
            problems.extend(exc.problems)
            continue
        if loaded.id in seen:
            problems.append(f"{path}: id {loaded.id!r} is also used by {seen[loaded.id]}")
        seen[loaded.id] = path
        recipes.append((loaded, text))
    return recipes, problems


def load_library(directory: Path | None = None) -> RecipeLibrary:
    """Every ``*.yaml`` recipe in ``directory`` (the shipped ones by default)."""
    loaded, problems = read_recipes(sorted((directory or RECIPES_DIR).glob("*.yaml")))
    if problems:
        raise RecipeError(problems)
    return RecipeLibrary({recipe.id: recipe for recipe, _text in loaded})
