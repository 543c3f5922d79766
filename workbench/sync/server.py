"""What the central database does with a pushed batch and a pull window (DESIGN.md §5).

Each function runs inside the caller's PostgreSQL transaction: a push batch commits whole
or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from workbench.core.errors import WorkbenchError
from workbench.core.models import OutboxOperation
from workbench.core.refs import format_number
from workbench.store import codec
from workbench.store.sync_state import PulledChunk
from workbench.sync import central

# Set by every change; the newest wins, so two edits of other fields never conflict on it.
_LATEST_WINS = {"updated_at"}


class PushRejected(WorkbenchError):
    """The server refused a batch (a gap in mutation ids, an unknown row); nothing applied."""


@dataclass(frozen=True, slots=True)
class PushResult:
    acknowledged: int  # the highest mutation id of the batch now in the server's log
    applied: int
    duplicates: int
    conflicts: int
    restored: bool  # a mutation id came back with other content: the file was restored


def content_hash(op: OutboxOperation) -> str:
    body = json.dumps(
        [op.entity, op.entity_id, op.op, op.fields, op.base_version, op.created_at.isoformat()],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _to_central(table: Table, field: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(table.c[field].type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(table.c[field].type, Date):
        return date.fromisoformat(value)
    return value


def _json(value: Any) -> str:
    return json.dumps(codec.json_value(value), ensure_ascii=False)


class _Batch:
    def __init__(self, db: Connection, technician: str, clock: int) -> None:
        self.db = db
        self.technician = technician
        self.clock = clock
        self.conflicts = 0

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def apply(self, op: OutboxOperation) -> None:
        table = central.ENTITIES.get(op.entity)
        if table is None or op.op not in ("insert", "update"):
            raise PushRejected(f"operation {op.mutation_id}: unknown {op.entity} {op.op}")
        if op.entity == "conflict":
            self._resolve(op)
        elif op.op == "insert":
            self._insert(table, op)
        else:
            self._update(table, op)

    def _insert(self, table: Table, op: OutboxOperation) -> None:
        values = {f: _to_central(table, f, v) for f, v in op.fields.items()}
        values.update(id=op.entity_id, version=self.clock + 1, changed_by=self.technician)
        if table is central.tickets:
            values["number"] = format_number(
                int(self.db.scalar(central.ticket_numbers.next_value()))
            )
        # Append-only and created rows: a replay of an applied insert changes nothing.
        inserted = self.db.execute(
            pg_insert(table).values(**values).on_conflict_do_nothing(index_elements=["id"])
        )
        if inserted.rowcount:
            self.tick()

    def _update(self, table: Table, op: OutboxOperation) -> None:
        row = self.db.execute(select(table).where(table.c.id == op.entity_id)).mappings().first()
        if row is None:
            raise PushRejected(
                f"operation {op.mutation_id}: {op.entity} {op.entity_id} is not on the server"
            )
        fc = central.field_changes
        known = {
            r.field: r
            for r in self.db.execute(
                select(fc).where(fc.c.entity == op.entity, fc.c.entity_id == op.entity_id)
            )
        }
        version = self.tick()  # the row's; conflicts recorded below get the ones after it
        changes: dict[str, Any] = {}
        for field, raw in op.fields.items():
            mine, theirs = _to_central(table, field, raw), row[field]
            if field in _LATEST_WINS:
                if theirs is None or (mine is not None and mine > theirs):
                    changes[field] = mine
                continue
            last = known.get(field)
            if (
                last is not None
                and last.version > op.base_version
                and last.client_id != op.client_id
                and mine != theirs
            ):
                self._conflict(op, field, theirs, last.author, mine)
                continue
            changes[field] = mine
            self.db.execute(
                pg_insert(fc)
                .values(
                    entity=op.entity,
                    entity_id=op.entity_id,
                    field=field,
                    version=version,
                    author=self.technician,
                    client_id=op.client_id,
                )
                .on_conflict_do_update(
                    index_elements=["entity", "entity_id", "field"],
                    set_={"version": version, "author": self.technician, "client_id": op.client_id},
                )
            )
        # Always a new version, even when the server kept every value: the pushing cache shows
        # its own values until it pulls the row again.
        self.db.execute(
            update(table)
            .where(table.c.id == op.entity_id)
            .values(**changes, version=version, changed_by=self.technician)
        )

    def _conflict(self, op: OutboxOperation, field: str, theirs: Any, who: str, mine: Any) -> None:
        self.db.execute(
            insert(central.conflicts).values(
                entity=op.entity,
                entity_id=op.entity_id,
                field=field,
                their_value=_json(theirs),
                their_author=who,
                mine_value=_json(mine),
                my_author=self.technician,
                created_at=datetime.now(UTC),
                version=self.tick(),
            )
        )
        self.conflicts += 1

    def _resolve(self, op: OutboxOperation) -> None:
        c = central.conflicts
        resolved = self.db.execute(
            update(c)
            .where(c.c.id == int(op.entity_id), c.c.resolution.is_(None))
            .values(
                resolution=op.fields["resolution"],
                resolved_by=op.fields.get("resolved_by", self.technician),
                version=self.clock + 1,
            )
        )
        # Resolved from both sides: the first resolution stands.
        if resolved.rowcount:
            self.tick()


def push_batch(db: Connection, technician: str, ops: Sequence[OutboxOperation]) -> PushResult:
    """Apply one client's operations in order, under the lock of the sync clock row."""
    clock = db.execute(
        select(central.sync_clock.c.clock).where(central.sync_clock.c.id == 1).with_for_update()
    ).scalar_one()
    client_id = ops[0].client_id
    log = central.mutation_log
    last = int(
        db.scalar(select(func.max(log.c.mutation_id)).where(log.c.client_id == client_id)) or 0
    )
    batch = _Batch(db, technician, int(clock))
    acknowledged = applied = duplicates = 0
    restored = False
    for op in ops:
        if op.client_id != client_id:
            raise PushRejected("a batch holds the operations of one client id")
        digest = content_hash(op)
        if op.mutation_id <= last:
            known = db.scalar(
                select(log.c.content_hash).where(
                    log.c.client_id == client_id, log.c.mutation_id == op.mutation_id
                )
            )
            if known != digest:
                # Same id, other content: this file lived on after these ids were sent, i.e.
                # it was restored from a backup. What came before is acknowledged and kept.
                restored = True
                break
            duplicates += 1
        elif op.mutation_id != last + 1:
            raise PushRejected(
                f"operation {op.mutation_id} of client {client_id} follows {last}: a gap"
            )
        else:
            batch.apply(op)
            db.execute(
                insert(log).values(
                    client_id=client_id,
                    mutation_id=op.mutation_id,
                    content_hash=digest,
                    technician=technician,
                    applied_at=datetime.now(UTC),
                )
            )
            last = op.mutation_id
            applied += 1
        acknowledged = op.mutation_id
    db.execute(
        update(central.sync_clock).where(central.sync_clock.c.id == 1).values(clock=batch.clock)
    )
    return PushResult(acknowledged, applied, duplicates, batch.conflicts, restored)


