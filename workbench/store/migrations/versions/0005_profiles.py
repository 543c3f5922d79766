"""Credential profiles and the asset-to-profile links (local only, no secrets).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_profiles",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("protocol", sa.String, nullable=False),
        sa.Column("user", sa.String, nullable=False),
        sa.Column("auth", sa.String, nullable=False),
        sa.Column("port", sa.Integer, nullable=True),
        sa.Column("key_path", sa.String, nullable=True),
        sa.Column("jump", sa.String, nullable=True),
        sa.Column("https", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("ca_file", sa.String, nullable=True),
        sa.Column("has_secret", sa.Boolean, nullable=False, server_default="0"),
    )
    op.create_table(
        "asset_profiles",
        sa.Column("asset_id", sa.String, sa.ForeignKey("assets.id"), primary_key=True),
        sa.Column("profile", sa.String, sa.ForeignKey("credential_profiles.name"), nullable=False),
    )
    op.create_index("ix_asset_profiles_profile", "asset_profiles", ["profile"])


def downgrade() -> None:
    op.drop_table("asset_profiles")
    op.drop_table("credential_profiles")
