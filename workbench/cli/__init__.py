"""`workbench [--data-dir DIR] COMMAND`: the command line over the same services as the GUI.

Exit codes: 0 done, 1 the operation failed, 2 bad input. Errors are one line on stderr; a file
that does not check (a policy, a CSV export) adds one located problem a line after it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Sequence

import click

from workbench.cli.app import cli
from workbench.cli.context import log_path, logs_to_stderr
from workbench.core.display import visible
from workbench.core.errors import BadInput, Problems, WorkbenchError

log = logging.getLogger("workbench")

# A problem of a file, as every validator writes it: FILE:LINE[:COL]: message.
_LOCATED = re.compile(r"^\S.*?:\d+(?::\d+)?: \S")
_ENVIRONMENT_PREFIX = "WORKBENCH_"  # the variables options are read from (--data-dir, --as)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def _one_line(message: str) -> str:
    """An error's text for stderr: a summary line, then only located problems (FILE:LINE:
    message) on lines of their own; any other line break (a library's text quoted) is joined."""
    first, *rest = message.strip().splitlines() or [""]
    if rest and all(_LOCATED.match(line) for line in rest):
        return "\n".join(visible(line) for line in [first, *rest])
    return visible(" ".join(part.strip() for part in [first, *rest] if part.strip()))


def _fail(message: str, code: int) -> int:
    # An error may quote stored or remote text (a title, a host's answer): shown visibly.
    click.echo(f"workbench: error: {_one_line(message)}", err=True)
    return code


def _shown(text: str) -> str:
    """An argument decoded with surrogate escapes, its undecodable bytes as \\xNN and a URL's
    password (postgresql://USER:PASSWORD@…) left out."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no byte decoded to (a caller's own list)
        raw = text.encode("utf-8", "backslashreplace")
    return _URL_PASSWORD.sub(r"\1***@", raw.decode("utf-8", "backslashreplace"))


def _not_utf8(args: Sequence[str]) -> BadInput | None:
    """A refusal naming the first argument (or WORKBENCH_ variable) that is not UTF-8 text.

    Python hands undecodable bytes over as lone surrogates, which SQLite, YAML and the
    terminal all refuse later, each in its own way; nothing of the request is done then."""
    for index, arg in enumerate(args):
        if arg.isascii() or not _has_surrogate(arg):
            continue
        option, equals, _value = arg.partition("=")
        if arg.startswith("--") and equals:
            what = f"the value of {option}"
        elif index > 0 and args[index - 1].startswith("-"):
            what = f"argument {index + 1} (after {args[index - 1]})"
        else:
            what = f"argument {index + 1}"
        return BadInput(f"{what} is not UTF-8 text: {_shown(arg)!r}")
    for name, value in os.environ.items():
        if name.startswith(_ENVIRONMENT_PREFIX) and _has_surrogate(value):
            return BadInput(f"${name} is not UTF-8 text")  # not shown: it may be a passphrase
    return None


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def run(argv: Sequence[str] | None = None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    refused = _not_utf8(args)
    if refused is not None:
        return _fail(str(refused), refused.exit_code)
    try:
        result = cli.main(args=args, prog_name="workbench", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return _fail(exc.format_message().replace("\n", " ") + hint, 2)
    except click.ClickException as exc:
        return _fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except click.Abort:
        return _fail("aborted", 1)
    except Problems as exc:  # a summary, then each problem on a line of its own
        lines = [exc.summary, *exc.lines]
        click.echo("workbench: error: " + "\n".join(_one_line(line) for line in lines), err=True)
        return exc.exit_code
    except WorkbenchError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 1)
    except Exception:
        return _fail(_internal_error(), 1)
    return result if isinstance(result, int) else 0


def _internal_error() -> str:
    """A bug: its traceback goes to the log file (and to stderr with --verbose), never to a
    technician otherwise; with no log file the message does not point to one."""
    where = log_path()
    if where is None and not logs_to_stderr():
        # Not logged: with no handler, Python's last-resort one prints the traceback.
        return "internal error (no log file could be written; run again with --verbose)"
    log.exception("internal error")
    return f"internal error; details in {where}" if where else "internal error (traceback above)"


def main() -> None:
    sys.exit(run())
