"""What one commit changed: the change set every view listens to instead of being refreshed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ChangeSet:
    """The tables a commit wrote and the tickets whose row, worklog or runs it changed.

    `everything`: another process committed and nothing more is known; every view re-reads.
    """

    tickets: frozenset[str] = frozenset()
    tables: frozenset[str] = frozenset()
    everything: bool = False

    @classmethod
    def anything(cls) -> ChangeSet:
        return cls(everything=True)

    def __bool__(self) -> bool:
        return self.everything or bool(self.tickets or self.tables)

    def __or__(self, other: ChangeSet) -> ChangeSet:
        return ChangeSet(
            self.tickets | other.tickets,
            self.tables | other.tables,
            self.everything or other.everything,
        )

    def touches_ticket(self, ticket_id: str) -> bool:
        return self.everything or ticket_id in self.tickets

    def touches(self, tables: Iterable[str]) -> bool:
        """True when any of `tables` may have changed."""
        return self.everything or not self.tables.isdisjoint(tables)
