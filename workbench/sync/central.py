"""The central PostgreSQL database: its tables (own MetaData), connecting, `central init`.

The synced tables mirror the cache's columns, plus `version` (the sync clock value of the
row's last change) and `changed_by`. `field_changes` remembers per field which version last
changed it and who did, so a push can tell a real conflict from an edit of another field.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Table,
    Text,
    create_engine,
    func,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from workbench.core import secrets
from workbench.core.errors import BadInput, WorkbenchError
from workbench.store import schema as local
from workbench.store.store import Reader, Writer

KEYRING_SERVICE = "workbench-central"
# The cache's own part of its password's keyring entry (meta; no secret): a password typed in
# one cache never replaces the one another cache of the same login signs in with.
CACHE_KEY = "central_password_entry"

metadata = MetaData()

ticket_numbers = Sequence("ticket_numbers", metadata=metadata, start=1)

sync_clock = Table(
    "sync_clock",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1: the one row pushes lock
    Column("clock", BigInteger, nullable=False),
)

mutation_log = Table(
    "mutation_log",
    metadata,
    Column("client_id", String, nullable=False),
    Column("mutation_id", BigInteger, nullable=False),
    Column("content_hash", String, nullable=False),
    Column("technician", String, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("client_id", "mutation_id"),
)

# Which technician's cache a client id is (revision c0004): claimed by its first push.
client_ids = Table(
    "client_ids",
    metadata,
    Column("client_id", String, primary_key=True),
    Column("technician", String, nullable=False),
)

field_changes = Table(
    "field_changes",
    metadata,
    Column("entity", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("field", String, nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("author", String, nullable=False),
    # A client's own later edit of a field it changed before is no conflict.
    Column("client_id", String, nullable=False),
    PrimaryKeyConstraint("entity", "entity_id", "field"),
)

conflicts = Table(
    "conflicts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("entity", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("field", String, nullable=False),
    Column("their_value", Text, nullable=False),  # JSON, as in the outbox
    Column("their_author", String, nullable=False),
    Column("mine_value", Text, nullable=False),
    Column("my_author", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolution", String, nullable=True),  # theirs | mine, NULL while open
    Column("resolved_by", String, nullable=True),
    Column("version", BigInteger, nullable=False, index=True),
)

# Reserved for rows removed centrally (issue 7 lists it in the schema). Nothing deletes a
# synced row: tickets are closed, assets retired, the worklog is append-only; a ticket that
# leaves a technician's scope is evicted by the scope rule, not by a tombstone.
tombstones = Table(
    "tombstones",
    metadata,
    Column("entity", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("version", BigInteger, nullable=False, index=True),
    PrimaryKeyConstraint("entity", "entity_id"),
)


def _central_type(column: Column[object]) -> object:
    if isinstance(column.type, local.UtcDateTime):
        return DateTime(timezone=True)
    if isinstance(column.type, Date):
        return Date()
    if isinstance(column.type, Integer):
        return BigInteger() if column.name == "version" else Integer()
    return Text() if isinstance(column.type, Text) else String()


def _mirror(table: Table, key: str) -> Table:
    """The central twin of a cache table: same columns, no local key, indexed versions."""
    columns: list[Column[Any]] = [
        Column(
            c.name,
            _central_type(c),  # type: ignore[arg-type]
            primary_key=c.name == key,
            nullable=c.nullable if c.name != key else False,
            index=c.name == "version",
        )
        for c in table.columns
        if c.name not in ("local_id", "sla_due")
    ]
    return Table(table.name, metadata, *columns, Column("changed_by", String, nullable=True))


sites = _mirror(local.sites, "id")
policies = _mirror(local.policies, "id")  # revision c0004
technicians = _mirror(local.technicians, "login")
requesters = _mirror(local.requesters, "id")
assets = _mirror(local.assets, "id")
tickets = _mirror(local.tickets, "id")
worklog = _mirror(local.worklog, "id")
recipes = _mirror(local.recipes, "id")  # revision c0003
trees = _mirror(local.trees, "id")  # revision c0002
tree_runs = _mirror(local.tree_runs, "id")  # revision c0002
# A scoped pull reads a ticket's children by ticket (revision c0002).
Index("ix_worklog_ticket", worklog.c.ticket_id)
# Imports find people and assets by their natural keys (revision c0004).
Index("ix_requesters_email", func.lower(requesters.c.email))
Index("ix_assets_tag", assets.c.tag)
Index("ix_assets_serial", assets.c.serial)
Index("ix_tree_runs_ticket", tree_runs.c.ticket_id)

# Every version of the policy, as set (revision c0004; append-only).
policy_history = Table(
    "policy_history",
    metadata,
    Column("id", String, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("source", Text, nullable=False),
    Column("digest", String, nullable=False),
    Column("set_by", String, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id", "policy_version"),
)

# Remote jobs and administrative changes (revision c0004): append-only for every role, its
# author included (a trigger refuses updates, deletes and truncation). Pushed, never pulled.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", String, primary_key=True),  # made where it happened: a resend is a no-op
    Column("kind", String, nullable=False),  # remote_job | technician | site | import | policy
    Column("technician", String, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("host", String, nullable=True),
    Column("port", Integer, nullable=True),
    Column("recipe_id", String, nullable=True),
    Column("params", Text, nullable=True),  # JSON, secrets as ********
    Column("outcome", String, nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("ticket_id", String, nullable=True),
    Column("ticket_ref", String, nullable=True),
    Column("detail", Text, nullable=False),
    Index("ix_audit_events_at", "at"),
    Index("ix_audit_events_host", "host"),
    Index("ix_audit_events_technician", "technician"),
)

# Pull order: parents before children, so foreign keys of the cache hold inside each chunk.
SYNCED: tuple[Table, ...] = (
    sites,
    policies,
    technicians,
    requesters,
    assets,
    recipes,  # before trees: a tree's check names a recipe
    trees,
    tickets,
    worklog,
    tree_runs,
)
# What an outbox operation's entity names.
ENTITIES: dict[str, Table] = {
    "ticket": tickets,
    "worklog": worklog,
    "requester": requesters,
    "recipe": recipes,
    "tree": trees,
    "tree_run": tree_runs,
    "conflict": conflicts,
    "audit": audit_events,  # push only
}
KEYS: dict[str, str] = {t.name: ("login" if t is technicians else "id") for t in SYNCED}


def _password_in_place(url: URL) -> URL:
    """libpq also reads a password from the query (?password=...): moved to where the URL's
    own password is, so that masking, the keyring and the stored URL treat both alike."""
    if "password" not in url.query:
        return url
    given = url.query["password"]
    secret = given if isinstance(given, str) else given[-1]
    return url.difference_update_query(["password"]).set(password=url.password or secret)


URL_FORM = "postgresql://USER@HOST[:PORT]/DATABASE[?sslmode=...]"
# The parts of a URL as SQLAlchemy splits them (its own pattern is private): what follows the
# first '@' of the user info is the host, an IPv6 address in brackets, then an optional port.
_HOST_AND_PORT = re.compile(
    r"^[\w+]+://(?:[^:/]*(?::[^@]*)?@)?(?P<host>\[[^\]/?]*\]?|[^/:?]*)(?::(?P<port>[^/?]*))?"
)


def _port_problem(port: str) -> str | None:
    if port.isascii() and port.isdigit() and 0 < int(port) < 65536:
        return None
    return f"the port {port!r} in the URL is not a number from 1 to 65535"


def _url_problem(url: str) -> str | None:
    """What is wrong with a URL that SQLAlchemy or libpq would refuse in their own ways (a
    ValueError, an odd message, a password shown as part of the host); None when nothing is."""
    parts = _HOST_AND_PORT.match(url)
    if parts is None:
        return None  # not scheme://…: make_url says it is no URL
    host, port = parts["host"], parts["port"]
    if host.startswith("[") and not host.endswith("]"):
        return "the IPv6 address in the URL lacks its closing ']': write [ADDRESS]:PORT"
    if "," in host or "," in (port or ""):
        return f"the URL names more than one host; the central database is one: {URL_FORM}"
    if "@" in host:
        return "the user name or password in the URL has an '@': write it as %40"
    if port is not None:
        return _port_problem(port)
    return None


def _query_problem(parsed: URL) -> str | None:
    """libpq's host and port may come in the query too (?host=…&port=…)."""
    for name in ("host", "hostaddr", "port"):
        given = parsed.query.get(name)
        values = [given] if isinstance(given, str) else list(given or ())
        if len(values) > 1 or any("," in value for value in values):
            return f"the URL names more than one host; the central database is one: {URL_FORM}"
        if name == "port" and values:
            return _port_problem(values[0])
    if not parsed.host and "host" not in parsed.query and not os.environ.get("PGHOST"):
        return f"the URL names no host: {URL_FORM} (a local socket: add ?host=/SOCKET/DIR)"
    return None


