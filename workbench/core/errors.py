"""Errors a technician can cause or act on. Anything else is a bug."""


class WorkbenchError(Exception):
    """An error with a message a technician can act on; never shown with a traceback."""

    exit_code = 1


class BadInput(WorkbenchError):
    """The request itself is wrong (unknown reference, value out of range, illegal transition)."""

    exit_code = 2


class NotFound(BadInput):
    """A reference names nothing in the cache."""


class TransitionRefused(BadInput):
    """The lifecycle does not allow this action from the ticket's current status."""


class StoreError(WorkbenchError):
    """The local cache cannot be opened or written (unwritable dir, foreign file, newer schema)."""
