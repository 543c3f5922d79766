"""Remote-action recipes stored in the cache (imported or synced), like trees.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from workbench.store.schema import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipes",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("protocol", sa.String, nullable=False),
        sa.Column("shell", sa.String, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("recipes")
