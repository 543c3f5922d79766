"""The local cache: one Store per file; reads and writes go through `Reader` and `Writer`.

A `Writer` is one SQLite transaction (BEGIN IMMEDIATE). Each of its mutations appends an
operation to the outbox in that same transaction, and the FTS rows of the tickets it touched
are rebuilt just before it commits, so the cache, its outbox and its index never disagree.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    case,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from workbench.core.changes import ChangeSet
from workbench.core.errors import BadInput, NotFound, StoreError
from workbench.core.labels import plural
from workbench.core.models import (
    Asset,
    OutboxOperation,
    Requester,
    Site,
    Technician,
    Ticket,
    TicketDetail,
    WorklogEntry,
)
from workbench.core.query import SearchHit, TicketQuery, TicketSummary
from workbench.core.refs import normalize_ref
from workbench.store import codec, schema
from workbench.store.database import (
    Session,
    damaged,
    explain,
    open_engine,
    prepare_data_dir,
    quick_check,
    sqlite_cause,
)
from workbench.store.search import RANKED_HITS, REINDEX_TOUCHED, fts_query

log = logging.getLogger(__name__)
# The table a data-changing statement writes, from its SQL text (every write path, including
# the sync's and the other store modules', is seen without each having to report it).
_WRITTEN_TABLE = re.compile(
    r'^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)',
    re.IGNORECASE,
)
_WRITTEN = "written_tables"  # connection.info key: the tables the open write transaction wrote

# Fields set by every change, where the newest value wins (the server never makes a conflict
# of them).
LATEST_WINS = frozenset({"updated_at"})
# The field of an "apply mine" resolution that carries its value: the conflict's entity,
# entity_id, field and value (field "*": the row's fields, sent again as an insert). The
# server applies it only if that resolution is the one that stands.
APPLY = "apply"


def carried(part: str) -> Any:
    """One part (entity, entity_id, field, value) of the value an outbox operation carries
    under APPLY, in SQL: NULL for operations that carry none."""
    return func.json_extract(schema.outbox.c.fields, f"$.{APPLY}.{part}")


_t = schema.tickets
_r = schema.requesters
_a = schema.assets

_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {
    "number": func.coalesce(_t.c.number, _t.c.provisional_ref),
    "priority": _t.c.priority,
    "title": _t.c.title,
    "requester": _r.c.name,
    "asset": _a.c.tag,
    "status": _t.c.status,
    "assignee": _t.c.assignee,
    "sla_due": _t.c.sla_due,
    "created_at": _t.c.created_at,
    "updated_at": _t.c.updated_at,
}


def _summary_select() -> Select[Any]:
    return select(
        _t,
        _r.c.name.label("requester_name"),
        _a.c.tag.label("asset_tag"),
        _a.c.hostname.label("asset_hostname"),
    ).select_from(
        _t.outerjoin(_r, _r.c.id == _t.c.requester_id).outerjoin(_a, _a.c.id == _t.c.asset_id)
    )


def _like_prefix(text: str) -> str:
    """A LIKE pattern for 'starts with what was typed'; typed wildcards are dropped."""
    return text.strip().replace("%", "").replace("_", "") + "%"


def _summary(row: Any) -> TicketSummary:
    return TicketSummary(
        codec.ticket_from_row(row), row["requester_name"], row["asset_tag"], row["asset_hostname"]
    )


def _where(query: TicketQuery) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if query.statuses:
        clauses.append(_t.c.status.in_(sorted(s.value for s in query.statuses)))
    if query.queue:
        clauses.append(_t.c.queue == query.queue)
    if query.tier is not None:
        clauses.append(_t.c.tier == query.tier)
    if query.assignee:
        clauses.append(_t.c.assignee == query.assignee)
    if query.unassigned:
        clauses.append(_t.c.assignee.is_(None))
    if query.priorities:
        clauses.append(_t.c.priority.in_(sorted(p.value for p in query.priorities)))
    if query.breaching_at is not None:
        clauses.append(_t.c.sla_due < query.breaching_at)
    return clauses


class Reader:
    """Queries over one connection; every result is a frozen dataclass."""

    def __init__(self, connection: Connection, store: Store) -> None:
        self._db = connection
        self.store = store

    # -- settings kept in the cache --------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        value = self._db.scalar(select(schema.meta.c.value).where(schema.meta.c.key == key))
        return default if value is None else value

    @property
    def client_id(self) -> str:
        value = self.meta("client_id")
        if value is None:
            raise StoreError("the cache has no client id; it was not initialised")
        return value

    @property
    def next_mutation_id(self) -> int:
        """The id the next outbox operation of this cache gets."""
        return int(self.meta("next_mutation_id", "1") or 1)

    # -- tickets -------------------------------------------------------------------------
    def find_ticket(self, ref: str) -> Ticket | None:
        """The ticket a reference names; BadInput when it names several (the central database
        lets two tickets share a number or a provisional ref: acting on either could be wrong)."""
        wanted = normalize_ref(ref)
        alias = select(schema.ticket_aliases.c.ticket_id).where(
            schema.ticket_aliases.c.ref == wanted
        )
        rows = (
            self._db.execute(
                select(_t)
                .where(
                    or_(
                        _t.c.number == wanted,
                        _t.c.provisional_ref == wanted,
                        _t.c.id == wanted,
                        _t.c.id.in_(alias.scalar_subquery()),
                    )
                )
                .order_by(_t.c.local_id)
            )
            .mappings()
            .all()
        )
        found = [codec.ticket_from_row(row) for row in rows]
        if len(found) > 1:
            named = ", ".join(f"{t.ref} {t.title!r}" for t in found)
            raise BadInput(
                f"{wanted} names {len(found)} tickets ({named}); "
                "use the ticket number (each gets its own at its first sync)"
            )
        return found[0] if found else None

    def ticket(self, ref: str) -> Ticket:
        found = self.find_ticket(ref)
        if found is None:
            raise NotFound(f"no ticket {ref!r} in this cache ({self.store.path})")
        return found

    def detail(self, ref: str) -> TicketDetail:
        ticket = self.ticket(ref)
        worklog = self.worklog(ticket.id)
        return TicketDetail(
            ticket=ticket,
            requester=self.requester(ticket.requester_id) if ticket.requester_id else None,
            asset=self.asset(ticket.asset_id) if ticket.asset_id else None,
            site=self.site(ticket.site_id) if ticket.site_id else None,
            worklog=worklog,
            pending=self.outbox(entity_ids=[ticket.id, *(w.id for w in worklog)]),
            minutes_spent=sum(w.minutes for w in worklog),
        )

    def tickets(self, query: TicketQuery, offset: int = 0, limit: int = 100) -> list[TicketSummary]:
        key = _SORT_COLUMNS[query.sort]
        # (key, local_id) is the order of the plain index on key, in either direction.
        ordering = (key.desc(), _t.c.local_id.desc()) if query.descending else (key, _t.c.local_id)
        # Page over the keys alone, then fetch the page's rows: a deep offset then walks an
        # index, not 50,000 joined rows.
        keys = select(_t.c.local_id)
        if query.sort in ("requester", "asset"):
            keys = keys.select_from(
                _t.outerjoin(_r, _r.c.id == _t.c.requester_id).outerjoin(
                    _a, _a.c.id == _t.c.asset_id
                )
            )
        page = keys.where(*_where(query)).order_by(*ordering).offset(offset).limit(limit).subquery()
        statement = (
            _summary_select().join(page, page.c.local_id == _t.c.local_id).order_by(*ordering)
        )
        return [_summary(row) for row in self._db.execute(statement).mappings()]

    def count(self, query: TicketQuery) -> int:
        statement = select(func.count()).select_from(_t).where(*_where(query))
        return int(self._db.scalar(statement) or 0)

    def search(self, text_query: str, limit: int = 50) -> list[SearchHit]:
        match = fts_query(text_query)
        if match is None:
            return []
        # Rank first, on the FTS table alone (joined, SQLite may probe the index per ticket),
        # then fetch the hits' rows.
        hits = self._db.exec_driver_sql(RANKED_HITS, (match, limit)).all()
        if not hits:
            return []
        rows = self._db.execute(
            _summary_select().where(_t.c.local_id.in_([hit.rowid for hit in hits]))
        ).mappings()
        by_id = {row["local_id"]: _summary(row) for row in rows}
        return [SearchHit(by_id[h.rowid], h.snippet, h.rank) for h in hits if h.rowid in by_id]

    def worklog(self, ticket_id: str) -> tuple[WorklogEntry, ...]:
        w = schema.worklog
        rows = self._db.execute(
            select(w).where(w.c.ticket_id == ticket_id).order_by(w.c.created_at, w.c.local_id)
        ).mappings()
        return tuple(codec.worklog_from_row(row) for row in rows)

    # -- reference data ------------------------------------------------------------------
    def site(self, site_id: str) -> Site | None:
        row = (
            self._db.execute(select(schema.sites).where(schema.sites.c.id == site_id))
            .mappings()
            .first()
        )
        return codec.site_from_row(row) if row else None

    def sites(self) -> list[Site]:
        rows = self._db.execute(select(schema.sites).order_by(schema.sites.c.name)).mappings()
        return [codec.site_from_row(row) for row in rows]

    def technician(self, login: str) -> Technician | None:
        tech = schema.technicians
        row = self._db.execute(select(tech).where(tech.c.login == login)).mappings().first()
        return codec.technician_from_row(row) if row else None

    def technicians(self) -> list[Technician]:
        tech = schema.technicians
        rows = self._db.execute(select(tech).order_by(tech.c.tier, tech.c.name)).mappings()
        return [codec.technician_from_row(row) for row in rows]

    def requester(self, requester_id: str) -> Requester | None:
        row = self._db.execute(select(_r).where(_r.c.id == requester_id)).mappings().first()
        return codec.requester_from_row(row) if row else None

    def find_requesters(self, text_query: str, limit: int = 20) -> list[Requester]:
        """Requesters whose name or e-mail starts with what was typed (for as-you-type lookup)."""
        prefix = _like_prefix(text_query)
        rows = self._db.execute(
            select(_r)
            .where(or_(_r.c.name.like(prefix), _r.c.email.like(prefix)))
            .order_by(_r.c.name)
            .limit(limit)
        ).mappings()
        return [codec.requester_from_row(row) for row in rows]

    def requester_by_key(self, key: str) -> Requester:
        """A requester named by id, e-mail address or full name (any case); BadInput when
        the name is shared, listing who has it."""
        wanted = " ".join(key.split()).lower()
        row = (
            self._db.execute(
                select(_r).where(or_(_r.c.id == key, func.lower(_r.c.email) == wanted))
            )
            .mappings()
            .first()
        )
        if row is not None:
            return codec.requester_from_row(row)
        named = [
            codec.requester_from_row(row)
            for row in self._db.execute(
                select(_r).where(func.lower(_r.c.name) == wanted).order_by(_r.c.email)
            ).mappings()
        ]
        if len(named) > 1:
            candidates = "; ".join(f"{r.name} <{r.email or 'no e-mail'}>" for r in named)
            raise BadInput(
                f"{len(named)} requesters are named {key.strip()!r} ({candidates}): give the e-mail"
            )
        if not named:
            raise NotFound(f"no requester with id, e-mail or name {key!r}")
        return named[0]

    def requesters(self, offset: int = 0, limit: int = 100) -> list[Requester]:
        rows = self._db.execute(
            select(_r).order_by(_r.c.name, _r.c.email).offset(offset).limit(limit)
        ).mappings()
        return [codec.requester_from_row(row) for row in rows]

    def requester_count(self) -> int:
        return int(self._db.scalar(select(func.count()).select_from(_r)) or 0)

    def search_requesters(self, text_query: str, limit: int = 50) -> list[Requester]:
        """Requesters with every typed word somewhere in their name, e-mail, phone or
        department (any case); typed wildcards are searched for as text."""
        columns = (_r.c.name, _r.c.email, _r.c.phone, _r.c.department)
        clauses = [
            or_(*(column.contains(term, autoescape=True) for column in columns))
            for term in text_query.split()
        ]
        rows = self._db.execute(
            select(_r).where(*clauses).order_by(_r.c.name, _r.c.email).limit(limit)
        ).mappings()
        return [codec.requester_from_row(row) for row in rows]

    def requester_tickets(
        self, requester_id: str, statuses: Iterable[str] = ()
    ) -> list[TicketSummary]:
        """The requester's tickets (of `statuses`, when given), newest first."""
        wanted = sorted(statuses)
        statement = _summary_select().where(_t.c.requester_id == requester_id)
        if wanted:
            statement = statement.where(_t.c.status.in_(wanted))
        rows = self._db.execute(statement.order_by(_t.c.created_at.desc())).mappings()
        return [_summary(row) for row in rows]

    def requester_assets(self, requester_id: str) -> list[Asset]:
        rows = self._db.execute(
            select(_a).where(_a.c.owner_id == requester_id).order_by(_a.c.tag)
        ).mappings()
        return [codec.asset_from_row(row) for row in rows]

    def asset_by_key(self, key: str) -> Asset:
        """An asset named by its tag, serial number or hostname (any case)."""
        wanted = key.strip().lower()
        row = (
            self._db.execute(
                select(_a)
                .where(
                    or_(
                        func.lower(_a.c.tag) == wanted,
                        func.lower(_a.c.serial) == wanted,
                        func.lower(_a.c.hostname) == wanted,
                        _a.c.id == key,
                    )
                )
                # Tags, serials and hostnames may repeat (a relabel in progress): an id or a
                # tag wins over a serial or hostname; among equals, always the same one.
                .order_by(
                    case(
                        (_a.c.id == key, 0),
                        (func.lower(_a.c.tag) == wanted, 1),
                        (func.lower(_a.c.serial) == wanted, 2),
                        else_=3,
                    ),
                    _a.c.id,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no asset with tag, serial number or hostname {key!r}")
        return codec.asset_from_row(row)

    def asset(self, asset_id: str) -> Asset | None:
        row = self._db.execute(select(_a).where(_a.c.id == asset_id)).mappings().first()
        return codec.asset_from_row(row) if row else None

    def find_assets(self, text_query: str, limit: int = 20) -> list[Asset]:
        """Assets whose tag, serial or hostname starts with what was typed (case-insensitive)."""
        prefix = _like_prefix(text_query)
        rows = self._db.execute(
            select(_a)
            .where(or_(_a.c.tag.like(prefix), _a.c.serial.like(prefix), _a.c.hostname.like(prefix)))
            .order_by(_a.c.tag)
            .limit(limit)
        ).mappings()
        return [codec.asset_from_row(row) for row in rows]

    # -- outbox --------------------------------------------------------------------------
    def outbox(
        self, limit: int | None = None, entity_ids: Sequence[str] | None = None
    ) -> tuple[OutboxOperation, ...]:
        o = schema.outbox
        statement = select(o).order_by(o.c.mutation_id)
        if entity_ids is not None:
            statement = statement.where(o.c.entity_id.in_(entity_ids))
        if limit is not None:
            statement = statement.limit(limit)
        return tuple(codec.outbox_from_row(row) for row in self._db.execute(statement).mappings())

    def outbox_count(self) -> int:
        return int(self._db.scalar(select(func.count()).select_from(schema.outbox)) or 0)


class Writer(Reader):
    """One write transaction. Every mutation queues its outbox operation in the same one."""

    def __init__(self, connection: Connection, store: Store) -> None:
        super().__init__(connection, store)
        self._touched: set[str] = set()
        self._changed: set[str] = set()  # tickets touched so far, for the commit's change set

    def set_meta(self, key: str, value: str) -> None:
        m = schema.meta
        if self._db.execute(update(m).where(m.c.key == key).values(value=value)).rowcount == 0:
            self._db.execute(insert(m).values(key=key, value=value))

    def _next_counter(self, key: str) -> int:
        value = int(self.meta(key, "1") or 1)
        self.set_meta(key, str(value + 1))
        return value

    def next_provisional_number(self) -> int:
        return self._next_counter("next_provisional")

    def queue_audit(self, event_id: str, fields: dict[str, Any]) -> None:
        """An audit event for the central's append-only audit: only in the outbox (caches
        never hold the audit; leads read it centrally)."""
        self._queue("audit", event_id, "insert", fields, 0)

    def _queue(
        self, entity: str, entity_id: str, op: str, fields: dict[str, Any], base_version: int
    ) -> None:
        if op == "update":
            base_version = self._seen_version(entity, entity_id, fields, base_version)
        self._db.execute(
            insert(schema.outbox).values(
                mutation_id=self._next_counter("next_mutation_id"),
                client_id=self.client_id,
                entity=entity,
                entity_id=entity_id,
                op=op,
                fields=json.dumps(
                    {k: codec.json_value(v) for k, v in fields.items()},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
                base_version=base_version,
                created_at=datetime.now(UTC),
            )
        )

    def _seen_version(
        self, entity: str, entity_id: str, fields: dict[str, Any], version: int
    ) -> int:
        """The version this edit was made on top of, as far as the server's values go. A pull
        re-applies pending edits on top of the rows it brings: the row then has the server's
        newer version while its field still shows the pending value, and the other side's
        value was never on screen. An edit of such a field is based where its pending edit was,
        so the server still sees the other side's change as a conflict, not as seen. A pending
        "apply mine" resolution carrying a value for the field counts as such an edit."""
        o = schema.outbox
        pending = self._db.execute(
            select(o.c.fields, o.c.base_version).where(
                o.c.entity == entity,
                o.c.entity_id == entity_id,
                o.c.op == "update",
                o.c.base_version < version,
            )
        )
        edited = set(fields) - LATEST_WINS
        for text, base in pending:
            if edited & set(json.loads(text)):
                version = min(version, int(base))
        carried_base = self._db.scalar(
            select(func.min(o.c.base_version)).where(
                o.c.entity == "conflict",
                carried("entity") == entity,
                carried("entity_id") == entity_id,
                carried("field").in_(sorted(edited)),
                o.c.base_version < version,
            )
        )
        return version if carried_base is None else min(version, int(carried_base))

    def insert_ticket(self, ticket: Ticket) -> None:
        row = codec.ticket_to_row(ticket)
        self._db.execute(insert(_t).values(**row))
        fields = {k: v for k, v in row.items() if k not in ("id", "version", "sla_due")}
        self._queue("ticket", ticket.id, "insert", fields, 0)
        self._touched.add(ticket.id)

    def update_ticket(self, after: Ticket, fields: dict[str, Any]) -> None:
        """Store the changed `fields` of a ticket; `after` is the whole ticket after the change."""
        values = {name: codec.column_value(value) for name, value in fields.items()}
        self._db.execute(
            update(_t)
            .where(_t.c.id == after.id)
            .values(**values, sla_due=codec.sla_sort_key(after))
        )
        self._queue("ticket", after.id, "update", fields, after.version)
        self._touched.add(after.id)

    def append_worklog(self, entry: WorklogEntry) -> None:
        row = {
            name: codec.column_value(getattr(entry, name))
            for name in WorklogEntry.__dataclass_fields__
        }
        self._db.execute(insert(schema.worklog).values(**row))
        self._queue("worklog", entry.id, "insert", {k: v for k, v in row.items() if k != "id"}, 0)
        self._touched.add(entry.ticket_id)

    def add_requester(self, requester: Requester) -> None:
        row = {name: getattr(requester, name) for name in Requester.__dataclass_fields__}
        self._db.execute(insert(_r).values(**row))
        self._queue(
            "requester", requester.id, "insert", {k: v for k, v in row.items() if k != "id"}, 0
        )

    def load_snapshot(
        self,
        *,
        sites: Iterable[Site] = (),
        technicians: Iterable[Technician] = (),
        requesters: Iterable[Requester] = (),
        assets: Iterable[Asset] = (),
        tickets: Iterable[Ticket] = (),
        worklog: Iterable[WorklogEntry] = (),
    ) -> None:
        """Insert rows as they came from the central database: no outbox operations.

        This is how pulled (and demo) data enters the cache; local work uses the methods above.
        """
        tickets, worklog = list(tickets), list(worklog)
        batches: list[tuple[Any, list[dict[str, Any]]]] = [
            (schema.sites, [_fields(s) for s in sites]),
            (
                schema.technicians,
                [{**_fields(t), "sites": json.dumps(list(t.sites))} for t in technicians],
            ),
            (_r, [_fields(r) for r in requesters]),
            (_a, [_fields(a) for a in assets]),
            (_t, [codec.ticket_to_row(t) for t in tickets]),
            (schema.worklog, [_fields(w) for w in worklog]),
        ]
        for table, rows in batches:
            if rows:
                self._insert_many(table.name, rows)
        self._touched.update(t.id for t in tickets)
        self._touched.update(w.ticket_id for w in worklog)

    def _insert_many(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Plain executemany: SQLAlchemy's per-row processing doubles the cost of a big pull."""
        columns = list(rows[0])
        self._db.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [tuple(codec.sqlite_value(row[c]) for c in columns) for row in rows],
        )

    def _changes(self) -> ChangeSet:
        tables = self._db.info.get(_WRITTEN, set())
        return ChangeSet(frozenset(self._changed), frozenset(tables))

    def _reindex_touched(self) -> None:
        if not self._touched:
            return
        self._changed.update(self._touched)
        # Through a temp table: a pull or a demo load touches more tickets than SQLite takes
        # bound parameters.
        self._db.exec_driver_sql(
            "INSERT OR IGNORE INTO temp.touched_tickets (id) VALUES (?)",
            [(ticket_id,) for ticket_id in self._touched],
        )
        for statement in REINDEX_TOUCHED:
            self._db.exec_driver_sql(statement)
        self._touched.clear()


def _fields(item: Any) -> dict[str, Any]:
    return {name: codec.column_value(getattr(item, name)) for name in item.__dataclass_fields__}


class Store:
    """The cache file of one data directory."""

    def __init__(self, engine: Engine, path: Path, session: Session) -> None:
        self.engine = engine
        self.path = path
        self._session = session
        self._subscribers: list[Callable[[ChangeSet], None]] = []
        # Its own connection for `PRAGMA data_version` (the value is per connection), used
        # from the database and the network threads under the lock.
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        self._seen_version: int | None = None
        event.listen(engine, "before_cursor_execute", _note_written_table)

    @classmethod
    def open(cls, data_dir: Path) -> Store:
        path = prepare_data_dir(data_dir)
        session = Session(path)
        try:
            engine = open_engine(path, unclean=session.unclean)
        except BaseException:
            session.close()  # the stale markers stay: the next open checks again
            raise
        session.checked()
        store = cls(engine, path, session)
        try:
            with store.write() as tx:
                if tx.meta("client_id") is None:
                    tx.set_meta("client_id", str(uuid.uuid4()))
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()
        self._session.close()

    def subscribe(self, callback: Callable[[ChangeSet], None]) -> None:
        """Call `callback(change_set)` after every commit of this store, on the committing
        thread (a GUI bridge hands it on to its own thread)."""
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[ChangeSet], None]) -> None:
        if callback in self._subscribers:  # a window closed twice unsubscribes twice
            self._subscribers.remove(callback)

    def committed_elsewhere(self) -> bool:
        """Whether another process (or a connection not through `write()`) committed since the
        last call or the last commit of this store; the first call only starts watching."""
        with self._watch_lock:
            version = self._data_version()
            changed = self._seen_version is not None and version != self._seen_version
            self._seen_version = version
            return changed

    def _data_version(self) -> int:
        if self._watch is None:
            self._watch = sqlite3.connect(self.path, check_same_thread=False)
        return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def _committed(self, changes: ChangeSet) -> None:
        if self._watch is not None:  # our own commit: the poll should not report it again
            with self._watch_lock:
                if self._watch is not None:
                    self._seen_version = self._data_version()
        for callback in list(self._subscribers):
            try:
                callback(changes)
            except Exception:  # a view's bug must not undo or fail the caller's write
                log.exception("a change subscriber failed")

    def check_before_push(self) -> None:
        """Refuse to send what a damaged file holds: the whole file is checked (`PRAGMA
        quick_check`, 0.5 to 1.5 s for 100,000 tickets) when the outbox has work to send."""
        with self.read() as db:
            pending = db.outbox_count()
        problems = quick_check(self.path) if pending else []
        if problems:
            raise damaged(
                self.path, f"found before sending {plural(pending, 'unsent change')}: {problems[0]}"
            )

    @contextmanager
    def read(self) -> Iterator[Reader]:
        try:
            with self.engine.connect() as connection, connection.begin():
                yield Reader(connection, self)
        except DBAPIError as exc:  # a damaged file, a full disk (its log cannot grow)
            cause = sqlite_cause(exc)
            if cause is None:
                raise
            raise explain(self.path, cause, "read") from None

    @contextmanager
    def write(self) -> Iterator[Writer]:
        try:
            with self.engine.connect() as connection:
                connection.info["immediate"] = True
                connection.info[_WRITTEN] = set()
                try:
                    with connection.begin():
                        writer = Writer(connection, self)
                        yield writer
                        writer._reindex_touched()
                        changes = writer._changes()
                finally:
                    connection.info.pop("immediate", None)
                    connection.info.pop(_WRITTEN, None)
        except DBAPIError as exc:  # locked for too long, read-only, disk full, damaged
            cause = sqlite_cause(exc)
            if cause is None:
                raise
            raise explain(self.path, cause, "write") from None
        self._committed(changes)


def _note_written_table(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    """Engine hook: remember which table a write transaction's statement writes."""
    tables = connection.info.get(_WRITTEN)
    if tables is None:
        return
    match = _WRITTEN_TABLE.match(statement)
    if match and match.group(1).lower() != "temp":  # temp tables are the transaction's own
        tables.add(match.group(1))
