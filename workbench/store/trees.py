"""Stored troubleshooting trees and tree runs: the SQL for workbench.trees.

Reads take a Reader, writes a Writer; every write queues its outbox operation in the same
transaction (trees sync like other reference data, runs like other work on a ticket).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update

from workbench.store import codec, documents, schema
from workbench.store.store import Reader, Writer

_trees = schema.trees
_runs = schema.tree_runs


@dataclass(frozen=True, slots=True)
class StoredTree:
    id: str
    tree_version: int
    title: str
    category: str
    source: str
    digest: str
    updated_at: datetime
    approved_by: str | None = None  # the lead who approved it (set centrally)


@dataclass(frozen=True, slots=True)
class TreeRunRecord:
    id: str
    tree_id: str
    tree_version: int
    tree_digest: str
    ticket_id: str
    technician: str
    status: str  # open | applied | abandoned
    state: str  # the runner's state as JSON
    started_at: datetime
    updated_at: datetime


def stored_trees(db: Reader) -> list[StoredTree]:
    return documents.all_of(db, _trees, StoredTree, _trees.c.category, _trees.c.id)


def stored_tree(db: Reader, tree_id: str) -> StoredTree | None:
    return documents.one_of(db, _trees, StoredTree, tree_id)


def save_tree(tx: Writer, tree: StoredTree) -> None:
    """Insert the tree, or replace the stored one of the same id."""
    documents.save(tx, _trees, "tree", tree)


def tree_run(db: Reader, run_id: str) -> TreeRunRecord | None:
    row = db._db.execute(select(_runs).where(_runs.c.id == run_id)).mappings().first()
    return codec.record_from_row(TreeRunRecord, row) if row else None


def open_tree_run(db: Reader, ticket_id: str, tree_id: str) -> TreeRunRecord | None:
    """The unfinished run of this tree on this ticket, if there is one."""
    row = (
        db._db.execute(
            select(_runs)
            .where(
                _runs.c.ticket_id == ticket_id,
                _runs.c.tree_id == tree_id,
                _runs.c.status == "open",
            )
            .order_by(_runs.c.started_at.desc())
        )
        .mappings()
        .first()
    )
    return codec.record_from_row(TreeRunRecord, row) if row else None


def tree_runs_of_ticket(db: Reader, ticket_id: str) -> list[TreeRunRecord]:
    rows = db._db.execute(
        select(_runs).where(_runs.c.ticket_id == ticket_id).order_by(_runs.c.started_at)
    ).mappings()
    return [codec.record_from_row(TreeRunRecord, row) for row in rows]


def insert_tree_run(tx: Writer, run: TreeRunRecord) -> None:
    fields = {name: getattr(run, name) for name in TreeRunRecord.__dataclass_fields__}
    del fields["id"]
    tx._db.execute(insert(_runs).values(id=run.id, **fields))
    tx._queue("tree_run", run.id, "insert", fields, 0)


def update_tree_run(tx: Writer, run_id: str, status: str, state: str, now: datetime) -> None:
    row_version = tx._db.scalar(select(_runs.c.version).where(_runs.c.id == run_id))
    if row_version is None:
        raise ValueError(f"no tree run {run_id}")  # callers load the run first
    fields = {"status": status, "state": state, "updated_at": now}
    tx._db.execute(update(_runs).where(_runs.c.id == run_id).values(**fields))
    tx._queue("tree_run", run_id, "update", fields, row_version)
