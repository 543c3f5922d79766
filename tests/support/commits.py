"""Counting the cache's commits: what "one user action is one transaction" is tested by."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from workbench.store import Store


@contextmanager
def commits(store: Store) -> Iterator[list[None]]:
    """The write transactions committed on `store` while the block runs, one entry each
    (a read's transaction ends with a commit too: the store begins writers IMMEDIATE)."""
    seen: list[None] = []

    def committed(connection: Any) -> None:
        if connection.info.get("immediate"):
            seen.append(None)

    event.listen(store.engine, "commit", committed)
    try:
        yield seen
    finally:
        event.remove(store.engine, "commit", committed)
