"""What the central database does with a pushed batch and a pull window (DESIGN.md §5).

Each function runs inside the caller's PostgreSQL transaction: a push batch commits whole
or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Select,
    Table,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from workbench.core.errors import NotFound, WorkbenchError
from workbench.core.models import OutboxOperation, Role
from workbench.core.refs import format_number
from workbench.store import codec, schema
from workbench.store.store import LATEST_WINS
from workbench.store.sync_state import (
    CLOSED_KEPT,
    SYNCED_TABLES,
    TICKET_CHILDREN,
    WHOLE_ROW,
    PulledChunk,
    Scope,
    carried_change,
    count_rows,
    scope_filter,
)
from workbench.sync import central
from workbench.sync.identity import Identity, IdentityRefused, acting_as

# Created with ids people choose (a tree's id is its file's): two caches may create the same
# one. Every other entity is created under a fresh UUID, so an existing id is a replay.
_SHARED_IDS = {"tree", "recipe"}
# Who "their" value belongs to when the server has no row at all.
NO_ROW = "(not on the server)"


class PushRejected(WorkbenchError):
    """The server refused a batch (a gap in mutation ids, a malformed operation); nothing
    of the batch is applied."""


@dataclass(frozen=True, slots=True)
class PushResult:
    acknowledged: int  # the highest mutation id of the batch now in the server's log
    applied: int
    duplicates: int
    conflicts: int
    restored: bool  # a mutation id came back with other content: the file was restored


# Foreign keys of the cache between synced tables: (child table, column, parent table). A
# window may hold a child whose parent changed again later (a higher version): the parent
# comes along, as it is now. Children come before their parents, so a parent brought along
# brings its own parents too.
_PARENTS = tuple(
    (table.name, key.parent.name, key.column.table.name)
    for table in reversed(schema.metadata.sorted_tables)
    if table.name in SYNCED_TABLES
    for key in sorted(table.foreign_keys, key=lambda key: key.parent.name)
    if key.column.table.name in SYNCED_TABLES
)
_PARENT_OF = {(child, column): parent for child, column, parent in _PARENTS}
# Per entity of an operation: its columns that point to a parent, and the parent's table.
_PARENT_COLUMNS = {
    entity: tuple((column, parent) for child, column, parent in _PARENTS if child == table.name)
    for entity, table in central.ENTITIES.items()
}


def content_hash(op: OutboxOperation) -> str:
    body = json.dumps(
        [op.entity, op.entity_id, op.op, op.fields, op.base_version, op.created_at.isoformat()],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


@functools.cache
def _parsers(table: Table) -> dict[str, Callable[[str], Any]]:
    """How the JSON text of a table's date and time columns becomes their values (made once
    per table: a push converts every operation); other values are stored as they are."""
    found: dict[str, Callable[[str], Any]] = {}
    for column in table.columns:
        if isinstance(column.type, DateTime):
            found[column.name] = datetime.fromisoformat
        elif isinstance(column.type, Date):
            found[column.name] = date.fromisoformat
    return found


def _to_central(table: Table, field: str, value: Any) -> Any:
    parse = _parsers(table).get(field)
    return value if parse is None or value is None else parse(value)


def _row_values(table: Table, fields: Mapping[str, Any]) -> dict[str, Any]:
    """An operation's fields as the values of the table's columns."""
    values = dict(fields)
    for field, parse in _parsers(table).items():
        value = values.get(field)
        if value is not None:
            values[field] = parse(value)
    return values


def _json(value: Any) -> str:
    return json.dumps(codec.json_value(value), ensure_ascii=False)


def insert_rows(
    db: Connection, table: Table, rows: Sequence[Mapping[str, Any]], tail: str = ""
) -> None:
    """One INSERT ... SELECT FROM unnest(one array per column) per set of columns: a batch's
    rows in one statement, where an executemany costs the server one statement per row."""
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    quote = db.dialect.identifier_preparer.quote
    for columns, group in groups.items():
        arrays = ", ".join(f"%b::{table.c[c].type.compile(dialect=db.dialect)}[]" for c in columns)
        db.exec_driver_sql(
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT * FROM unnest({arrays}) {tail}",
            tuple([row[c] for row in group] for c in columns),
        )


# Inserts of rows created under fresh UUIDs: collected per table and sent as one statement
# each (any other operation sends them first, so an update always finds its row).
_BUFFERED = {"ticket", "worklog", "tree_run", "audit"}
# Rows that record the lead who approved them: the one who pushes them (DESIGN.md §11).
_APPROVED = {"tree", "recipe"}
SETTLE_RULE = "only a lead may settle another technician's conflict"


class _Batch:
    def __init__(self, db: Connection, who: Identity, technician: str, clock: int) -> None:
        self.db = db
        self.who = who
        self.technician = technician
        self.clock = clock
        self.conflicts = 0
        self.parents: set[tuple[str, Any]] = set()  # (table, id) known to exist
        self.buffered: dict[Table, list[dict[str, Any]]] = {}
        self.numbers: list[int] = []  # ticket numbers taken for the batch's new tickets

    def take_numbers(self, ops: Sequence[OutboxOperation]) -> None:
        """One round trip for the numbers of all tickets the batch creates (a ticket sent
        again by "apply mine" too: if that resolution loses, its number is left unused)."""
        changes = (carried_change(op) or op for op in ops)
        wanted = sum(1 for op in changes if op.entity == "ticket" and op.op == "insert")
        if wanted:
            taken = self.db.execute(
                select(central.ticket_numbers.next_value()).select_from(
                    func.generate_series(1, wanted)
                )
            ).scalars()
            self.numbers = sorted(int(n) for n in taken)

    def know_parents(self, ops: Sequence[OutboxOperation]) -> None:
        """Look up in one query per table which parents the batch's rows point to exist."""
        wanted: dict[str, set[Any]] = {}
        for op in ops:
            for column, parent in _PARENT_COLUMNS.get(op.entity, ()):
                value = op.fields.get(column)
                if value:
                    wanted.setdefault(parent, set()).add(value)
        for parent, ids in wanted.items():
            table = central.metadata.tables[parent]
            # One array parameter (an IN list of hundreds of ids is a statement of its own
            # to render and parse, every batch); only the missing ones come back.
            listed = func.unnest(
                bindparam("ids", sorted(ids), type_=ARRAY(table.c.id.type))
            ).column_valued("wanted")  # not "id": inside EXISTS that is the table's own
            missing = self.db.execute(
                select(listed).where(~exists().where(table.c.id == listed))
            ).scalars()
            self.parents.update((parent, known) for known in ids.difference(missing))

    def flush(self) -> None:
        """Insert the buffered rows. A replayed one is skipped (ON CONFLICT DO NOTHING) and
        leaves its version (and ticket number) unused: versions stay unique and increasing,
        not gapless."""
        buffered, self.buffered = self.buffered, {}
        for table, rows in buffered.items():
            insert_rows(self.db, table, rows, "ON CONFLICT (id) DO NOTHING")

    def tick(self) -> int:
        self.clock += 1
        return self.clock

    def apply(self, op: OutboxOperation) -> None:
        table = central.ENTITIES.get(op.entity)
        if table is None or op.op not in ("insert", "update"):
            raise PushRejected(f"operation {op.mutation_id}: unknown {op.entity} {op.op}")
        rule = None if op.entity == "conflict" else self._refusal(table)
        if rule is not None:
            # Refused by the role: visible to its author as a conflict naming the rule.
            self._conflict(op, WHOLE_ROW, None, rule, op.fields)
            return
        if op.entity in _BUFFERED and op.op == "insert":
            self._buffer(table, op)
            return
        self.flush()
        if op.entity == "conflict":
            self._resolve(op)
        elif op.op == "insert":
            self._insert(table, op)
        else:
            self._update(table, op)

    def _refusal(self, table: Table) -> str | None:
        """Why the signed-in technician may not write this table (None: they may). The
        owner's account is trusted; PostgreSQL's row-level security holds the same rules,
        so a cache that skipped this check would have its whole batch refused."""
        return None if self.who.owner else refusals(self.db).get(table.name)

    @functools.cached_property
    def _approver(self) -> str | None:
        """Who approves a tree or recipe this batch writes: its pusher, when a lead (the
        owner's account works for the technician the cache names: their role counts)."""
        role = self.who.role
        if self.who.owner:
            t = central.technicians
            found = self.db.scalar(select(t.c.role).where(t.c.login == self.technician))
            role = None if found is None else Role(found)
        return self.technician if role is not None and role.leads else None

    def _new_row(self, table: Table, op: OutboxOperation) -> dict[str, Any] | None:
        """The row an insert creates, at the next version; None when it points to a parent
        the server lacks (then refused, visibly)."""
        values = _row_values(table, op.fields)
        if self._refused(op, values):
            return None
        values.update(id=op.entity_id, version=self.clock + 1, changed_by=self.technician)
        if op.entity in _APPROVED:
            values["approved_by"] = self._approver
        return values

    def _buffer(self, table: Table, op: OutboxOperation) -> None:
        if table is central.audit_events:
            # Append-only, never pulled: no version; the author is who signed in.
            event = _row_values(table, op.fields)
            event.update(id=op.entity_id, technician=self.technician)
            self.buffered.setdefault(table, []).append(event)
            return
        values = self._new_row(table, op)
        if values is None:
            return
        self.tick()
        if table is central.tickets:
            values["number"] = format_number(self.numbers.pop(0))
        self.buffered.setdefault(table, []).append(values)
        self.parents.add((table.name, op.entity_id))

    def _refused(self, op: OutboxOperation, values: Mapping[str, Any]) -> bool:
        """A row pointing to a parent the server lacks is refused visibly: a whole-row
        conflict; "apply mine" sends it again once its parent is there."""
        for column, parent in _PARENT_COLUMNS[op.entity]:
            missing = self._missing_parent(parent, values.get(column))
            if missing is not None:
                self._conflict(op, WHOLE_ROW, None, missing, op.fields)
                return True
        return False

    def _missing_parent(self, parent: str | None, value: Any) -> str | None:
        """Who a row may not point to: a parent the server lacks (caches would refuse it)."""
        if parent is None or value is None or (parent, value) in self.parents:
            return None
        parents = central.metadata.tables[parent]
        found = self.db.scalar(select(parents.c.id).where(parents.c.id == value))
        if found is None:
            return f"(no {parent} row {value} on the server)"
        self.parents.add((parent, value))
        return None

    def _insert(self, table: Table, op: OutboxOperation) -> None:
        values = self._new_row(table, op)
        if values is None:
            return
        # Created rows: a replay of an applied insert changes nothing.
        # (RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT DO NOTHING.)
        inserted = self.db.execute(
            pg_insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(table.c.id)
        ).first()
        self.parents.add((table.name, op.entity_id))
        if inserted is None:
            if op.entity in _SHARED_IDS:
                self._created_twice(table, op)
            return
        version = self.tick()
        if op.entity in _SHARED_IDS:
            # Another cache may have created this id too: its later edits of these fields,
            # made on top of its own copy, must meet them as conflicts, not overwrite them.
            for field in op.fields:
                self._record_change(op, field, version)

    def _created_twice(self, table: Table, op: OutboxOperation) -> None:
        """Another cache created this id first: the server's row stands, and every field with
        another value here becomes a conflict for a person to settle."""
        row = self.db.execute(select(table).where(table.c.id == op.entity_id)).mappings().one()
        for field, raw in sorted(op.fields.items()):
            mine = _to_central(table, field, raw)
            if field not in LATEST_WINS and mine != row[field]:
                self._conflict(op, field, row[field], row["changed_by"] or NO_ROW, mine)

    def _update(self, table: Table, op: OutboxOperation) -> None:
        row = self.db.execute(select(table).where(table.c.id == op.entity_id)).mappings().first()
        if row is None:
            # Edited here but never created centrally (e.g. demo rows): refused visibly as a
            # whole-row conflict, and the rest of the outbox goes on.
            self._conflict(op, WHOLE_ROW, None, NO_ROW, op.fields)
            return
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
            missing = self._missing_parent(_PARENT_OF.get((table.name, field)), mine)
            if missing is not None:
                self._conflict(op, field, theirs, missing, mine)
                continue
            if field in LATEST_WINS:
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
            self._record_change(op, field, version)
        if op.entity in _APPROVED:
            changes["approved_by"] = self._approver
        # Always a new version, even when the server kept every value: the pushing cache shows
        # its own values until it pulls the row again.
        self.db.execute(
            update(table)
            .where(table.c.id == op.entity_id)
            .values(**changes, version=version, changed_by=self.technician)
        )

    def _record_change(self, op: OutboxOperation, field: str, version: int) -> None:
        """Who last set this field, and in which version: what a later update's base version
        is compared with."""
        fc = central.field_changes
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
        """Resolved from both sides: the first resolution stands, and only its "apply mine"
        value (or row) is applied, like any operation of its own. A later one changes no
        value: the rows its cache shows otherwise get a new version, so that cache pulls them
        again and converges."""
        c = central.conflicts
        if not self._may_settle(int(op.entity_id)):
            self._conflict(op, WHOLE_ROW, None, SETTLE_RULE, op.fields)
            return
        resolved = self.db.execute(
            update(c)
            .where(c.c.id == int(op.entity_id), c.c.resolution.is_(None))
            .values(
                resolution=op.fields["resolution"],
                resolved_by=op.fields.get("resolved_by", self.technician),
                version=self.clock + 1,
            )
        )
        change = carried_change(op)
        if resolved.rowcount:
            self.tick()
            if change is not None:
                self.apply(change)
            return
        self._send_again(c, int(op.entity_id))
        if change is not None and change.entity in central.ENTITIES:
            self._send_again(central.ENTITIES[change.entity], change.entity_id)

    def _may_settle(self, conflict_id: int) -> bool:
        """A technician settles a conflict of their own, a lead anyone's: the central's own
        rule (wb_may_settle, which its row-level security applies too)."""
        if self.who.owner:
            return True
        c = central.conflicts
        allowed = self.db.scalar(
            select(func.wb_may_settle(c.c.my_author, c.c.their_author)).where(c.c.id == conflict_id)
        )
        return allowed is None or bool(allowed)

    def _send_again(self, table: Table, key: Any) -> None:
        """A new version for a row, its values unchanged: every cache pulls it again."""
        values: dict[str, Any] = {"version": self.clock + 1}
        if "changed_by" in table.c:
            values["changed_by"] = self.technician  # who touched it last (the central checks)
        again = self.db.execute(update(table).where(table.c.id == key).values(**values))
        if again.rowcount:
            self.tick()


