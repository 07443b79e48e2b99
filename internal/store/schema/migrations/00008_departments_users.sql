-- +goose Up
-- Departments: the tree of units that own and use cameras (GB/T 33200 §10.2 c,
-- DB3205 §7.2.10). Administrative levels province → city → county → township →
-- village follow the civil code; a free unit (公安分局, 城管, 交警, …) hangs
-- anywhere. A node with children or users cannot be deleted (ON DELETE
-- RESTRICT): the console refuses with a clear message, or moves them first.
-- The console keeps the tree acyclic (it checks a move under a table lock).
CREATE TABLE departments (
    id         bigserial PRIMARY KEY,
    parent_id  bigint REFERENCES departments (id) ON DELETE RESTRICT,
    name       text NOT NULL CHECK (name <> '' AND length(name) <= 128),
    level      text NOT NULL DEFAULT 'unit'
               CHECK (level IN ('province', 'city', 'county', 'township', 'village', 'unit')),
    -- The region the department stands for (2, 4, 6, 8 or 10 digits of the
    -- GB/T 2260 civil code and its extensions); '' for a free unit.
    civil_code text NOT NULL DEFAULT '' CHECK (civil_code ~ '^([0-9]{2}){0,5}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
-- Siblings have distinct names, so a path of names names one department.
CREATE UNIQUE INDEX departments_parent_name_idx ON departments (COALESCE(parent_id, 0), name);
CREATE INDEX departments_parent_idx ON departments (parent_id);

-- Users belong to one department (NULL: none yet, e.g. the first admin; such
-- a non-admin sees nothing) and have one of four roles:
--   admin      everything;
--   dept_admin manages users and re-grants inside its department subtree;
--   operator   watches, plays back, controls PTZ, downloads as granted;
--   auditor    reads the audit log and reports, watches nothing.
-- A disabled user cannot log in; disabled_reason says why (an admin's
-- decision, or the dormant-account job). Dormancy counts from the latest of
-- created_at, last_login_at and enabled_at (when an admin enabled the account
-- again), so a re-enabled account is not disabled again at once.
ALTER TABLE users
    ADD COLUMN department_id   bigint REFERENCES departments (id) ON DELETE RESTRICT,
    ADD COLUMN disabled        boolean NOT NULL DEFAULT false,
    ADD COLUMN disabled_reason text NOT NULL DEFAULT '',
    ADD COLUMN disabled_at     timestamptz,
    ADD COLUMN enabled_at      timestamptz,
    DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'dept_admin', 'operator', 'auditor'));
CREATE INDEX users_department_idx ON users (department_id);

-- Play tokens name their user and issue time (whole seconds); a token
-- issued at or before tokens_revoked_at is revoked (mediagw closes its
-- viewers, the console refuses its media opens). The console sets it when
-- the user is disabled or an admin revokes the user's sessions (at that
-- instant: a token of the same second is revoked too), or changes role or
-- department (just before that second, so that a user moved and playing at
-- once is not refused). A user created later than a token (a username
-- deleted and created again) revokes it too: new rows start just before
-- their second, existing rows at -infinity so that the upgrade ends
-- nobody's video.
ALTER TABLE users ADD COLUMN tokens_revoked_at timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE users ALTER COLUMN tokens_revoked_at SET DEFAULT date_trunc('second', now()) - interval '1 microsecond';

-- The hashes of a user's earlier passwords, so that a new password cannot be
-- one of the last N (the console keeps the newest auth.password_history).
CREATE TABLE password_history (
    id            bigserial PRIMARY KEY,                -- orders the history (set_at may tie)
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash text NOT NULL,
    set_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX password_history_user_idx ON password_history (user_id, id);

-- +goose Down
DROP TABLE password_history;
DROP INDEX users_department_idx;
-- The old schema has no role with an auditor's few rights: such users go
-- rather than become operators who may watch.
DELETE FROM users WHERE role IN ('dept_admin', 'auditor');
ALTER TABLE users
    DROP CONSTRAINT users_role_check,
    ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator')),
    DROP COLUMN tokens_revoked_at,
    DROP COLUMN enabled_at,
    DROP COLUMN disabled_at,
    DROP COLUMN disabled_reason,
    DROP COLUMN disabled,
    DROP COLUMN department_id;
DROP TABLE departments;