def masked(url: str | URL) -> str:
    """The URL as it may appear in messages and logs: never with its password."""
    if isinstance(url, str) and _url_problem(url):
        return "<unusable URL>"  # parse_url says what is wrong; its parts are not shown
    try:
        parsed = _password_in_place(make_url(url))
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
    if "sslpassword" in parsed.query:
        parsed = parsed.update_query_dict({"sslpassword": "***"})
    return parsed.render_as_string(hide_password=True)


def parse_url(url: str) -> URL:
    """The central database's URL, parsed; BadInput in one line, its password never shown."""
    problem = _url_problem(url)
    if problem:
        raise BadInput(problem)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise BadInput(f"not a database URL; use {URL_FORM}") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):  # libpq takes both
        raise BadInput(f"the central database must be PostgreSQL, not {parsed.drivername}")
    problem = _query_problem(parsed)
    if problem:
        raise BadInput(problem)
    if not parsed.database:
        raise BadInput(f"{masked(parsed)} names no database")
    if "sslpassword" in parsed.query:
        # It would be kept in the cache with the URL; secrets live in the keyring only.
        raise BadInput(
            "the URL carries sslpassword (a client key's passphrase), which would be stored "
            "with it: use a client key without a passphrase, readable only by you"
        )
    # psycopg 3 is the driver; query options such as sslmode pass through to libpq.
    return _password_in_place(parsed).set(drivername="postgresql+psycopg")