def last_mutation_id(db: Connection, client_id: str) -> int:
    """The highest mutation id the server applied from this client id; 0 for none."""
    log = central.mutation_log
    return int(
        db.scalar(select(func.max(log.c.mutation_id)).where(log.c.client_id == client_id)) or 0
    )


def refusals(db: Connection) -> Mapping[str, str | None]:
    """The central's own wb_refusal for every table an operation writes, in one query, once
    per connection (the role behind a connection does not change)."""
    known: dict[str, str | None] | None = db.info.get("workbench.refusals")
    if known is None:
        names = sorted({t.name for t in central.ENTITIES.values()})
        rows = db.exec_driver_sql(
            "SELECT t, wb_refusal(t) FROM unnest(%s::text[]) AS t", (names,)
        ).all()
        known = db.info["workbench.refusals"] = {str(t): rule for t, rule in rows}
    return known


def _claim(db: Connection, who: Identity, client_id: str, technician: str) -> None:
    """A client id is one technician's cache: claimed by its first push (one statement: the
    claim, else whose it is already)."""
    owner = db.exec_driver_sql(
        "WITH claimed AS (INSERT INTO client_ids VALUES (%(c)s, %(t)s) "
        "ON CONFLICT (client_id) DO NOTHING RETURNING technician) "
        "SELECT technician FROM claimed UNION ALL "
        "SELECT technician FROM client_ids WHERE client_id = %(c)s",
        {"c": client_id, "t": technician},
    ).scalar()
    if owner != technician and not who.owner:
        raise IdentityRefused(
            f"this cache's client id {client_id} is {owner}'s (a copy of their data "
            "directory?): sign in with their login, or start from a fresh cache"
        )


