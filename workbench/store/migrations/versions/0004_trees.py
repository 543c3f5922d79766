"""Troubleshooting trees and tree runs.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from workbench.store.schema import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trees",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tree_version", sa.Integer, nullable=False),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("category", sa.String, nullable=False, server_default=""),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_trees_category", "trees", ["category"])
    op.create_table(
        "tree_runs",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("tree_id", sa.String, nullable=False),
        sa.Column("tree_version", sa.Integer, nullable=False),
        sa.Column("tree_digest", sa.String, nullable=False),
        sa.Column("ticket_id", sa.String, sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("technician", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_tree_runs_ticket", "tree_runs", ["ticket_id", "status"])


def downgrade() -> None:
    op.drop_table("tree_runs")
    op.drop_table("trees")
