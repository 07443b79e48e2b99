-- +goose Up
-- The audit log becomes append-only and hash-chained (issue 13, DB3205 §7.2.10,
-- 等保 operation audit): each row stores the hash of the row before it, so
-- GET /api/v1/audit/verify finds any row edited or deleted behind the
-- console's back.
--
-- Who, from where and with what result, as the issue lists them: the user's
-- department (an id, no foreign key: the log outlives departments) and role
-- at the time, the client's user agent, ok or refused and why.
ALTER TABLE audit_log
    ADD COLUMN department_id bigint,
    ADD COLUMN role          text NOT NULL DEFAULT '',
    ADD COLUMN user_agent    text NOT NULL DEFAULT '',
    ADD COLUMN result        text NOT NULL DEFAULT 'ok' CHECK (result IN ('ok', 'refused')),
    ADD COLUMN reason        text NOT NULL DEFAULT '',
    -- seq is the row's place in the chain: gapless, given under the chain's
    -- lock (id, a sequence, has gaps and is not the chain order).
    ADD COLUMN seq           bigint,
    ADD COLUMN prev_hash     bytea,
    ADD COLUMN hash          bytea;

-- The head of the chain, one row: the last row's seq and hash as of the
-- last committed insert (so deleting the newest rows shows), and how far
-- retention pruned the oldest ones: pruned_seq, the hash of that row (which
-- the first kept row points to), and pruned_at, the newest time of a row
-- removed, which verify checks is older than the 180 days every row is kept.
CREATE TABLE audit_chain (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq         bigint NOT NULL DEFAULT 0,
    hash        bytea  NOT NULL DEFAULT '\x'::bytea,
    pruned_seq  bigint NOT NULL DEFAULT 0,
    pruned_hash bytea  NOT NULL DEFAULT '\x'::bytea,
    pruned_at   timestamptz
);
INSERT INTO audit_chain DEFAULT VALUES;

-- audit_row_hash is the one definition of a row's hash: SHA-256 of the
-- previous row's hash followed by the row's fields as a JSON array (jsonb's
-- text is canonical; the time in UTC to the microsecond). Insert and verify
-- both use it, so they cannot disagree.
CREATE FUNCTION audit_row_hash(prev bytea, r audit_log) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_array(
        r.seq, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        r.username, r.department_id, r.role, r.action, r.target, r.remote, r.user_agent,
        r.result, r.reason, r.detail)::text, 'UTF8'))
$$;

-- The rows written before the chain are chained now, in the order they were written.
-- +goose StatementBegin
DO $$
DECLARE
    r audit_log;
    s bigint := 0;
    h bytea := '\x'::bytea;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        s := s + 1;
        r.seq := s;
        r.prev_hash := h;
        h := audit_row_hash(h, r);
        UPDATE audit_log SET seq = s, prev_hash = r.prev_hash, hash = h WHERE id = r.id;
    END LOOP;
    UPDATE audit_chain SET seq = s, hash = h;
END $$;
-- +goose StatementEnd

ALTER TABLE audit_log
    ALTER COLUMN seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq);
CREATE INDEX audit_log_target_at_idx ON audit_log (target, at);
CREATE INDEX audit_log_department_at_idx ON audit_log (department_id, at);

-- Every insert, by whatever path, is chained here. Writers take turns on a
-- transaction lock held until they commit, so the chain has one order and
-- no fork; a rolled-back insert rolls its link back too. The previous link
-- is the newest row this transaction wrote past the head, else the head:
-- reading the head, not the newest row, is what makes rows deleted at the
-- end show (the next row no longer follows its predecessor). The head moves
-- once per statement (audit_log_head), not once per row: a row version per
-- row would make a bulk insert quadratic.
-- +goose StatementBegin
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    h bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(28181, 10);
    SELECT a.seq, a.hash INTO s, h FROM audit_log a
    WHERE a.seq > (SELECT c.seq FROM audit_chain c) ORDER BY a.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT c.seq, c.hash INTO s, h FROM audit_chain c;
    END IF;
    NEW.seq := s + 1;
    NEW.prev_hash := h;
    NEW.hash := audit_row_hash(h, NEW);
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- +goose StatementBegin
CREATE FUNCTION audit_log_head() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chain c SET seq = n.seq, hash = n.hash
    FROM (SELECT seq, hash FROM new_rows ORDER BY seq DESC LIMIT 1) n
    WHERE n.seq > c.seq;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_head();

-- Rows are never changed. A row is deleted only by retention: older than
-- the 180 days 等保 requires (the console's audit.retention may keep more,
-- never less), and then the chain's pruned mark moves past it so verify
-- knows where the kept chain starts. Rows deleted out of order are still
-- found by verify (the first kept row no longer follows the mark).
-- +goose StatementBegin
CREATE FUNCTION audit_log_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'rows are deleted only by retention, once older than 180 days';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_guard();

-- The pruned mark moves once per statement, past the newest row deleted
-- (like the head, not a row version per row). Young rows deleted with the
-- guard off still show: pruned_at is then younger than 180 days.
-- +goose StatementBegin
CREATE FUNCTION audit_log_pruned() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE audit_chain c SET pruned_seq = g.seq, pruned_hash = g.hash,
        pruned_at = greatest(c.pruned_at, (SELECT max(at) FROM gone))
    FROM (SELECT seq, hash FROM gone ORDER BY seq DESC LIMIT 1) g
    WHERE g.seq > c.pruned_seq;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_pruned AFTER DELETE ON audit_log REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_pruned();

-- +goose StatementBegin
CREATE FUNCTION audit_log_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: TRUNCATE refused' USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_no_truncate();

-- The chain's head moves only from inside audit_log's triggers.
-- +goose StatementBegin
CREATE FUNCTION audit_chain_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_chain moves only with audit_log: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_chain_guard BEFORE UPDATE OR DELETE ON audit_chain FOR EACH ROW EXECUTE FUNCTION audit_chain_guard();

-- Where the services connect as a role that is not the owner (the
-- recommended set-up, docs/security.md), they get no UPDATE, DELETE or
-- TRUNCATE at all; the triggers above hold for the owner as well.
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_chain FROM PUBLIC;

-- +goose Down
DROP TRIGGER audit_chain_guard ON audit_chain;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_pruned ON audit_log;
DROP TRIGGER audit_log_guard ON audit_log;
DROP TRIGGER audit_log_head ON audit_log;
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_chain_guard();
DROP FUNCTION audit_log_no_truncate();
DROP FUNCTION audit_log_pruned();
DROP FUNCTION audit_log_guard();
DROP FUNCTION audit_log_head();
DROP FUNCTION audit_log_chain();
DROP FUNCTION audit_row_hash(bytea, audit_log);
DROP TABLE audit_chain;
DROP INDEX audit_log_department_at_idx;
DROP INDEX audit_log_target_at_idx;
DROP INDEX audit_log_seq_idx;
ALTER TABLE audit_log
    DROP COLUMN hash, DROP COLUMN prev_hash, DROP COLUMN seq, DROP COLUMN reason, DROP COLUMN result,
    DROP COLUMN user_agent, DROP COLUMN role, DROP COLUMN department_id;
