"""The cache's side of sync (DESIGN.md §5): cursor, client id, pulled rows, acknowledgements.

Every function takes the Reader or Writer of the caller's transaction, so a pulled chunk and
the cursor that covers it, or an acknowledgement and the deletion of its operations, commit
together or not at all.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import operator
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    or_,
    select,
    union,
    update,
)

from workbench.core.errors import BadInput, NotFound
from workbench.core.models import OutboxOperation
from workbench.store import codec, schema
from workbench.store.store import APPLY, Reader, Writer, carried

CURSOR = "sync_cursor"
LAST_SYNC = "last_sync"
CENTRAL_URL = "central_url"
TECHNICIAN = "technician"
SCOPE = "sync_scope"  # mine | all, set by `workbench login --scope`
SCOPE_SIGNATURE = "sync_scope_signature"  # the scope the cursor was reached with
OUT_OF_SCOPE = "sync_out_of_scope"  # JSON ids of tickets that left the scope, kept for now

SCOPES = ("mine", "all")
DEFAULT_SCOPE = "mine"
# Closed tickets stay in a technician's cache this long after closing (DESIGN.md §5).
CLOSED_KEPT = timedelta(days=90)
# A conflict about a whole row (an update of a row the server does not have).
WHOLE_ROW = "*"

# What an outbox operation's entity names in the cache.
LOCAL: dict[str, Table] = {
    "ticket": schema.tickets,
    "worklog": schema.worklog,
    "requester": schema.requesters,
    "recipe": schema.recipes,
    "tree": schema.trees,
    "tree_run": schema.tree_runs,
    "conflict": schema.conflicts,
}
# Synced rows that belong to one ticket: they enter and leave a cache with it.
TICKET_CHILDREN = ("worklog", "tree_runs")
SYNCED_TABLES = (
    "sites",
    "policies",
    "technicians",
    "requesters",
    "assets",
    "recipes",
    "trees",
    "tickets",
    "worklog",
    "tree_runs",
    "conflicts",
)
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
    scope: str = DEFAULT_SCOPE


@dataclass(frozen=True, slots=True)
class Scope:
    """Which rows a cache holds (DESIGN.md §5). `all`: everything. `mine`: tickets assigned to
    the technician or in its tier's queue, closed ones only for 90 days, with their worklog
    and tree runs; assets of its sites and those of its tickets; all reference data (sites,
    technicians, requesters, recipes, trees) and all conflicts."""

    mode: str
    login: str
    tier: int
    sites: tuple[str, ...]
    closed_after: datetime  # server time minus CLOSED_KEPT

    @property
    def signature(self) -> str:
        """What decides membership apart from time: when it changes, the pull starts over."""
        return json.dumps([self.mode, self.login, self.tier, sorted(self.sites)])


def scope_filter(
    tables: Mapping[str, Table], name: str, scope: Scope
) -> ColumnElement[bool] | None:
    """The rows of table `name` inside the scope, or None for all of them. `tables` are the
    cache's or the central ones: both sides decide membership with the same expression.
    Never NULL, so its negation is exactly the rest."""
    if scope.mode == "all":
        return None
    t = tables["tickets"]
    tickets = and_(
        or_(func.coalesce(t.c.assignee, "") == scope.login, t.c.tier == scope.tier),
        or_(t.c.status != "closed", t.c.closed_at.is_(None), t.c.closed_at >= scope.closed_after),
    )
    if name == "tickets":
        return tickets
    if name in TICKET_CHILDREN:
        return tables[name].c.ticket_id.in_(select(t.c.id).where(tickets))
    if name == "assets":
        a = tables["assets"]
        return or_(
            func.coalesce(a.c.site_id, "").in_(scope.sites),
            a.c.id.in_(select(t.c.asset_id).where(tickets, t.c.asset_id.is_not(None))),
        )
    return None


@dataclass(frozen=True, slots=True)
class PulledChunk:
    """Rows of one pull window, central column values, parents before children."""

    upper: int
    rows: Mapping[str, list[dict[str, Any]]]  # table name → rows
    conflicts: list[dict[str, Any]]
    # Tickets changed in the window that are outside the scope (reassigned away, closed
    # long ago): the cache evicts them unless it has pending work on them.
    gone: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values()) + len(self.conflicts)

    def keys(self, table: str) -> set[Any]:
        """The keys of the window's rows of one table."""
        rows = self.conflicts if table == "conflicts" else self.rows.get(table, [])
        key = _KEYS.get(table, "id")
        return {row[key] for row in rows}


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
        scope=scope_mode(db),
    )


