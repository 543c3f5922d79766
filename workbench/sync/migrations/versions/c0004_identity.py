"""Each technician's own identity and the permissions of their role (DESIGN.md §11).

Technicians sign in with their own PostgreSQL login role, a member of this database's group
role `<database>_technician`. The group may read the synced tables and write only through
row-level security policies that name the technician from `session_user` (`wb_technician()`)
and the rule of their role (`wb_refusal(table)`: NULL when allowed, else the rule in words,
which the push also turns into a conflict the author sees). Logins are made and retired
only through SECURITY DEFINER functions that check the caller is an admin (or the owner).
The audit table takes inserts and refuses every update, delete and truncate, whoever asks.
The owner of the schema (who runs `central init`) bypasses row-level security: it is the
administrators' account, never a laptop's.

Revision ID: c0004
Revises: c0003
"""

from alembic import op

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None

# Written out, like c0001-c0003: this revision stays what it is when central.py changes.
TABLES = (
    "ALTER TABLE technicians ADD COLUMN email VARCHAR NOT NULL DEFAULT ''",
    "ALTER TABLE technicians ADD COLUMN active INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE requesters ADD COLUMN active INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE recipes ADD COLUMN approved_by VARCHAR",
    "ALTER TABLE trees ADD COLUMN approved_by VARCHAR",
    "CREATE INDEX ix_requesters_email ON requesters (lower(email))",
    "CREATE INDEX ix_assets_tag ON assets (tag)",
    "CREATE INDEX ix_assets_serial ON assets (serial)",
    """CREATE TABLE policies (
        id VARCHAR NOT NULL,
        policy_version INTEGER NOT NULL,
        source TEXT NOT NULL,
        digest VARCHAR NOT NULL,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        version BIGINT NOT NULL,
        changed_by VARCHAR,
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_policies_version ON policies (version)",
    """CREATE TABLE policy_history (
        id VARCHAR NOT NULL,
        policy_version INTEGER NOT NULL,
        source TEXT NOT NULL,
        digest VARCHAR NOT NULL,
        set_by VARCHAR NOT NULL,
        set_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        PRIMARY KEY (id, policy_version)
    )""",
    """CREATE TABLE audit_events (
        id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        technician VARCHAR NOT NULL,
        at TIMESTAMP WITH TIME ZONE NOT NULL,
        recorded_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        host VARCHAR,
        port INTEGER,
        recipe_id VARCHAR,
        params TEXT,
        outcome VARCHAR,
        exit_code INTEGER,
        ticket_id VARCHAR,
        ticket_ref VARCHAR,
        detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (id)
    )""",
    "CREATE INDEX ix_audit_events_at ON audit_events (at)",
    "CREATE INDEX ix_audit_events_host ON audit_events (host)",
    "CREATE INDEX ix_audit_events_technician ON audit_events (technician)",
    """CREATE TABLE client_ids (
        client_id VARCHAR NOT NULL,
        technician VARCHAR NOT NULL,
        PRIMARY KEY (client_id)
    )""",
    """INSERT INTO client_ids SELECT DISTINCT ON (client_id) client_id, technician
        FROM mutation_log ORDER BY client_id, mutation_id""",
)

FUNCTIONS = (
    # Who signs in: the active technician whose login is the connection's role, else NULL.
    """CREATE FUNCTION wb_technician() RETURNS varchar LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = {path} AS
        $$ SELECT login FROM technicians WHERE login = session_user::text AND active = 1 $$""",
    """CREATE FUNCTION wb_role() RETURNS varchar LANGUAGE sql STABLE SECURITY DEFINER
        SET search_path = {path} AS
        $$ SELECT role FROM technicians WHERE login = session_user::text AND active = 1 $$""",
    # The one statement of who may write what: NULL when the signed-in technician may write
    # the table, else the rule in the words the author's conflict shows.
    """CREATE FUNCTION wb_refusal(target text) RETURNS text LANGUAGE sql STABLE
        SET search_path = {path} AS $$
        SELECT CASE
            WHEN wb_role() IS NULL THEN
                'only an active technician of this help desk may change anything'
            WHEN target IN ('tickets', 'worklog', 'tree_runs', 'requesters', 'audit_events')
                THEN NULL
            WHEN target = 'assets' THEN CASE WHEN wb_role() IN ('field', 'lead', 'admin')
                THEN NULL ELSE 'only a field technician or a lead may change assets' END
            WHEN target IN ('trees', 'recipes', 'policies') THEN
                CASE WHEN wb_role() IN ('lead', 'admin') THEN NULL
                ELSE 'only a lead may change ' || CASE target
                    WHEN 'trees' THEN 'troubleshooting trees'
                    WHEN 'recipes' THEN 'recipes'
                    ELSE 'the help desk policy' END END
            WHEN target IN ('sites', 'technicians', 'policy_history') THEN
                CASE WHEN wb_role() = 'admin' OR (target = 'policy_history'
                    AND wb_role() = 'lead') THEN NULL
                ELSE 'only an admin may change ' || target END
            ELSE 'no technician may change ' || target
        END $$""",
    # Conflicts: a technician settles their own; a lead settles anyone's.
    """CREATE FUNCTION wb_may_settle(mine varchar, theirs varchar) RETURNS boolean
        LANGUAGE sql STABLE SET search_path = {path} AS
        $$ SELECT wb_technician() IN (mine, theirs) OR wb_role() IN ('lead', 'admin') $$""",
    # Enrol (or re-enrol) a technician's login role: only an admin or the owner. `verifier`
    # is a SCRAM-SHA-256 verifier made on the admin's computer (the password never travels)
    # or NULL to sign in by certificate or Kerberos only (libpq's own options).
    """CREATE FUNCTION wb_enrol_login(login text, verifier text, adopt boolean)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
        DECLARE
            grp text := current_database() || '_technician';
            existing pg_roles%ROWTYPE;
        BEGIN
            IF wb_role() IS DISTINCT FROM 'admin'
                    AND NOT pg_has_role(session_user, current_user, 'MEMBER') THEN
                RAISE EXCEPTION 'only an admin may manage technicians' USING ERRCODE = '42501';
            END IF;
            SELECT * INTO existing FROM pg_roles WHERE rolname = login;
            IF FOUND AND (existing.rolsuper OR existing.rolcreaterole OR existing.rolcreatedb
                    OR existing.rolreplication OR existing.rolbypassrls) THEN
                RAISE EXCEPTION 'the database role % has administrative rights: enrol the '
                    'technician under another login', login USING ERRCODE = '42501';
            END IF;
            IF FOUND AND NOT pg_has_role(login, grp, 'MEMBER') AND NOT adopt THEN
                RAISE EXCEPTION 'a database role % exists already (another database or '
                    'application): only the database owner may take it over', login
                    USING ERRCODE = '42710';
            END IF;
            IF NOT FOUND THEN
                EXECUTE format('CREATE ROLE %I LOGIN', login);
            END IF;
            IF verifier IS NULL THEN
                EXECUTE format('ALTER ROLE %I LOGIN', login);
            ELSE
                EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', login, verifier);
            END IF;
            EXECUTE format('GRANT %I TO %I', grp, login);
        END $$""",
    # Retire (NOLOGIN) or allow again a technician's login role.
    """CREATE FUNCTION wb_allow_login(login text, allowed boolean)
        RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$
        BEGIN
            IF wb_role() IS DISTINCT FROM 'admin'
                    AND NOT pg_has_role(session_user, current_user, 'MEMBER') THEN
                RAISE EXCEPTION 'only an admin may manage technicians' USING ERRCODE = '42501';
            END IF;
            IF NOT pg_has_role(login, current_database() || '_technician', 'MEMBER') THEN
                RAISE EXCEPTION '% is not a technician login of this database', login
                    USING ERRCODE = '42704';
            END IF;
            EXECUTE format('ALTER ROLE %I %s', login,
                CASE WHEN allowed THEN 'LOGIN' ELSE 'NOLOGIN' END);
        END $$""",
    """CREATE FUNCTION wb_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: its rows are never changed or removed',
                TG_TABLE_NAME USING ERRCODE = '42501';
        END $$""",
    # A technician's connection may move the sync clock forward only.
    """CREATE FUNCTION wb_clock_forward() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.clock < OLD.clock OR NEW.id <> OLD.id THEN
                RAISE EXCEPTION 'the sync clock only moves forward' USING ERRCODE = '42501';
            END IF;
            -- A push moves it by about two per operation; a leap would run it out.
            IF NEW.clock - OLD.clock > 100000 AND wb_role() IS DISTINCT FROM 'admin' THEN
                IF NOT pg_has_role(session_user, (SELECT relowner FROM pg_class
                        WHERE oid = TG_RELID), 'MEMBER') THEN
                    RAISE EXCEPTION 'the sync clock moves by %, more than a push does',
                        NEW.clock - OLD.clock USING ERRCODE = '42501';
                END IF;
            END IF;
            RETURN NEW;
        END $$""",
    # A row a technician writes is ahead of the clock (its version is the clock's next):
    # one behind it would never reach caches whose cursor passed that version.
    """CREATE FUNCTION wb_version_ahead() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE behind bigint;
        BEGIN
            SELECT min(version) INTO behind FROM written
                WHERE version <= (SELECT clock FROM sync_clock WHERE id = 1);
            IF behind IS NOT NULL AND NOT pg_has_role(session_user, (SELECT relowner
                    FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
                RAISE EXCEPTION '% row at version % is behind the sync clock: no cache '
                    'would pull it', TG_TABLE_NAME, behind USING ERRCODE = '42501';
            END IF;
            RETURN NULL;
        END $$""",
)

TRIGGERS = (
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION wb_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION wb_append_only()""",
    """CREATE TRIGGER policy_history_append_only BEFORE UPDATE OR DELETE ON policy_history
        FOR EACH ROW EXECUTE FUNCTION wb_append_only()""",
    """CREATE TRIGGER sync_clock_forward BEFORE UPDATE ON sync_clock
        FOR EACH ROW EXECUTE FUNCTION wb_clock_forward()""",
)


def _version_triggers() -> list[str]:
    """Per statement, over the rows it wrote (a batch's hundreds at once, not row by row)."""
    return [
        f"CREATE TRIGGER {table}_{event.lower()}_version_ahead AFTER {event} ON {table} "
        "REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION wb_version_ahead()"
        for table in (*SYNCED, "conflicts")
        for event in ("INSERT", "UPDATE")
    ]


# Policies call the functions inside scalar subqueries: PostgreSQL then evaluates them once
# per statement (an InitPlan), not once per row of a 500-row batch.
# Rows a technician writes carry their own name: in `changed_by` (every synced table) and
# where the row says who did the work.
_AUTHORED = {"worklog": "author", "tree_runs": "technician"}
_APPROVED = ("trees", "recipes")
SYNCED = (
    "sites", "technicians", "requesters", "assets", "recipes", "trees", "policies",
    "tickets", "worklog", "tree_runs",
)  # fmt: skip


def _synced_policies(table: str) -> list[str]:
    may = f"(SELECT wb_refusal('{table}')) IS NULL AND changed_by = (SELECT wb_technician())"
    if table in _AUTHORED:
        may += f" AND {_AUTHORED[table]} = (SELECT wb_technician())"
    if table in _APPROVED:
        may += " AND approved_by = (SELECT wb_technician())"
    statements = [
        f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)",
        f"CREATE POLICY {table}_insert ON {table} FOR INSERT WITH CHECK ({may})",
    ]
    if table != "worklog":  # append-only: a note is never rewritten
        statements.append(
            f"CREATE POLICY {table}_update ON {table} FOR UPDATE "
            f"USING ((SELECT wb_refusal('{table}')) IS NULL) WITH CHECK ({may})"
        )
    return statements


def _policies() -> list[str]:
    statements = [
        f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"
        for t in (
            *SYNCED, "conflicts", "mutation_log", "field_changes", "audit_events",
            "policy_history", "client_ids",
        )
    ]  # fmt: skip
    for table in SYNCED:
        statements.extend(_synced_policies(table))
    statements += [
        "CREATE POLICY conflicts_read ON conflicts FOR SELECT USING (true)",
        "CREATE POLICY conflicts_insert ON conflicts FOR INSERT "
        "WITH CHECK (my_author = (SELECT wb_technician()))",
        "CREATE POLICY conflicts_settle ON conflicts FOR UPDATE "
        "USING (wb_may_settle(my_author, their_author)) "
        "WITH CHECK (resolved_by IS NULL OR resolved_by = (SELECT wb_technician()) "
        "OR (SELECT wb_role()) IN ('lead', 'admin'))",
        "CREATE POLICY mutation_log_read ON mutation_log FOR SELECT USING (true)",
        # A client id is one technician's (claimed by its first push): log rows under
        # another's would make that laptop believe it was restored from a backup.
        "CREATE POLICY client_ids_read ON client_ids FOR SELECT USING (true)",
        "CREATE POLICY client_ids_claim ON client_ids FOR INSERT "
        "WITH CHECK (technician = (SELECT wb_technician()))",
        "CREATE POLICY mutation_log_insert ON mutation_log FOR INSERT "
        "WITH CHECK (technician = (SELECT wb_technician()) AND EXISTS ("
        "SELECT 1 FROM client_ids c WHERE c.client_id = mutation_log.client_id "
        "AND c.technician = (SELECT wb_technician())))",
        "CREATE POLICY field_changes_read ON field_changes FOR SELECT USING (true)",
        "CREATE POLICY field_changes_insert ON field_changes FOR INSERT "
        "WITH CHECK (author = (SELECT wb_technician()))",
        "CREATE POLICY field_changes_update ON field_changes FOR UPDATE "
        "USING ((SELECT wb_technician()) IS NOT NULL) "
        "WITH CHECK (author = (SELECT wb_technician()))",
        # Leads read the whole audit; everyone reads their own.
        "CREATE POLICY audit_events_read ON audit_events FOR SELECT "
        "USING (technician = (SELECT wb_technician()) "
        "OR (SELECT wb_role()) IN ('lead', 'admin'))",
        "CREATE POLICY audit_events_insert ON audit_events FOR INSERT "
        "WITH CHECK (technician = (SELECT wb_technician()))",
        "CREATE POLICY policy_history_read ON policy_history FOR SELECT USING (true)",
        "CREATE POLICY policy_history_insert ON policy_history FOR INSERT "
        "WITH CHECK ((SELECT wb_refusal('policy_history')) IS NULL "
        "AND set_by = (SELECT wb_technician()))",
    ]
    return statements


_WRITABLE = (*SYNCED, "conflicts", "field_changes")
# The group role is the database's own (roles are the cluster's): its name follows it.
GRANTS = f"""DO $$
DECLARE grp text := current_database() || '_technician';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = grp) THEN
        EXECUTE format('CREATE ROLE %I NOLOGIN', grp);
    END IF;
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    -- No TEMPORARY: a temporary table must never shadow a table the functions read.
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), grp);
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', current_schema(), grp);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', current_schema(), grp);
    EXECUTE format('GRANT INSERT, UPDATE ON {", ".join(_WRITABLE)} TO %I', grp);
    EXECUTE format('GRANT INSERT ON mutation_log, audit_events, policy_history, client_ids '
        'TO %I', grp);
    EXECUTE format('GRANT UPDATE ON sync_clock TO %I', grp);
    EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %I', current_schema(), grp);
    EXECUTE format('REVOKE ALL ON FUNCTION wb_enrol_login, wb_allow_login FROM PUBLIC');
    EXECUTE format('GRANT EXECUTE ON FUNCTION wb_enrol_login, wb_allow_login TO %I', grp);
END $$"""


def upgrade() -> None:
    bind = op.get_bind()
    schema = bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    # Functions that run as their owner look only in this schema, pg_temp last (a name in
    # the caller's temporary schema never stands in for one of these tables).
    path = f"{bind.dialect.identifier_preparer.quote(schema)}, pg_temp"
    functions = [f.replace("{path}", path) for f in FUNCTIONS]
    for statement in (*TABLES, *functions, *TRIGGERS, *_version_triggers(), *_policies(), GRANTS):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the identity revision is not undone: restore a backup instead")
