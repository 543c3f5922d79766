"""Full-text search over tickets, ticket aliases, append-only worklog.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_aliases",
        sa.Column("ref", sa.String, primary_key=True),
        sa.Column("ticket_id", sa.String, sa.ForeignKey("tickets.id"), nullable=False),
    )
    op.create_index("ix_ticket_aliases_ticket", "ticket_aliases", ["ticket_id"])
    # rowid = tickets.local_id. Prefix indexes keep as-you-type prefix queries fast.
    op.execute(
        "CREATE VIRTUAL TABLE ticket_fts USING fts5("
        "refs, title, description, people, asset, worklog, "
        "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
    )
    # The worklog is a record of what happened: it is appended to, never rewritten.
    op.execute(
        "CREATE TRIGGER worklog_append_only BEFORE UPDATE ON worklog "
        "BEGIN SELECT RAISE(ABORT, 'the worklog is append-only'); END"
    )
    # Index what revision 0001 stored; the store keeps the index current from now on.
    # (Written out here so this migration stays what it was when the store's query changes.)
    op.execute("""
        INSERT INTO ticket_fts (rowid, refs, title, description, people, asset, worklog)
        SELECT t.local_id, coalesce(t.number, '') || ' ' || coalesce(ltrim(substr(t.number, 4), '0'), '') || ' ' ||
         coalesce(t.provisional_ref, ''),
               t.title, t.description,
               coalesce(r.name, '') || ' ' || coalesce(r.email, '') || ' ' ||
                 coalesce(r.department, '') || ' ' || coalesce(t.assignee, ''),
               coalesce(s.tag, '') || ' ' || coalesce(s.serial, '') || ' ' ||
                 coalesce(s.hostname, '') || ' ' || coalesce(s.model, ''),
               coalesce((SELECT group_concat(w.text, ' ') FROM worklog w
                         WHERE w.ticket_id = t.id), '')
        FROM tickets t
        LEFT JOIN requesters r ON r.id = t.requester_id
        LEFT JOIN assets s ON s.id = t.asset_id
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER worklog_append_only")
    op.execute("DROP TABLE ticket_fts")
    op.drop_table("ticket_aliases")
