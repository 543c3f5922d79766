"""Central tables, the ticket number sequence and the sync tables.

Revision ID: c0001
Revises:
"""

from alembic import op

revision = "c0001"
down_revision = None
branch_labels = None
depends_on = None

# Written out, not metadata.create_all(): this revision must stay what it was when the
# tables in workbench/sync/central.py change (those changes come as later revisions).
SCHEMA = (
    "CREATE SEQUENCE ticket_numbers START WITH 1",
    """CREATE TABLE assets (
        id VARCHAR NOT NULL,
        tag VARCHAR NOT NULL,
        serial VARCHAR NOT NULL,
        hostname VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        os VARCHAR NOT NULL,
        site_id VARCHAR,
        owner_id VARCHAR,
        purchase_date DATE,
        warranty_end DATE,
        status VARCHAR NOT NULL,
        protocol VARCHAR,
        port INTEGER,
        credential_profile VARCHAR,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_assets_version ON assets (version)",
    """CREATE TABLE conflicts (
        id BIGSERIAL NOT NULL,
        entity VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        their_value TEXT NOT NULL,
        their_author VARCHAR NOT NULL,
        mine_value TEXT NOT NULL,
        my_author VARCHAR NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        resolution VARCHAR,
        resolved_by VARCHAR,
        version BIGINT NOT NULL,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_conflicts_version ON conflicts (version)",
    """CREATE TABLE field_changes (
        entity VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        version BIGINT NOT NULL,
        author VARCHAR NOT NULL,
        client_id VARCHAR NOT NULL,
        PRIMARY KEY (entity, entity_id, field)
    )""",
    """CREATE TABLE mutation_log (
        client_id VARCHAR NOT NULL,
        mutation_id BIGINT NOT NULL,
        content_hash VARCHAR NOT NULL,
        technician VARCHAR NOT NULL,
        applied_at TIMESTAMP WITH TIME ZONE NOT NULL,
        PRIMARY KEY (client_id, mutation_id)
    )""",
    """CREATE TABLE requesters (
        id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        email VARCHAR NOT NULL,
        phone VARCHAR NOT NULL,
        department VARCHAR NOT NULL,
        site_id VARCHAR,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_requesters_version ON requesters (version)",
    """CREATE TABLE sites (
        id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        address VARCHAR NOT NULL,
        timezone VARCHAR NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_sites_version ON sites (version)",
    """CREATE TABLE sync_clock (
        id SERIAL NOT NULL,
        clock BIGINT NOT NULL,
        PRIMARY KEY (id)
    )""",
    """CREATE TABLE technicians (
        login VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        tier INTEGER NOT NULL,
        role VARCHAR NOT NULL,
        sites TEXT NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (login)
    )""",
    "CREATE INDEX ix_technicians_version ON technicians (version)",
    """CREATE TABLE tickets (
        id VARCHAR NOT NULL,
        number VARCHAR,
        provisional_ref VARCHAR,
        title VARCHAR NOT NULL,
        description TEXT NOT NULL,
        requester_id VARCHAR,
        asset_id VARCHAR,
        site_id VARCHAR,
        category VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        impact INTEGER NOT NULL,
        urgency INTEGER NOT NULL,
        priority VARCHAR NOT NULL,
        priority_reason TEXT,
        queue VARCHAR NOT NULL,
        tier INTEGER NOT NULL,
        assignee VARCHAR,
        status VARCHAR NOT NULL,
        wait_reason VARCHAR,
        resolution TEXT,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        response_due TIMESTAMP WITH TIME ZONE,
        resolve_due TIMESTAMP WITH TIME ZONE,
        responded_at TIMESTAMP WITH TIME ZONE,
        resolved_at TIMESTAMP WITH TIME ZONE,
        closed_at TIMESTAMP WITH TIME ZONE,
        sla_pauses TEXT NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_tickets_version ON tickets (version)",
    """CREATE TABLE tombstones (
        entity VARCHAR NOT NULL,
        entity_id VARCHAR NOT NULL,
        version BIGINT NOT NULL,
        PRIMARY KEY (entity, entity_id)
    )""",
    "CREATE INDEX ix_tombstones_version ON tombstones (version)",
    """CREATE TABLE worklog (
        id VARCHAR NOT NULL,
        ticket_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        author VARCHAR NOT NULL,
        text TEXT NOT NULL,
        minutes INTEGER NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_worklog_version ON worklog (version)",
)
TABLES = (
    "worklog",
    "tombstones",
    "tickets",
    "technicians",
    "sync_clock",
    "sites",
    "requesters",
    "mutation_log",
    "field_changes",
    "conflicts",
    "assets",
)


def upgrade() -> None:
    for statement in SCHEMA:
        op.execute(statement)
    op.execute("INSERT INTO sync_clock (id, clock) VALUES (1, 0)")


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    op.execute("DROP SEQUENCE ticket_numbers")
