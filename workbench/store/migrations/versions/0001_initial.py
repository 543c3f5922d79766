"""Initial local cache: reference data, tickets, worklog, outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from workbench.store.schema import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _version() -> sa.Column[int]:
    return sa.Column("version", sa.Integer, nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("address", sa.String, nullable=False, server_default=""),
        sa.Column("timezone", sa.String, nullable=False),
        _version(),
    )
    op.create_table(
        "technicians",
        sa.Column("login", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("sites", sa.Text, nullable=False, server_default="[]"),
        _version(),
    )
    op.create_table(
        "requesters",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False, server_default=""),
        sa.Column("phone", sa.String, nullable=False, server_default=""),
        sa.Column("department", sa.String, nullable=False, server_default=""),
        sa.Column("site_id", sa.String, sa.ForeignKey("sites.id"), nullable=True),
        _version(),
    )
    op.create_index("ix_requesters_name", "requesters", ["name"])
    op.create_index("ix_requesters_email", "requesters", ["email"])
    op.create_table(
        "assets",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tag", sa.String, nullable=False, unique=True),
        sa.Column("serial", sa.String, nullable=False, server_default=""),
        sa.Column("hostname", sa.String, nullable=False, server_default=""),
        sa.Column("model", sa.String, nullable=False, server_default=""),
        sa.Column("os", sa.String, nullable=False, server_default=""),
        sa.Column("site_id", sa.String, sa.ForeignKey("sites.id"), nullable=True),
        sa.Column("owner_id", sa.String, sa.ForeignKey("requesters.id"), nullable=True),
        sa.Column("purchase_date", sa.Date, nullable=True),
        sa.Column("warranty_end", sa.Date, nullable=True),
        sa.Column("status", sa.String, nullable=False, server_default="in_service"),
        sa.Column("protocol", sa.String, nullable=True),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("credential_profile", sa.String, nullable=True),
        _version(),
    )
    op.create_index("ix_assets_serial", "assets", ["serial"])
    op.create_index("ix_assets_hostname", "assets", ["hostname"])
    op.create_table(
        "tickets",
        sa.Column("local_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String, nullable=False, unique=True),
        sa.Column("number", sa.String, nullable=True, unique=True),
        sa.Column("provisional_ref", sa.String, nullable=True, unique=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("requester_id", sa.String, sa.ForeignKey("requesters.id"), nullable=True),
        sa.Column("asset_id", sa.String, sa.ForeignKey("assets.id"), nullable=True),
        sa.Column("site_id", sa.String, sa.ForeignKey("sites.id"), nullable=True),
        sa.Column("category", sa.String, nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("impact", sa.Integer, nullable=False),
        sa.Column("urgency", sa.Integer, nullable=False),
        sa.Column("priority", sa.String, nullable=False),
        sa.Column("priority_reason", sa.Text, nullable=True),
        sa.Column("queue", sa.String, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("assignee", sa.String, nullable=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("wait_reason", sa.String, nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("response_due", UtcDateTime, nullable=True),
        sa.Column("resolve_due", UtcDateTime, nullable=True),
        sa.Column("responded_at", UtcDateTime, nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("closed_at", UtcDateTime, nullable=True),
        sa.Column("sla_pauses", sa.Text, nullable=False, server_default="[]"),
        sa.Column("sla_due", UtcDateTime, nullable=True),
        _version(),
    )
    for name, columns in {
        "ix_tickets_status": ["status"],
        "ix_tickets_queue_status": ["queue", "status"],
        "ix_tickets_assignee_status": ["assignee", "status"],
        "ix_tickets_priority": ["priority"],
        "ix_tickets_sla_due": ["sla_due"],
        "ix_tickets_created_at": ["created_at"],
        "ix_tickets_requester": ["requester_id"],
        "ix_tickets_asset": ["asset_id"],
    }.items():
        op.create_index(name, "tickets", columns)
    op.create_table(
        "worklog",
        sa.Column("local_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String, nullable=False, unique=True),
        sa.Column("ticket_id", sa.String, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("author", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UtcDateTime, nullable=False),
        _version(),
    )
    op.create_index("ix_worklog_ticket", "worklog", ["ticket_id", "created_at"])
    op.create_table(
        "outbox",
        sa.Column("mutation_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("client_id", sa.String, nullable=False),
        sa.Column("entity", sa.String, nullable=False),
        sa.Column("entity_id", sa.String, nullable=False),
        sa.Column("op", sa.String, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("base_version", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_outbox_entity", "outbox", ["entity", "entity_id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "worklog",
        "tickets",
        "assets",
        "requesters",
        "technicians",
        "sites",
        "meta",
    ):
        op.drop_table(table)