def push_batch(db: Connection, technician: str, ops: Sequence[OutboxOperation]) -> PushResult:
    """Apply one client's operations in order, under the lock of the sync clock row. The
    work must be the signed-in technician's own (IdentityRefused otherwise: nothing applied)."""
    who = acting_as(db, technician)
    clock = db.execute(
        select(central.sync_clock.c.clock).where(central.sync_clock.c.id == 1).with_for_update()
    ).scalar_one()
    client_id = ops[0].client_id
    _claim(db, who, client_id, technician)
    log = central.mutation_log
    last = last_mutation_id(db, client_id)
    batch = _Batch(db, who, technician, int(clock))
    batch.know_parents(ops)
    batch.take_numbers([op for op in ops if op.mutation_id > last])  # not for resent ones
    acknowledged = duplicates = 0
    restored = False
    first_applied = last + 1
    applied_hashes: list[str] = []  # of the operations applied, in order from first_applied
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
            applied_hashes.append(digest)
            last = op.mutation_id
        acknowledged = op.mutation_id
    batch.flush()
    if applied_hashes:
        # The ids are consecutive (a gap is refused): the server numbers the log rows, so a
        # batch sends one array of hashes, not five columns of 500 values.
        db.exec_driver_sql(
            "INSERT INTO mutation_log "
            "(client_id, mutation_id, content_hash, technician, applied_at) "
            "SELECT %s, %s + n - 1, h, %s, now() "
            "FROM unnest(%b::text[]) WITH ORDINALITY AS u(h, n)",
            (client_id, first_applied, technician, applied_hashes),
        )
    db.execute(
        update(central.sync_clock).where(central.sync_clock.c.id == 1).values(clock=batch.clock)
    )
    return PushResult(acknowledged, len(applied_hashes), duplicates, batch.conflicts, restored)


