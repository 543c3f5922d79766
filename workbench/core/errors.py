"""Errors a technician can cause or act on. Anything else is a bug."""

from __future__ import annotations

from collections.abc import Sequence


class WorkbenchError(Exception):
    """An error with a message a technician can act on; never shown with a traceback."""

    exit_code = 1


class BadInput(WorkbenchError):
    """The request itself is wrong (unknown reference, value out of range, illegal transition)."""

    exit_code = 2


class Problems(BadInput):
    """Nothing was done: `summary` says so in one line, `lines` are the problems, one each
    (shown on lines of their own, every other error is one line)."""

    def __init__(self, summary: str, lines: Sequence[str]) -> None:
        super().__init__("\n".join([summary, *lines]))
        self.summary = summary
        self.lines = tuple(lines)


class NotFound(BadInput):
    """A reference names nothing in the cache."""


class TransitionRefused(BadInput):
    """The lifecycle does not allow this action from the ticket's current status."""


class StoreError(WorkbenchError):
    """The local cache cannot be opened or written (unwritable dir, foreign file, newer schema)."""
