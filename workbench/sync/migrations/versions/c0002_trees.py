"""Troubleshooting trees (reference data) and tree runs; children of a ticket by ticket.

Revision ID: c0002
Revises: c0001
"""

from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None

# Written out, like c0001: this revision stays what it is when central.py changes.
SCHEMA = (
    """CREATE TABLE trees (
        id VARCHAR NOT NULL,
        tree_version INTEGER NOT NULL,
        title VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        source TEXT NOT NULL,
        digest VARCHAR NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_trees_version ON trees (version)",
    """CREATE TABLE tree_runs (
        id VARCHAR NOT NULL,
        tree_id VARCHAR NOT NULL,
        tree_version INTEGER NOT NULL,
        tree_digest VARCHAR NOT NULL,
        ticket_id VARCHAR NOT NULL,
        technician VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        state TEXT NOT NULL,
        started_at TIMESTAMP WITH TIME ZONE NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_tree_runs_version ON tree_runs (version)",
    "CREATE INDEX ix_tree_runs_ticket ON tree_runs (ticket_id)",
    "CREATE INDEX ix_worklog_ticket ON worklog (ticket_id)",
)


def upgrade() -> None:
    for statement in SCHEMA:
        op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_worklog_ticket", "worklog")
    op.drop_table("tree_runs")
    op.drop_table("trees")