def server_clock(db: Connection) -> tuple[int, datetime]:
    row = db.execute(select(central.sync_clock.c.clock, func.now())).one()
    return int(row[0]), row[1]


# Foreign keys of the cache: (child table, column, parent table). A window may hold a child
# whose parent changed again later (a higher version): the parent comes along, as it is now.
_PARENTS = (
    ("worklog", "ticket_id", "tickets"),
    ("tickets", "asset_id", "assets"),
    ("tickets", "requester_id", "requesters"),
    ("tickets", "site_id", "sites"),
    ("assets", "owner_id", "requesters"),
    ("assets", "site_id", "sites"),
    ("requesters", "site_id", "sites"),
)


def read_window(db: Connection, after: int, upper: int) -> PulledChunk:
    """Rows changed in versions (after, upper], ordered by version, with missing parents."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in central.SYNCED:
        statement = (
            select(table)
            .where(table.c.version > after, table.c.version <= upper)
            .order_by(table.c.version)
        )
        rows[table.name] = [dict(r) for r in db.execute(statement).mappings()]
    for child, column, parent in _PARENTS:
        have = {r["id"] for r in rows[parent]}
        wanted = {r[column] for r in rows[child] if r[column] is not None} - have
        if wanted:
            table = central.metadata.tables[parent]
            extra = db.execute(select(table).where(table.c.id.in_(sorted(wanted)))).mappings()
            rows[parent].extend(dict(r) for r in extra)
    c = central.conflicts
    conflicts = [
        dict(r)
        for r in db.execute(
            select(c).where(c.c.version > after, c.c.version <= upper).order_by(c.c.version)
        ).mappings()
    ]
    return PulledChunk(upper, rows, conflicts)


def counts(db: Connection, leave_out: Mapping[str, Collection[str]]) -> dict[str, int]:
    """Rows per synced table, without the ids given per table (a cache's unsent inserts)."""
    found: dict[str, int] = {}
    for table in (*central.SYNCED, central.conflicts):
        key = table.c[central.KEYS.get(table.name, "id")]
        statement = select(func.count()).select_from(table)
        if leave_out.get(table.name):
            statement = statement.where(key.not_in(sorted(leave_out[table.name])))
        found[table.name] = int(db.scalar(statement) or 0)
    return found
