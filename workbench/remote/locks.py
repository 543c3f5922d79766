"""One lock per file, shared by every object in the process that rewrites or appends to it.

The window runs remote jobs from two panes (console and tree checks), each with its own
JobRunner: their known-hosts rewrites and audit appends must still take turns.
"""

from __future__ import annotations

import threading
from pathlib import Path

_locks: dict[Path, threading.Lock] = {}
_guard = threading.Lock()


def path_lock(path: Path) -> threading.Lock:
    key = path.resolve()
    with _guard:
        return _locks.setdefault(key, threading.Lock())
