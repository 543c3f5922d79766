"""Options and decorators the commands share."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from workbench.cli.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])


def json_option(func: F) -> F:
    """--json on a command: print the documented JSON shape instead of text."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (shapes in README).")(
        func
    )


def with_app(func: Callable[..., Any]) -> Callable[..., Any]:
    """Hand the command the shared AppContext as its first argument."""

    @wraps(func)
    @click.pass_obj
    def wrapper(app: AppContext, *args: Any, **kwargs: Any) -> Any:
        return func(app, *args, **kwargs)

    return wrapper
