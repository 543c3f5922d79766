"""Tables of the local SQLite cache (the FTS5 index is created by migration 0002)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; stored as sortable UTC text."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, _dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", Text, nullable=False),
)

sites = Table(
    "sites",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("address", String, nullable=False, server_default=""),
    Column("timezone", String, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
)

technicians = Table(
    "technicians",
    metadata,
    Column("login", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("role", String, nullable=False),
    Column("sites", Text, nullable=False, server_default="[]"),
    Column("version", Integer, nullable=False, server_default="0"),
    # Migration 0008. Integers, not booleans: the central mirror keeps the cache's types.
    Column("email", String, nullable=False, server_default=""),
    Column("active", Integer, nullable=False, server_default="1"),
)

requesters = Table(
    "requesters",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("email", String, nullable=False, server_default=""),
    Column("phone", String, nullable=False, server_default=""),
    Column("department", String, nullable=False, server_default=""),
    Column("site_id", String, ForeignKey("sites.id"), nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("active", Integer, nullable=False, server_default="1"),  # migration 0008
    Index("ix_requesters_name", "name"),
    Index("ix_requesters_email", "email"),
)

assets = Table(
    "assets",
    metadata,
    Column("id", String, primary_key=True),
    # Not unique: the central database allows a tag twice (a relabel swapping two tags).
    Column("tag", String, nullable=False),
    Column("serial", String, nullable=False, server_default=""),
    Column("hostname", String, nullable=False, server_default=""),
    Column("model", String, nullable=False, server_default=""),
    Column("os", String, nullable=False, server_default=""),
    Column("site_id", String, ForeignKey("sites.id"), nullable=True),
    Column("owner_id", String, ForeignKey("requesters.id"), nullable=True),
    Column("purchase_date", Date, nullable=True),
    Column("warranty_end", Date, nullable=True),
    Column("status", String, nullable=False, server_default="in_service"),
    Column("protocol", String, nullable=True),
    Column("port", Integer, nullable=True),
    Column("credential_profile", String, nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_assets_tag", "tag"),
    Index("ix_assets_serial", "serial"),
    Index("ix_assets_hostname", "hostname"),
)

tickets = Table(
    "tickets",
    metadata,
    # An integer key of our own: the FTS index uses it as rowid, and VACUUM may renumber
    # implicit rowids.
    Column("local_id", Integer, primary_key=True, autoincrement=True),
    Column("id", String, nullable=False, unique=True),
    # Not unique (migration 0007): the central database does not enforce it, and a pull must
    # take what the central holds.
    Column("number", String, nullable=True),
    Column("provisional_ref", String, nullable=True),
    Column("title", String, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("requester_id", String, ForeignKey("requesters.id"), nullable=True),
    Column("asset_id", String, ForeignKey("assets.id"), nullable=True),
    Column("site_id", String, ForeignKey("sites.id"), nullable=True),
    Column("category", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("impact", Integer, nullable=False),
    Column("urgency", Integer, nullable=False),
    Column("priority", String, nullable=False),
    Column("priority_reason", Text, nullable=True),
    Column("queue", String, nullable=False),
    Column("tier", Integer, nullable=False),
    Column("assignee", String, nullable=True),
    Column("status", String, nullable=False),
    Column("wait_reason", String, nullable=True),
    Column("resolution", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("response_due", UtcDateTime, nullable=True),
    Column("resolve_due", UtcDateTime, nullable=True),
    Column("responded_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("sla_pauses", Text, nullable=False, server_default="[]"),
    # The next deadline while the clock runs (NULL when paused or done): sorts and filters
    # "breaching" through an index.
    Column("sla_due", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_tickets_status", "status"),
    Index("ix_tickets_queue_status", "queue", "status"),
    Index("ix_tickets_assignee_status", "assignee", "status"),
    Index("ix_tickets_priority", "priority"),
    Index("ix_tickets_sla_due", "sla_due"),
    Index("ix_tickets_created_at", "created_at"),
    Index("ix_tickets_requester", "requester_id"),
    Index("ix_tickets_asset", "asset_id"),
    Index("ix_tickets_number", "number"),
    Index("ix_tickets_provisional_ref", "provisional_ref"),
)

worklog = Table(
    "worklog",
    metadata,
    Column("local_id", Integer, primary_key=True, autoincrement=True),
    Column("id", String, nullable=False, unique=True),
    Column("ticket_id", String, ForeignKey("tickets.id"), nullable=False),
    Column("kind", String, nullable=False),
    Column("author", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("minutes", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_worklog_ticket", "ticket_id", "created_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("mutation_id", Integer, primary_key=True, autoincrement=False),
    Column("client_id", String, nullable=False),
    Column("entity", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("op", String, nullable=False),
    Column("fields", Text, nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_outbox_entity", "entity", "entity_id"),
)

# Added by migration 0002: references a ticket had before (provisional ones, merged numbers).
ticket_aliases = Table(
    "ticket_aliases",
    metadata,
    Column("ref", String, primary_key=True),
    Column("ticket_id", String, ForeignKey("tickets.id"), nullable=False),
    Index("ix_ticket_aliases_ticket", "ticket_id"),
)


# Added by migration 0003: conflicts the central database recorded, as pulled (DESIGN.md §5).
conflicts = Table(
    "conflicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # the central id
    Column("entity", String, nullable=False),
    Column("entity_id", String, nullable=False),
    Column("field", String, nullable=False),
    Column("their_value", Text, nullable=False),
    Column("their_author", String, nullable=False),
    Column("mine_value", Text, nullable=False),
    Column("my_author", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolution", String, nullable=True),
    Column("resolved_by", String, nullable=True),
    Column("version", Integer, nullable=False, server_default="0"),
)


def include_in_autogenerate(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic compares only these tables: the FTS5 index and its shadow tables are raw SQL."""
    return not (type_ == "table" and (name or "").startswith("ticket_fts"))