def in_utc(db: Connection) -> None:
    """Times of this transaction in UTC: psycopg then gives them the tzinfo the cache stores
    them in, and a pull's millions of values need no conversion (the instants are the same)."""
    db.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")


def server_clock(db: Connection) -> tuple[int, datetime]:
    row = db.execute(select(central.sync_clock.c.clock, func.now())).one()
    return int(row[0]), row[1]


def scope_of(db: Connection, login: str, mode: str, now: datetime) -> Scope:
    """The scope of `login`'s cache, from its technician row as the server has it."""
    tech = central.technicians
    row = db.execute(select(tech.c.tier, tech.c.sites).where(tech.c.login == login)).first()
    if row is None:
        if mode == "all":
            return Scope(mode, login, 0, (), now - CLOSED_KEPT)
        raise NotFound(
            f"technician {login!r} is not known to the central database; "
            "check `workbench login --technician`"
        )
    return Scope(mode, login, int(row.tier), tuple(json.loads(row.sites)), now - CLOSED_KEPT)


def _dicts(db: Connection, statement: Select[Any]) -> list[dict[str, Any]]:
    """The rows as dicts, fetched at once (not row by row) and zipped with keys read once:
    dict() of each RowMapping asks the result for them again."""
    result = db.execute(statement)
    keys = tuple(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result.all()]