def keyring_account(url: URL, cache_key: str | None = None) -> str:
    """The keyring account of the password of the server login ``url`` names, in the cache
    with ``cache_key``; without one, the entry every cache of that login shared before."""
    server = f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database}"
    return server if cache_key is None else f"{server} cache {cache_key}"


def cache_key(db: Reader) -> str | None:
    """This cache's part of its password's keyring entry; None before its first login."""
    return db.meta(CACHE_KEY)


def keep_cache_key(tx: Writer, key: str) -> None:
    tx.set_meta(CACHE_KEY, key)


_process_cache_key: str | None = None


def use_cache_key(key: str | None) -> None:
    """The cache whose password a connection without its own ``cache_key`` uses: this
    process's cache (a command or the window works on one)."""
    global _process_cache_key  # noqa: PLW0603  (one cache per process)
    _process_cache_key = key


def store_password(url: str, key: str, password: str) -> None:
    """Keep the password for this cache only: other caches of the login keep theirs."""
    account = keyring_account(parse_url(url), key)
    secrets.set_secret(KEYRING_SERVICE, account, password, "store the central password")


def stored_password(url: URL, key: str | None) -> str | None:
    """The cache's own entry, else the shared one older versions stored; None when there is
    none (or no keyring at all: then libpq's PGPASSWORD may still sign in)."""
    accounts = [keyring_account(url, key)] if key else []
    for account in [*accounts, keyring_account(url)]:
        found = secrets.get_secret(
            KEYRING_SERVICE, account, "read the central password", no_keyring_is_none=True
        )
        if found is not None:
            return found
    return None


CONNECT_TIMEOUT_S = 10  # a silent network fails a sync in seconds, not after TCP's minutes
# A server that accepts and then stalls (a lock held elsewhere) ends the sync with an error
# instead of holding it, and the window that waits for it on close, indefinitely.
SYNC_STATEMENT_TIMEOUT_MS = 120_000


def connect(
    url: str,
    statement_timeout_ms: int | None = SYNC_STATEMENT_TIMEOUT_MS,
    *,
    keep_open: bool = False,
    cache_key: str | None = None,
) -> Engine:
    """An engine on the central database; the password comes from the keyring entry of the
    cache with ``cache_key`` (default: this process's cache), else libpq's PGPASSWORD, never
    from a file of ours. keep_open: a connection given back is kept for the next use (a sync
    round connects once), until the engine is disposed."""
    parsed = parse_url(url)
    options: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        options["connect_timeout"] = CONNECT_TIMEOUT_S
    if statement_timeout_ms is not None:
        options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    if parsed.password is None:
        secret = stored_password(parsed, cache_key or _process_cache_key)
        if secret is not None:
            parsed = parsed.set(password=secret)
    if keep_open:
        return create_engine(parsed, pool_size=1, max_overflow=1, connect_args=options)
    return create_engine(parsed, poolclass=NullPool, connect_args=options)


class CentralError(WorkbenchError):
    """The central database cannot be reached or refused what was asked."""


def unreachable(url: str | URL, exc: SQLAlchemyError) -> CentralError:
    """A one-line error naming the server without its password (libpq's text has none)."""
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()
    reason = detail[0] if detail else type(exc).__name__
    try:
        login = make_url(url).username or "this login"
    except ArgumentError:
        login = "this login"
    if "is not permitted to log in" in reason:
        reason = (
            f"{login} may not sign in (retired, or not enrolled); the work not yet sent "
            "stays in this cache"
        )
    elif "password authentication failed" in reason:
        reason = f"wrong password for {login} (or no such login); nothing was changed"
    return CentralError(f"central database {masked(url)}: {reason}")


def init_central(url: str) -> str:
    """Create or upgrade the central schema to the newest revision; safe to rerun."""
    from alembic.command import upgrade  # noqa: PLC0415  (only for `central init`)
    from alembic.config import Config  # noqa: PLC0415

    engine = connect(url, statement_timeout_ms=None)  # an upgrade may build large indexes
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            upgrade(config, "head")
            connection.commit()
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
            return str(version.scalar_one())
    except SQLAlchemyError as exc:
        raise unreachable(url, exc) from None
    finally:
        engine.dispose()
