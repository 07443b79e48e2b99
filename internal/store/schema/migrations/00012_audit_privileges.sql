-- +goose Up
-- The audit log's rows are out of the services' reach (issue 13: "the
-- database role of the services has no UPDATE or DELETE on it"). The
-- triggers of 00010 refuse edits, but the role that owns a table can turn
-- its triggers off; so where PostgreSQL lets the migrating role (the
-- services' role: sipserver migrates, every service connects with the same
-- URL) create roles, audit_log, audit_chain and their functions move to a
-- role no one logs in as, sharpeyes_audit_owner, and the services keep
-- SELECT and INSERT on the log, SELECT on the head, and prune_audit for
-- retention. docs/security.md (Audit log privileges) says what else the
-- deployment must do for this to hold.

-- prune_audit is the one way the services delete audit rows: the oldest
-- ones, a prefix of the chain (so verify finds the kept chain whole), only
-- older than the 180 days the guard of 00010 keeps (a later cut-off is
-- taken as that floor, by the database's clock), at most max_rows of them
-- (NULL: no bound). It returns how many it deleted. It runs as the log's
-- owner, the guard and the pruned mark's trigger still on.
-- +goose StatementBegin
CREATE FUNCTION prune_audit(before timestamptz, max_rows bigint) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (
        DELETE FROM public.audit_log WHERE seq < least(coalesce(
            (SELECT min(seq) FROM public.audit_log WHERE at >= least(before, now() - interval '180 days')),
            (SELECT seq + 1 FROM public.audit_chain)), (SELECT min(seq) FROM public.audit_log) + max_rows)
        RETURNING 1
    )
    SELECT count(*) FROM gone
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION prune_audit(timestamptz, bigint) FROM PUBLIC;

-- The triggers that move the chain's head and pruned mark write
-- audit_chain, which the services may not: they run as its owner, with a
-- search path the services cannot put objects in front of.
ALTER FUNCTION audit_log_head() SECURITY DEFINER SET search_path = pg_catalog, public;
ALTER FUNCTION audit_log_pruned() SECURITY DEFINER SET search_path = pg_catalog, public;

-- +goose StatementBegin
DO $$
DECLARE
    owner   constant name := 'sharpeyes_audit_owner';
    service constant name := current_user;
    me      pg_roles;
    o       pg_roles;
    member  boolean := false;
    creates boolean := false;
BEGIN
    SELECT * INTO me FROM pg_roles WHERE rolname = current_user;
    IF NOT (me.rolsuper OR me.rolcreaterole) THEN
        RAISE NOTICE 'audit_log stays owned by %, the services'' role, which could turn its triggers off: '
            'the role lacks CREATEROLE to create %', service, owner
            USING HINT = 'see docs/security.md, Audit log privileges, to move it by hand';
        RETURN;
    END IF;
    -- The new owner needs CREATE on the schema, which the services' role
    -- can give only where it owns the schema or may grant it.
    IF NOT (me.rolsuper OR has_schema_privilege('public', 'CREATE WITH GRANT OPTION')
            OR (SELECT pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = 'public')
            OR (to_regrole(owner) IS NOT NULL AND has_schema_privilege(owner, 'public', 'CREATE'))) THEN
        RAISE NOTICE 'audit_log stays owned by %, the services'' role, which could turn its triggers off: '
            'it can give % no CREATE on schema public', service, owner
            USING HINT = 'see docs/security.md, Audit log privileges, to move it by hand';
        RETURN;
    END IF;
    -- Role names are cluster-wide: several databases of one cluster may
    -- migrate at once, and the first one creates it.
    BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', owner);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
    SELECT * INTO o FROM pg_roles WHERE rolname = owner;
    -- A role of that name made by someone else must not be a way in.
    IF o.rolcanlogin OR o.rolsuper OR o.rolbypassrls THEN
        RAISE EXCEPTION 'role % exists and can log in or bypass privileges: it cannot own the audit log', owner
            USING ERRCODE = 'insufficient_privilege', HINT = 'ALTER ROLE ' || owner || ' NOLOGIN NOSUPERUSER NOBYPASSRLS';
    END IF;
    IF EXISTS (SELECT FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
               WHERE m.roleid = o.oid AND NOT r.rolsuper) THEN
        RAISE EXCEPTION 'role % has members, who could act as the audit log''s owner', owner
            USING ERRCODE = 'insufficient_privilege', HINT = 'REVOKE ' || owner || ' FROM its members';
    END IF;

    -- ALTER … OWNER TO needs membership in the new owner, and the new owner
    -- CREATE on the schema (PostgreSQL 15 took it from PUBLIC); both are
    -- taken back below, so the services' role cannot SET ROLE to the owner.
    IF NOT me.rolsuper THEN
        EXECUTE format('GRANT %I TO %I', owner, service);
        member := true;
    END IF;
    IF NOT has_schema_privilege(owner, 'public', 'CREATE') THEN
        EXECUTE format('GRANT CREATE ON SCHEMA public TO %I', owner);
        creates := true;
    END IF;

    -- The table takes its id sequence and indexes along.
    EXECUTE format('ALTER TABLE audit_log OWNER TO %I', owner);
    EXECUTE format('ALTER TABLE audit_chain OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_row_hash(bytea, audit_log) OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_log_chain() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_log_head() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_log_guard() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_log_pruned() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_log_no_truncate() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION audit_chain_guard() OWNER TO %I', owner);
    EXECUTE format('ALTER FUNCTION prune_audit(timestamptz, bigint) OWNER TO %I', owner);

    -- What the services keep, and nothing else.
    EXECUTE format('GRANT SELECT, INSERT ON audit_log TO %I', service);
    EXECUTE format('GRANT SELECT ON audit_chain TO %I', service);
    EXECUTE format('GRANT USAGE ON SEQUENCE audit_log_id_seq TO %I', service);
    EXECUTE format('GRANT EXECUTE ON FUNCTION prune_audit(timestamptz, bigint) TO %I', service);

    IF creates THEN
        EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', owner);
    END IF;
    IF member THEN
        EXECUTE format('REVOKE %I FROM %I', owner, service);
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
-- Only a superuser (or a member of the audit log's owner) can give the
-- tables back; the role itself stays, other databases of the cluster may
-- use it.
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_log') <> current_user THEN
        EXECUTE format('ALTER TABLE audit_log OWNER TO %I', current_user);
        EXECUTE format('ALTER TABLE audit_chain OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_row_hash(bytea, audit_log) OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_log_chain() OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_log_head() OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_log_guard() OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_log_pruned() OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_log_no_truncate() OWNER TO %I', current_user);
        EXECUTE format('ALTER FUNCTION audit_chain_guard() OWNER TO %I', current_user);
    END IF;
END $$;
-- +goose StatementEnd
ALTER FUNCTION audit_log_pruned() SECURITY INVOKER RESET search_path;
ALTER FUNCTION audit_log_head() SECURITY INVOKER RESET search_path;
DROP FUNCTION prune_audit(timestamptz, bigint);
