"""What standing up a help desk adds to the cache (DESIGN.md §11): technicians' e-mail and
whether they are active, requesters no longer in the directory, who approved a recipe or a
tree, and the help desk's central SLA policy.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from workbench.store.schema import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("technicians") as batch:
        batch.add_column(sa.Column("email", sa.String, nullable=False, server_default=""))
        batch.add_column(sa.Column("active", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("requesters") as batch:
        batch.add_column(sa.Column("active", sa.Integer, nullable=False, server_default="1"))
    for table in ("recipes", "trees"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("approved_by", sa.String, nullable=True))
    op.create_table(
        "policies",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("policy_version", sa.Integer, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("digest", sa.String, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("policies")
    for table in ("recipes", "trees"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("approved_by")
    with op.batch_alter_table("requesters") as batch:
        batch.drop_column("active")
    with op.batch_alter_table("technicians") as batch:
        batch.drop_column("active")
        batch.drop_column("email")