# Added by migration 0004: troubleshooting trees (reference data) and the runs of them.
trees = Table(
    "trees",
    metadata,
    Column("id", String, primary_key=True),
    Column("tree_version", Integer, nullable=False),  # the `version:` the tree's author set
    Column("title", String, nullable=False),
    Column("category", String, nullable=False, server_default=""),
    Column("source", Text, nullable=False),  # the YAML as written: trees stay plain text
    Column("digest", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    # Migration 0008: the lead who approved it (set by the central from who pushed it).
    Column("approved_by", String, nullable=True),
    Index("ix_trees_category", "category"),
)

tree_runs = Table(
    "tree_runs",
    metadata,
    Column("id", String, primary_key=True),
    Column("tree_id", String, nullable=False),
    Column("tree_version", Integer, nullable=False),
    Column("tree_digest", String, nullable=False),
    Column("ticket_id", String, ForeignKey("tickets.id"), nullable=False),
    Column("technician", String, nullable=False),
    Column("status", String, nullable=False),  # open | applied | abandoned
    Column("state", Text, nullable=False),  # the runner's state as JSON
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_tree_runs_ticket", "ticket_id", "status"),
)


# Added by migration 0005: this technician's credential profiles and which asset uses which.
# Local only (never in the outbox); secrets live in the OS keyring, never here.
credential_profiles = Table(
    "credential_profiles",
    metadata,
    Column("name", String, primary_key=True),
    Column("protocol", String, nullable=False),
    Column("user", String, nullable=False),
    Column("auth", String, nullable=False),
    Column("port", Integer, nullable=True),
    Column("key_path", String, nullable=True),
    Column("jump", String, nullable=True),
    Column("https", Boolean, nullable=False, server_default="1"),
    Column("ca_file", String, nullable=True),
    Column("has_secret", Boolean, nullable=False, server_default="0"),
)

asset_profiles = Table(
    "asset_profiles",
    metadata,
    Column("asset_id", String, ForeignKey("assets.id"), primary_key=True),
    Column("profile", String, ForeignKey("credential_profiles.name"), nullable=False),
    Index("ix_asset_profiles_profile", "profile"),
)


# Added by migration 0006: remote-action recipes imported into the cache or synced (reference
# data, like trees). Columns besides the YAML are for listing; the YAML is what runs.
recipes = Table(
    "recipes",
    metadata,
    Column("id", String, primary_key=True),
    Column("title", String, nullable=False),
    Column("protocol", String, nullable=False),
    Column("shell", String, nullable=False),
    Column("source", Text, nullable=False),  # the YAML as written, validated again when read
    Column("digest", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
    # Migration 0008: the lead who approved it; a connected cache runs only approved ones.
    Column("approved_by", String, nullable=True),
)

# Added by migration 0008: the help desk's SLA policy as the central holds it (one row,
# id "sla"), pulled like reference data; without it the shipped resources/sla.yaml rules.
policies = Table(
    "policies",
    metadata,
    Column("id", String, primary_key=True),
    Column("policy_version", Integer, nullable=False),  # 1, 2, … per `central policy set`
    Column("source", Text, nullable=False),  # the YAML as set, validated again when read
    Column("digest", String, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False, server_default="0"),
)
