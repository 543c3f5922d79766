"""No uniqueness the central database does not enforce: asset tags, ticket numbers and
provisional refs get plain indexes. A relabel that swaps two tags centrally, or two tickets
sharing a provisional ref, made every later pull fail on the cache's UNIQUE constraints.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Revision 0001 left these UNIQUE constraints unnamed: reflection names them by this rule so
# the batch (SQLite alters a table by copying it) can drop them.
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
NOT_UNIQUE = {"assets": ("tag",), "tickets": ("number", "provisional_ref")}


def upgrade() -> None:
    for table, columns in NOT_UNIQUE.items():
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            for column in columns:
                batch.drop_constraint(f"uq_{table}_{column}", type_="unique")
                batch.create_index(f"ix_{table}_{column}", [column])


def downgrade() -> None:
    for table, columns in NOT_UNIQUE.items():
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            for column in columns:
                batch.drop_index(f"ix_{table}_{column}")
                batch.create_unique_constraint(f"uq_{table}_{column}", [column])
