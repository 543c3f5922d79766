"""The cache's side of sync (DESIGN.md §5): cursor, client id, pulled rows, acknowledgements.

Every function takes the Reader or Writer of the caller's transaction, so a pulled chunk and
the cursor that covers it, or an acknowledgement and the deletion of its operations, commit
together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Date, Table, delete, func, insert, select, update

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import OutboxOperation
from workbench.store import codec, schema
from workbench.store.store import Reader, Writer

CURSOR = "sync_cursor"
LAST_SYNC = "last_sync"
CENTRAL_URL = "central_url"
TECHNICIAN = "technician"

# What an outbox operation's entity names in the cache.
LOCAL: dict[str, Table] = {
    "ticket": schema.tickets,
    "worklog": schema.worklog,
    "requester": schema.requesters,
    "conflict": schema.conflicts,
}
_KEYS = {"technicians": "login"}
# Pulled rows are upserted, except the append-only worklog.
_APPEND_ONLY = {"worklog"}


@dataclass(frozen=True, slots=True)
class Conflict:
    id: int
    entity: str
    entity_id: str
    field: str
    their_value: Any
    their_author: str
    mine_value: Any
    my_author: str
    created_at: datetime
    resolution: str | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class SyncState:
    client_id: str
    cursor: int
    last_sync: datetime | None
    pending: int
    open_conflicts: int
    central_url: str | None
    technician: str | None


@dataclass(frozen=True, slots=True)
class PulledChunk:
    """Rows of one pull window, central column values, parents before children."""

    upper: int
    rows: Mapping[str, list[dict[str, Any]]]  # table name → rows
    conflicts: list[dict[str, Any]]

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values()) + len(self.conflicts)


def state(db: Reader) -> SyncState:
    last = db.meta(LAST_SYNC)
    c = schema.conflicts
    return SyncState(
        client_id=db.client_id,
        cursor=cursor(db),
        last_sync=datetime.fromisoformat(last) if last else None,
        pending=db.outbox_count(),
        open_conflicts=int(
            db._db.scalar(select(func.count()).select_from(c).where(c.c.resolution.is_(None))) or 0
        ),
        central_url=db.meta(CENTRAL_URL),
        technician=db.meta(TECHNICIAN),
    )


def cursor(db: Reader) -> int:
    return int(db.meta(CURSOR, "0") or 0)


def set_login(tx: Writer, central_url: str, technician: str) -> None:
    tx.set_meta(CENTRAL_URL, central_url)
    tx.set_meta(TECHNICIAN, technician)


def mark_synced(tx: Writer, when: datetime) -> None:
    tx.set_meta(LAST_SYNC, when.astimezone(UTC).isoformat())


def acknowledge(tx: Writer, client_id: str, up_to: int) -> int:
    """Delete the operations the server committed; returns how many."""
    o = schema.outbox
    result = tx._db.execute(delete(o).where(o.c.client_id == client_id, o.c.mutation_id <= up_to))
    return int(result.rowcount)


def take_new_client_id(tx: Writer) -> str:
    """After a restore from backup: a fresh client id, pending operations renumbered 1..n in
    their order (the server knows this id's numbers from the file's earlier life)."""
    o = schema.outbox
    pending = tx.outbox()
    new_id = str(uuid.uuid4())
    tx._db.execute(delete(o))
    for number, op in enumerate(pending, start=1):
        tx._db.execute(
            insert(o).values(
                mutation_id=number,
                client_id=new_id,
                entity=op.entity,
                entity_id=op.entity_id,
                op=op.op,
                fields=json.dumps(op.fields, ensure_ascii=False, sort_keys=True),
                base_version=op.base_version,
                created_at=op.created_at,
            )
        )
    tx.set_meta("client_id", new_id)
    tx.set_meta("next_mutation_id", str(len(pending) + 1))
    return new_id


def _local_row(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    if table == "tickets":
        return codec.ticket_to_row(codec.ticket_from_row(row))
    columns = schema.metadata.tables[table].columns
    return {c.name: row[c.name] for c in columns if c.name != "local_id"}


def _upsert(tx: Writer, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    key = _KEYS.get(table, "id")
    if table in _APPEND_ONLY:
        on_conflict = f"ON CONFLICT ({key}) DO NOTHING"
    else:
        sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        on_conflict = f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
    tx._db.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) {on_conflict}",
        [tuple(codec.sqlite_value(row[c]) for c in columns) for row in rows],
    )


def apply_chunk(tx: Writer, chunk: PulledChunk) -> None:
    """Upsert one pulled window, re-apply the pending operations on top, advance the cursor."""
    touched: dict[str, set[str]] = {}
    for table, rows in chunk.rows.items():
        if not rows:
            continue
        _upsert(tx, table, [_local_row(table, row) for row in rows])
        touched[table] = {str(row[_KEYS.get(table, "id")]) for row in rows}
        if table == "tickets":
            aliases = [(r["provisional_ref"], r["id"]) for r in rows if r["provisional_ref"]]
            if aliases:
                # A provisional reference stays searchable once the central number arrived.
                tx._db.exec_driver_sql(
                    "INSERT OR IGNORE INTO ticket_aliases (ref, ticket_id) VALUES (?, ?)", aliases
                )
            tx._touched.update(r["id"] for r in rows)
        if table == "worklog":
            tx._touched.update(r["ticket_id"] for r in rows)
    if chunk.conflicts:
        _upsert(tx, "conflicts", [_local_row("conflicts", row) for row in chunk.conflicts])
        touched["conflicts"] = {str(row["id"]) for row in chunk.conflicts}
    ids = set().union(*touched.values()) if touched else set()
    if ids:
        _reapply(tx, tx.outbox(entity_ids=sorted(ids)))
    tx.set_meta(CURSOR, str(chunk.upper))


def _from_json(table: Table, field: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(table.c[field].type, schema.UtcDateTime):
        return datetime.fromisoformat(value)
    if isinstance(table.c[field].type, Date):
        return date.fromisoformat(value)
    return value


def _reapply(tx: Writer, pending: Iterable[OutboxOperation]) -> None:
    """Local view = server + pending: the pulled rows get the unsent field updates again."""
    for op in pending:
        if op.op != "update":
            continue  # a pending insert's row is local already; worklog is append-only
        table = LOCAL[op.entity]
        key = int(op.entity_id) if op.entity == "conflict" else op.entity_id
        values = {f: _from_json(table, f, v) for f, v in op.fields.items()}
        tx._db.execute(update(table).where(table.c.id == key).values(**values))
        if op.entity == "ticket":
            _refresh_sla_due(tx, op.entity_id)


def _refresh_sla_due(tx: Writer, ticket_id: str) -> None:
    t = schema.tickets
    row = tx._db.execute(select(t).where(t.c.id == ticket_id)).mappings().first()
    if row is not None:
        sla_due = codec.sla_sort_key(codec.ticket_from_row(row))
        tx._db.execute(update(t).where(t.c.id == ticket_id).values(sla_due=sla_due))
        tx._touched.add(ticket_id)


def _conflict_from_row(row: codec.Row) -> Conflict:
    return Conflict(
        id=row["id"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        field=row["field"],
        their_value=json.loads(row["their_value"]),
        their_author=row["their_author"],
        mine_value=json.loads(row["mine_value"]),
        my_author=row["my_author"],
        created_at=row["created_at"],
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
    )


def conflicts(db: Reader, include_resolved: bool = False) -> list[Conflict]:
    c = schema.conflicts
    statement = select(c).order_by(c.c.id)
    if not include_resolved:
        statement = statement.where(c.c.resolution.is_(None))
    return [_conflict_from_row(row) for row in db._db.execute(statement).mappings()]


def resolve_conflict(tx: Writer, conflict_id: int, keep: str, who: str) -> Conflict:
    """Keep theirs (the server's value stands) or mine (a new update operation with my value).

    Either way the resolution itself travels as an operation, so both sides see it.
    """
    if keep not in ("theirs", "mine"):
        raise BadInput(f"keep 'theirs' or 'mine', not {keep!r}")
    c = schema.conflicts
    row = tx._db.execute(select(c).where(c.c.id == conflict_id)).mappings().first()
    if row is None:
        raise NotFound(f"no conflict {conflict_id}; `workbench conflicts list` shows them")
    found = _conflict_from_row(row)
    if found.resolution is not None:
        raise BadInput(f"conflict {conflict_id} was resolved already ({found.resolution})")
    if keep == "mine":
        table = LOCAL[found.entity]
        current = tx._db.execute(select(table).where(table.c.id == found.entity_id)).mappings()
        target = current.first()
        if target is None:
            raise NotFound(f"the {found.entity} of conflict {conflict_id} is not in this cache")
        value = _from_json(table, found.field, found.mine_value)
        tx._db.execute(
            update(table).where(table.c.id == found.entity_id).values({found.field: value})
        )
        tx._queue(found.entity, found.entity_id, "update", {found.field: value}, target["version"])
        if found.entity == "ticket":
            _refresh_sla_due(tx, found.entity_id)
    tx._db.execute(update(c).where(c.c.id == conflict_id).values(resolution=keep, resolved_by=who))
    tx._queue("conflict", str(conflict_id), "update", {"resolution": keep, "resolved_by": who}, 0)
    return _conflict_from_row({**row, "resolution": keep, "resolved_by": who})


def pending_inserts(db: Reader) -> dict[str, set[str]]:
    """Ids of rows created here and not yet acknowledged, per table."""
    found: dict[str, set[str]] = {}
    for op in db.outbox():
        if op.op == "insert":
            found.setdefault(LOCAL[op.entity].name, set()).add(op.entity_id)
    return found


def synced_counts(db: Reader, leave_out: Mapping[str, set[str]]) -> dict[str, int]:
    """Rows per synced table, without the ids given per table."""
    found: dict[str, int] = {}
    for name in ("sites", "technicians", "requesters", "assets", "tickets", "worklog", "conflicts"):
        table = schema.metadata.tables[name]
        key = table.c[_KEYS.get(name, "id")]
        statement = select(func.count()).select_from(table)
        if leave_out.get(name):
            statement = statement.where(key.not_in(sorted(leave_out[name])))
        found[name] = int(db._db.scalar(statement) or 0)
    return found


def restart_pull(tx: Writer) -> None:
    """Pull everything again at the next pull (the outbox is left as it is)."""
    tx.set_meta(CURSOR, "0")
