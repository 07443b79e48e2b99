-- +goose Up
-- Console users. Passwords are argon2id PHC strings ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
CREATE TABLE users (
    id                   bigserial PRIMARY KEY,
    username             text NOT NULL UNIQUE CHECK (username <> ''),
    password_hash        text NOT NULL,
    role                 text NOT NULL DEFAULT 'operator' CHECK (role IN ('admin', 'operator')),
    must_change_password boolean NOT NULL DEFAULT false,
    failed_logins        integer NOT NULL DEFAULT 0,       -- consecutive failures since the last success or lock
    locked_until         timestamptz,                      -- logins are refused until then
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    last_login_at        timestamptz
);

-- Login sessions, so that a console restart logs nobody out. Only the SHA-256
-- of the token is kept: a copy of the table opens no session.
CREATE TABLE user_sessions (
    token_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    remote       text NOT NULL DEFAULT ''
);
CREATE INDEX user_sessions_user_idx ON user_sessions (user_id);
CREATE INDEX user_sessions_expires_idx ON user_sessions (expires_at);

-- Who did what: logins, password changes and every video access.
CREATE TABLE audit_log (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    username text NOT NULL DEFAULT '',                     -- no FK: the log outlives users
    action   text NOT NULL,
    target   text NOT NULL DEFAULT '',
    remote   text NOT NULL DEFAULT '',
    detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_username_at_idx ON audit_log (username, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE user_sessions;
DROP TABLE users;
