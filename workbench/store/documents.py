"""Documents kept in the cache as written (trees, recipes, the central policy): rows whose
id people choose, and who approved them.

Shared by store/trees.py and store/recipes.py: a row read into its record dataclass, and a
record saved — inserted, or replacing the stored one of its id — with its outbox operation
in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, insert, select, update

from workbench.core.policy import POLICY_ID
from workbench.store import codec, schema
from workbench.store.store import Reader, Writer
from workbench.store.sync_state import CENTRAL_URL, TECHNICIAN

Record = TypeVar("Record")


def all_of(db: Reader, table: Table, cls: type[Record], *order: ColumnElement[Any]) -> list[Record]:
    rows = db._db.execute(select(table).order_by(*order)).mappings()
    return [codec.record_from_row(cls, row) for row in rows]


def one_of(db: Reader, table: Table, cls: type[Record], row_id: str) -> Record | None:
    row = db._db.execute(select(table).where(table.c.id == row_id)).mappings().first()
    return codec.record_from_row(cls, row) if row else None


def save(tx: Writer, table: Table, entity: str, record: Any) -> None:
    """Insert the record's row, or replace the stored one of the same id; queued for sync."""
    values = {f.name: getattr(record, f.name) for f in fields(record) if f.name != "id"}
    version = tx._db.scalar(select(table.c.version).where(table.c.id == record.id))
    if version is None:
        tx._db.execute(insert(table).values(id=record.id, **values))
        tx._queue(entity, record.id, "insert", values, 0)
    else:
        tx._db.execute(update(table).where(table.c.id == record.id).values(**values))
        tx._queue(entity, record.id, "update", values, version)


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """The help desk's policy as pulled from the central database (never written here)."""

    id: str
    policy_version: int
    source: str
    digest: str


def stored_policy(db: Reader) -> StoredPolicy | None:
    return one_of(db, schema.policies, StoredPolicy, POLICY_ID)


@dataclass(frozen=True, slots=True)
class Approvals:
    """Which stored recipes and trees may run here (DESIGN.md §11). A cache signed in to a
    central database runs only those a lead approved (the central records the lead who
    pushed them; a technician's own unapproved import is refused there). A cache on its own
    shares nothing: what its user imports is theirs to run."""

    connected: bool
    technician: str | None
    leads: frozenset[str]

    @classmethod
    def of(cls, db: Reader) -> Approvals:
        leads = frozenset(t.login for t in db.technicians() if t.role.leads)
        return cls(bool(db.meta(CENTRAL_URL)), db.meta(TECHNICIAN), leads)

    def approved(self, approved_by: str | None) -> bool:
        return not self.connected or (approved_by is not None and approved_by in self.leads)

    def approver(self) -> str | None:
        """Who an import here is approved by: its technician, if they may approve."""
        if not self.connected:
            return self.technician or "local"
        return self.technician if self.technician in self.leads else None
