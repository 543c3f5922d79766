"""Remote-action recipes (reference data, synced like trees).

Revision ID: c0003
Revises: c0002
"""

from alembic import op

revision = "c0003"
down_revision = "c0002"
branch_labels = None
depends_on = None

# Written out, like c0001 and c0002: this revision stays what it is when central.py changes.
SCHEMA = (
    """CREATE TABLE recipes (
        id VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        protocol VARCHAR NOT NULL,
        shell VARCHAR NOT NULL,
        source TEXT NOT NULL,
        digest VARCHAR NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_recipes_version ON recipes (version)",
)


def upgrade() -> None:
    for statement in SCHEMA:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("recipes")