def _with_parents(db: Connection, rows: dict[str, list[dict[str, Any]]]) -> None:
    for child, column, parent in _PARENTS:
        have = {r["id"] for r in rows.setdefault(parent, [])}
        wanted = {r[column] for r in rows.get(child, []) if r[column] is not None} - have
        if wanted:
            table = central.metadata.tables[parent]
            rows[parent].extend(_dicts(db, select(table).where(table.c.id.in_(sorted(wanted)))))


def read_window(db: Connection, after: int, upper: int, scope: Scope | None = None) -> PulledChunk:
    """Rows changed in versions (after, upper], ordered by version, with missing parents;
    with a scope only its rows, and the ids of tickets changed to outside it."""
    tables = central.metadata.tables
    rows: dict[str, list[dict[str, Any]]] = {}
    gone: list[str] = []
    for table in central.SYNCED:
        statement = (
            select(table)
            .where(table.c.version > after, table.c.version <= upper)
            .order_by(table.c.version)
        )
        inside = None if scope is None else scope_filter(tables, table.name, scope)
        if inside is not None:
            statement = statement.where(inside)
            if table is central.tickets:
                outside = select(table.c.id).where(
                    table.c.version > after, table.c.version <= upper, ~inside
                )
                gone = list(db.execute(outside).scalars())
        rows[table.name] = _dicts(db, statement)
    _with_parents(db, rows)
    c = central.conflicts
    conflicts = _dicts(
        db, select(c).where(c.c.version > after, c.c.version <= upper).order_by(c.c.version)
    )
    return PulledChunk(upper, rows, conflicts, gone)


def ticket_children(
    db: Connection, ticket_ids: Collection[str], upto: int
) -> dict[str, list[dict[str, Any]]]:
    """Worklog and tree runs of tickets entering a cache, up to version `upto` (later ones
    come with their own windows)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name in TICKET_CHILDREN:
        table = central.metadata.tables[name]
        statement = (
            select(table)
            .where(table.c.ticket_id.in_(sorted(ticket_ids)), table.c.version <= upto)
            .order_by(table.c.version)
        )
        found[name] = _dicts(db, statement)
    return found


def counts(
    db: Connection, leave_out: Mapping[str, Collection[str]], scope: Scope
) -> dict[str, int]:
    """Rows per synced table in the scope, without the ids given per table (a cache's
    unsent inserts, tickets it keeps for pending work)."""
    tables = central.metadata.tables
    return {
        name: int(db.scalar(count_rows(tables, name, leave_out, scope)) or 0)
        for name in SYNCED_TABLES
    }
