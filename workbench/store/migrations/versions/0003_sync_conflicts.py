"""Conflicts pulled from the central database.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from workbench.store.schema import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("entity", sa.String, nullable=False),
        sa.Column("entity_id", sa.String, nullable=False),
        sa.Column("field", sa.String, nullable=False),
        sa.Column("their_value", sa.Text, nullable=False),
        sa.Column("their_author", sa.String, nullable=False),
        sa.Column("mine_value", sa.Text, nullable=False),
        sa.Column("my_author", sa.String, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("resolution", sa.String, nullable=True),
        sa.Column("resolved_by", sa.String, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("conflicts")