def cursor(db: Reader) -> int:
    return int(db.meta(CURSOR, "0") or 0)


def set_login(tx: Writer, central_url: str, technician: str, scope: str | None = None) -> None:
    if scope is not None and scope not in SCOPES:
        raise BadInput(f"the sync scope is one of {', '.join(SCOPES)}, not {scope!r}")
    tx.set_meta(CENTRAL_URL, central_url)
    tx.set_meta(TECHNICIAN, technician)
    if scope is not None:
        tx.set_meta(SCOPE, scope)


def scope_mode(db: Reader) -> str:
    return db.meta(SCOPE, DEFAULT_SCOPE) or DEFAULT_SCOPE


def start_scope(tx: Writer, scope: Scope) -> bool:
    """Before a pull: if the scope differs from the one the cursor was reached with (another
    mode, technician, tier or sites), pull from the start. True if so."""
    if tx.meta(SCOPE_SIGNATURE) == scope.signature:
        return False
    tx.set_meta(SCOPE_SIGNATURE, scope.signature)
    tx.set_meta(CURSOR, "0")
    return True


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


@functools.cache
def _pulled_columns(table: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The columns a pulled row fills (local_id is the cache's own; a ticket's sla_due is
    computed here, last), and the positions of those holding dates and times: only they
    need converting, and a pull of 100,000 rows converts millions of values."""
    columns = [
        c for c in schema.metadata.tables[table].columns if c.name not in ("local_id", "sla_due")
    ]
    if table == "tickets":
        columns.append(schema.tickets.c.sla_due)
    timed = [i for i, c in enumerate(columns) if isinstance(c.type, (schema.UtcDateTime, Date))]
    return tuple(c.name for c in columns), tuple(timed)


def _local_values(table: str, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    """Pulled rows as the cache stores them, in the order of _pulled_columns."""
    names, timed = _pulled_columns(table)
    tickets = table == "tickets"
    pick = operator.itemgetter(*names[:-1] if tickets else names)
    found = []
    for row in rows:
        values = [*pick(row)]
        if tickets:  # the sort key of the next deadline, from the domain's rules
            values.append(codec.sla_sort_key(codec.ticket_from_row(row)))
        for i in timed:
            if values[i] is not None:
                values[i] = codec.sqlite_value(values[i])
        found.append(tuple(values))
    return found


def _present(tx: Writer, table: str, key: str, wanted: Collection[Any]) -> set[Any]:
    """Which of these keys the table holds."""
    ordered = sorted(wanted)
    found: set[Any] = set()
    for start in range(0, len(ordered), 500):  # SQLite's bound-parameter limit
        part = ordered[start : start + 500]
        found.update(
            tx._db.exec_driver_sql(
                f"SELECT {key} FROM {table} WHERE {key} IN ({', '.join('?' for _ in part)})",
                tuple(part),
            ).scalars()
        )
    return found


def _upsert(tx: Writer, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
    columns, _ = _pulled_columns(table)
    values = _local_values(table, rows)
    key = _KEYS.get(table, "id")
    at = columns.index(key)
    # Rows new to the cache go in with a plain INSERT: SQLite checks an upsert's foreign keys
    # as for an update of a parent row, which makes it over twice as slow as an insert (and
    # a first pull has only new rows). A key seen before in the window is an upsert as well.
    present = _present(tx, table, key, {v[at] for v in values})
    fresh: list[tuple[Any, ...]] = []
    again: list[tuple[Any, ...]] = []
    for value in values:
        (again if value[at] in present else fresh).append(value)
        present.add(value[at])
    insert = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    )
    if fresh:
        tx._db.exec_driver_sql(insert, fresh)
    if again:
        if table in _APPEND_ONLY:
            on_conflict = f"ON CONFLICT ({key}) DO NOTHING"
        else:
            sets = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
            on_conflict = f"ON CONFLICT ({key}) DO UPDATE SET {sets}"
        tx._db.exec_driver_sql(f"{insert} {on_conflict}", again)


def apply_chunk(tx: Writer, chunk: PulledChunk) -> None:
    """Upsert one pulled window, re-apply the pending operations on top, advance the cursor."""
    touched: dict[str, set[str]] = {}
    for table, rows in chunk.rows.items():
        if not rows:
            continue
        _upsert(tx, table, rows)
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
        _upsert(tx, "conflicts", chunk.conflicts)
        touched["conflicts"] = {str(row["id"]) for row in chunk.conflicts}
    ids = set().union(*touched.values()) if touched else set()
    # After a push the outbox is mostly empty: no need to look thousands of ids up in it.
    if ids and tx.outbox_count():
        _reapply(tx, _pending_on(tx, ids))
    if "tickets" in touched:
        _back_in_scope(tx, touched["tickets"])
    if chunk.gone:
        _leave_scope(tx, chunk.gone)
    tx.set_meta(CURSOR, str(chunk.upper))


def tickets_present(db: Reader, ids: Iterable[str]) -> list[str]:
    """Which of these tickets this cache holds."""
    t = schema.tickets
    wanted = sorted(set(ids))
    found: list[str] = []
    for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
        part = wanted[start : start + 500]
        found.extend(db._db.execute(select(t.c.id).where(t.c.id.in_(part))).scalars())
    return found


def carried_change(op: OutboxOperation) -> OutboxOperation | None:
    """The change an "apply mine" resolution carries, as an operation on the conflict's row
    (an insert of a whole row, else an update of the field); None for any other operation,
    and for resolutions queued before they carried their value (then a separate update)."""
    change = op.fields.get(APPLY) if op.entity == "conflict" else None
    if change is None:
        return None
    whole = change["field"] == WHOLE_ROW
    return dataclasses.replace(
        op,
        entity=change["entity"],
        entity_id=change["entity_id"],
        op="insert" if whole else "update",
        fields=change["value"] if whole else {change["field"]: change["value"]},
    )


def _needing(entity: str) -> list[Select[Any]]:
    """Ids of the `entity` rows this cache must keep whatever the server has: those with
    pending operations (their own, or an "apply mine" resolution carrying their value) and
    those of open whole-row conflicts (a person may still send them)."""
    o, c = schema.outbox, schema.conflicts
    return [
        select(o.c.entity_id).where(o.c.entity == entity),
        select(carried("entity_id")).where(o.c.entity == "conflict", carried("entity") == entity),
        select(c.c.entity_id).where(
            c.c.entity == entity, c.c.field == WHOLE_ROW, c.c.resolution.is_(None)
        ),
    ]


def protected_tickets(db: Reader) -> set[str]:
    """Tickets with pending work, on themselves or on their worklog or tree runs (see
    _needing): never evicted, whatever the scope says, until that work is done."""
    pending = _needing("ticket")
    for entity in ("worklog", "tree_run"):
        child = LOCAL[entity]
        pending.append(select(child.c.ticket_id).where(child.c.id.in_(union(*_needing(entity)))))
    return set(db._db.execute(union(*pending)).scalars())


def _pending_on(tx: Writer, ids: Collection[str]) -> list[OutboxOperation]:
    """The pending operations on these rows, in order: their own, and the "apply mine"
    resolutions carrying a value for them."""
    o = schema.outbox
    resolutions = tx._db.execute(select(o).where(o.c.entity == "conflict")).mappings()
    found = {op.mutation_id: op for op in tx.outbox(entity_ids=sorted(ids))}
    for op in map(codec.outbox_from_row, resolutions):
        change = carried_change(op)
        if change is not None and change.entity_id in ids:
            found[op.mutation_id] = op
    return [found[number] for number in sorted(found)]


def _kept(tx: Writer) -> set[str]:
    return set(json.loads(tx.meta(OUT_OF_SCOPE, "[]") or "[]"))


def _back_in_scope(tx: Writer, pulled: set[str]) -> None:
    kept = _kept(tx)
    if kept & pulled:
        tx.set_meta(OUT_OF_SCOPE, json.dumps(sorted(kept - pulled)))


def _leave_scope(tx: Writer, gone: Iterable[str]) -> None:
    """Evict tickets that left the scope; ones with pending work stay (remembered, so a later
    sync evicts them once that work is acknowledged)."""
    protected = protected_tickets(tx) | _local_only_references(tx)
    present = set(tickets_present(tx, gone))
    evicted = present - protected
    _evict(tx, evicted)
    kept = (_kept(tx) - evicted) | (present & protected)
    tx.set_meta(OUT_OF_SCOPE, json.dumps(sorted(kept)))


def _local_only_references(tx: Writer) -> set[str]:
    """Tickets that rows of local-only tables point to (they would lose their ticket)."""
    synced = {schema.metadata.tables[name] for name in (*TICKET_CHILDREN, "ticket_aliases")}
    found: set[str] = set()
    for column in _columns_referencing(schema.tickets):
        if column.table not in synced:
            found.update(tx._db.execute(select(column).distinct()).scalars())
    return found


def _columns_referencing(table: Table) -> list[Any]:
    return [
        fk.parent
        for other in schema.metadata.tables.values()
        for fk in other.foreign_keys
        if fk.column.table is table
    ]


def _evict(tx: Writer, ticket_ids: set[str]) -> None:
    """Remove tickets with their worklog, tree runs, aliases and search rows from the cache."""
    if not ticket_ids:
        return
    t = schema.tickets
    ids = sorted(ticket_ids)
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        part = ids[start : start + 500]
        local_ids = list(tx._db.execute(select(t.c.local_id).where(t.c.id.in_(part))).scalars())
        if not local_ids:
            continue
        tx._db.exec_driver_sql(
            f"DELETE FROM ticket_fts WHERE rowid IN ({', '.join('?' for _ in local_ids)})",
            tuple(local_ids),
        )
        for column in _columns_referencing(t):
            tx._db.execute(delete(column.table).where(column.in_(part)))
        tx._db.execute(delete(t).where(t.c.id.in_(part)))
    tx._touched.difference_update(ticket_ids)


def evict_out_of_scope(tx: Writer, scope: Scope) -> int:
    """After a pull: drop the tickets outside the scope (aged out, or kept for pending work
    that is now sent) and the assets nothing here needs any more. Returns tickets evicted."""
    tables = schema.metadata.tables
    t, a = schema.tickets, schema.assets
    protected = protected_tickets(tx) | _local_only_references(tx)
    inside = scope_filter(tables, "tickets", scope)
    outside: set[str] = set()
    if inside is not None:
        outside.update(tx._db.execute(select(t.c.id).where(~inside)).scalars())
    kept = _kept(tx)
    outside |= kept
    _evict(tx, outside - protected)
    if kept:
        tx.set_meta(OUT_OF_SCOPE, json.dumps(sorted(kept & protected)))
    assets_inside = scope_filter(tables, "assets", scope)
    if assets_inside is not None:
        unused = [a.c.id.not_in(select(c).where(c.is_not(None))) for c in _columns_referencing(a)]
        tx._db.execute(delete(a).where(~assets_inside, *unused))
    return len(outside - protected)


def _from_json(table: Table, field: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(table.c[field].type, schema.UtcDateTime):
        return datetime.fromisoformat(value)
    if isinstance(table.c[field].type, Date):
        return date.fromisoformat(value)
    return value


def _reapply(tx: Writer, pending: Iterable[OutboxOperation]) -> None:
    """Local view = server + pending: the pulled rows get the unsent field updates again
    (an "apply mine" resolution: its conflict's resolution and the value it carries)."""
    for op in pending:
        for change in (op, carried_change(op)):
            if change is None or change.op != "update":
                continue  # a pending insert's row is local already; worklog is append-only
            table = LOCAL[change.entity]
            key = int(change.entity_id) if change.entity == "conflict" else change.entity_id
            values = {f: _from_json(table, f, v) for f, v in change.fields.items() if f in table.c}
            tx._db.execute(update(table).where(table.c.id == key).values(**values))
            if change.entity == "ticket":
                _refresh_sla_due(tx, change.entity_id)


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
    """Keep theirs (the server's value stands) or mine (my value, shown here at once).

    Either way the resolution travels as one operation, so both sides see it; "mine" carries
    the value, which the server applies only if no other resolution came first. A whole row
    the server refused for want of it is settled only by its author, whose "theirs" removes
    the row here as well (see _drop_refused).
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
    settler = tx.technician(who)
    if (
        tx.meta(CENTRAL_URL)
        and who not in (found.my_author, found.their_author)
        and not (settler is not None and settler.role.leads)
    ):
        # The central refuses it too (row-level security): said here before it is queued.
        raise BadInput(
            f"conflict {conflict_id} is between {found.my_author} and {found.their_author}: "
            "only they or a lead may settle it"
        )
    if found.field == WHOLE_ROW and found.my_author != who:
        # Every cache sees the conflict, but only the author's holds the row: another's
        # "keep theirs" would have the author's cache delete its only copy.
        raise BadInput(
            f"conflict {conflict_id} is about a {found.entity} the server does not have: it "
            f"exists only in the cache of {found.my_author}, so only {found.my_author} can "
            "settle it"
        )
    fields: dict[str, Any] = {"resolution": keep, "resolved_by": who}
    base_version = 0
    if keep == "mine" and found.field == WHOLE_ROW:
        fields[APPLY] = _row_again(tx, found)
    elif keep == "mine":
        table = LOCAL[found.entity]
        current = tx._db.execute(select(table).where(table.c.id == found.entity_id)).mappings()
        target = current.first()
        if target is None:
            raise NotFound(f"the {found.entity} of conflict {conflict_id} is not in this cache")
        value = _from_json(table, found.field, found.mine_value)
        tx._db.execute(
            update(table).where(table.c.id == found.entity_id).values({found.field: value})
        )
        fields[APPLY] = _carried(found, codec.json_value(value))
        base_version = target["version"]  # what the carried update is based on
        if found.entity == "ticket":
            _refresh_sla_due(tx, found.entity_id)
    tx._db.execute(update(c).where(c.c.id == conflict_id).values(resolution=keep, resolved_by=who))
    if keep == "theirs" and found.field == WHOLE_ROW:
        _drop_refused(tx, found)
    tx._queue("conflict", str(conflict_id), "update", fields, base_version)
    return _conflict_from_row({**row, "resolution": keep, "resolved_by": who})


def _carried(found: Conflict, value: Any) -> dict[str, Any]:
    return {
        "entity": found.entity,
        "entity_id": found.entity_id,
        "field": found.field,
        "value": value,
    }


def _row_again(tx: Writer, found: Conflict) -> dict[str, Any]:
    """'Apply mine' to an update the server refused for want of the row: the row as this
    cache has it, to send again as an insert."""
    table = LOCAL.get(found.entity)
    row = None
    if table is not None:
        row = tx._db.execute(select(table).where(table.c.id == found.entity_id)).mappings().first()
    if row is None:
        raise NotFound(
            f"the {found.entity} of conflict {found.id} is not in this cache: "
            "keep theirs to settle it"
        )
    local_only = {"id", "local_id", "version", "sla_due", "number"}
    fields = {k: codec.json_value(v) for k, v in row.items() if k not in local_only}
    return _carried(found, fields)


def needed_rows(db: Reader) -> dict[str, set[str]]:
    """Ids of the rows with pending work here (see _needing), per table."""
    found: dict[str, set[str]] = {}
    for entity, table in LOCAL.items():
        if entity != "conflict":
            ids = set(db._db.execute(union(*_needing(entity))).scalars())
            if ids:
                found[table.name] = ids
    return found


def not_compared(db: Reader) -> dict[str, set[str]]:
    """Rows the sanity check leaves out on both sides: rows with pending work (unsent
    inserts, rows refused whole and not settled yet), tickets with pending work (kept
    whatever the scope says) with their worklog and tree runs, and assets that such tickets
    or local-only rows (credential profile links) hold on to."""
    found = needed_rows(db)
    protected = protected_tickets(db)
    found.setdefault("tickets", set()).update(protected)
    a, t = schema.assets, schema.tickets
    held: set[str] = set()
    for column in _columns_referencing(a):
        statement = select(column).where(column.is_not(None)).distinct()
        if column.table is t:
            statement = statement.where(t.c.id.in_(sorted(protected)))
        held.update(db._db.execute(statement).scalars())
    found.setdefault("assets", set()).update(held)
    return found


def count_rows(
    tables: Mapping[str, Table], name: str, leave_out: Mapping[str, Collection[str]], scope: Scope
) -> Select[Any]:
    """How many rows of table `name` are in the scope, without the rows left out: the same
    statement on the cache's and on the central tables."""
    table = tables[name]
    statement = select(func.count()).select_from(table)
    inside = scope_filter(tables, name, scope)
    if inside is not None:
        statement = statement.where(inside)
    if leave_out.get(name):
        key = table.c[_KEYS.get(name, "id")]
        statement = statement.where(key.not_in(sorted(leave_out[name])))
    if name in TICKET_CHILDREN and leave_out.get("tickets"):
        statement = statement.where(table.c.ticket_id.not_in(sorted(leave_out["tickets"])))
    return statement


def synced_counts(
    db: Reader, leave_out: Mapping[str, Collection[str]], scope: Scope
) -> dict[str, int]:
    """Rows per synced table in the scope, without the ids given per table, and without the
    rows made here that the server lacks (see _pulled_once): kept until their author settles
    them, they would otherwise have every sync pull everything again."""
    tables = schema.metadata.tables
    return {
        name: int(
            db._db.scalar(count_rows(tables, name, leave_out, scope).where(_pulled_once(name))) or 0
        )
        for name in SYNCED_TABLES
    }


def _pulled_once(name: str) -> ColumnElement[bool]:
    """The rows of a synced table that came from the server: a pull gives them the server's
    version, rows made here keep 0. A worklog entry keeps 0 even when pulled back (the
    worklog is append-only): the entries of tickets made here stand for those."""
    table, t = schema.metadata.tables[name], schema.tickets
    if name in TICKET_CHILDREN:
        return table.c.ticket_id.not_in(select(t.c.id).where(t.c.version == 0))
    return table.c.version != 0


def restart_pull(tx: Writer) -> None:
    """Pull everything again at the next pull (the outbox is left as it is)."""
    tx.set_meta(CURSOR, "0")


def drop_unpulled(tx: Writer, pulled: Mapping[str, Collection[Any]]) -> int:
    """After a pull from the start: the rows of these tables the server did not send are rows
    it lacks: deleted, so the cache equals the server, unless work here still needs them (see
    _drop). Only rows that came from the server (version above 0): one made here (a refused
    insert) goes only by its author's "keep theirs", so neither does a ticket holding one.
    Returns rows deleted."""
    tables = schema.metadata.tables
    unpulled: dict[str, set[Any]] = {}
    for name, keys in pulled.items():
        table = tables[name]
        key = table.c[_KEYS.get(name, "id")]
        pulled_once = select(key).where(table.c.version != 0)
        unpulled[name] = set(tx._db.execute(pulled_once).scalars()).difference(keys)
    if "tickets" in unpulled:
        for name in TICKET_CHILDREN:
            child = tables[name]
            made_here = select(child.c.ticket_id).where(child.c.version == 0)
            unpulled["tickets"].difference_update(tx._db.execute(made_here).scalars())
    return _drop_tables(tx, unpulled)


def _drop_refused(tx: Writer, found: Conflict) -> None:
    """Its author's "keep theirs" on a row the server refused whole: the server has no such
    row, so neither has this cache, if it never came from the server (version 0; "apply
    mine" may have sent it since) and nothing here needs it any more (no open conflict or
    pending work, see _drop). A ticket waits for the open conflict about its worklog entry or
    tree run, and goes with the last of them if its own was settled "theirs" too."""
    table = LOCAL.get(found.entity)
    if table is None:
        return
    refused = {table.name: {found.entity_id}}
    if table.name in TICKET_CHILDREN:
        ticket_id = tx._db.scalar(select(table.c.ticket_id).where(table.c.id == found.entity_id))
        c = schema.conflicts
        ticket_settled = select(c.c.id).where(
            c.c.entity == "ticket",
            c.c.entity_id == ticket_id,
            c.c.field == WHOLE_ROW,
            c.c.resolution == "theirs",
        )
        if ticket_id is not None and tx._db.scalar(ticket_settled) is not None:
            refused["tickets"] = {ticket_id}
    _drop_tables(tx, {name: _made_here_unclaimed(tx, name, keys) for name, keys in refused.items()})


def _made_here_unclaimed(tx: Writer, name: str, keys: Collection[str]) -> set[str]:
    """Of these rows, those that never came from the server (version 0) and that no open
    conflict is about."""
    table, c = schema.metadata.tables[name], schema.conflicts
    entity = next(e for e, t in LOCAL.items() if t is table)
    open_about = select(c.c.entity_id).where(c.c.entity == entity, c.c.resolution.is_(None))
    statement = select(table.c.id).where(
        table.c.id.in_(sorted(keys)), table.c.version == 0, table.c.id.not_in(open_about)
    )
    return set(tx._db.execute(statement).scalars())


def _drop_tables(tx: Writer, keys: Mapping[str, Collection[Any]]) -> int:
    """_drop for several tables, rows pointing elsewhere first. What pending work needs is
    read once: deleting rows the server lacks changes neither the outbox nor the conflicts."""
    needed, protected = needed_rows(tx), protected_tickets(tx)
    return sum(
        _drop(tx, table.name, keys[table.name], needed.get(table.name, set()), protected)
        for table in reversed(schema.metadata.sorted_tables)
        if table.name in keys
    )


def _drop(
    tx: Writer, name: str, keys: Collection[Any], needed: set[Any], protected: set[str]
) -> int:
    """Delete these rows of a synced table, the server lacking them, except those this cache
    still needs: rows with pending work (`needed`: never lose a record), tickets it keeps for
    that work (`protected`) with their worklog and tree runs, and rows other rows here point
    to. A ticket goes with its worklog, tree runs, aliases and search rows. Returns rows
    deleted."""
    if name == "tickets":
        evicted = set(keys) - protected - _local_only_references(tx)
        _evict(tx, evicted)
        return len(evicted)
    table = schema.metadata.tables[name]
    key = table.c[_KEYS.get(name, "id")]
    kept = set(needed)
    for column in _columns_referencing(table):
        kept.update(tx._db.execute(select(column).where(column.is_not(None))).scalars())
    gone = sorted(set(keys) - kept)
    kept_tickets = sorted(protected) if name in TICKET_CHILDREN else []
    dropped = 0
    for start in range(0, len(gone), 500):  # SQLite's bound-parameter limit
        statement = delete(table).where(key.in_(gone[start : start + 500]))
        if kept_tickets:
            statement = statement.where(table.c.ticket_id.not_in(kept_tickets))
        dropped += int(tx._db.execute(statement).rowcount)
    return dropped
