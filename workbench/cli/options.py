"""Options and decorators the commands share."""

from __future__ import annotations

import re
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


# What SQLite stores in an INTEGER: a number past it would end as an OverflowError.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_ASCII_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)


class WholeNumber(click.IntRange):
    """Every integer option and argument: written with the digits 0-9 (Python's int() also
    takes '١' and '1_000') and within bounds, at most the 64 bits SQLite stores."""

    def __init__(self, low: int = INT64_MIN, high: int = INT64_MAX) -> None:
        super().__init__(max(low, INT64_MIN), min(high, INT64_MAX))

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not _ASCII_INTEGER.fullmatch(value.strip()):
            self.fail(f"{value!r} is not a whole number written with the digits 0-9", param, ctx)
        return super().convert(value, param, ctx)
