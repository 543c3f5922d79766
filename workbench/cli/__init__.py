"""`workbench [--data-dir DIR] COMMAND`: the command line over the same services as the GUI.

Exit codes: 0 done, 1 the operation failed, 2 bad input. Errors are one line on stderr.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from workbench.cli.app import cli
from workbench.cli.context import log_path
from workbench.core.display import visible
from workbench.core.errors import WorkbenchError

log = logging.getLogger("workbench")


def _fail(message: str, code: int) -> int:
    # An error may quote stored or remote text (a title, a host's answer): shown visibly.
    click.echo(f"workbench: error: {visible(message)}", err=True)
    return code


def run(argv: Sequence[str] | None = None) -> int:
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="workbench",
            standalone_mode=False,
        )
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        return _fail(exc.format_message().replace("\n", " ") + hint, 2)
    except click.ClickException as exc:
        return _fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except click.Abort:
        return _fail("aborted", 1)
    except WorkbenchError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 1)
    except Exception:
        log.exception("internal error")
        where = log_path()
        return _fail(
            "internal error" + (f"; details in {where}" if where else "; details in the log"), 1
        )
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
