-- +goose Up
-- Failed-attempt counters of the console's authentication, one row per key:
--   scope 'login'    (username, remote): consecutive failed logins of a
--                    username from one client address; locks that pair only,
--                    so nobody can keep an account locked from elsewhere;
--   scope 'login_ip' ('', remote): failed logins from one address, whatever
--                    the username (password spraying);
--   scope 'password' (username, ''): wrong old passwords on the password
--                    change route, from whatever address (a stolen session
--                    must not get more guesses from more addresses).
-- Unknown usernames get rows too: a failure must cost the same whether the
-- user exists or not. The console deletes rows idle for longer than their
-- window once they are not locked.
CREATE TABLE auth_failures (
    scope        text NOT NULL CHECK (scope IN ('login', 'login_ip', 'password')),
    username     text NOT NULL,
    remote       text NOT NULL,
    failures     integer NOT NULL DEFAULT 0,   -- failures since window_start
    window_start timestamptz NOT NULL,         -- when the current count began
    locked_until timestamptz,                  -- refused until then
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, username, remote)
);
CREATE INDEX auth_failures_updated_idx ON auth_failures (updated_at);

-- The per-account count of 00004 is replaced by the keyed counts above: a
-- lock on the whole account let anyone keep admin locked from anywhere.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

-- +goose Down
ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0, ADD COLUMN locked_until timestamptz;
DROP TABLE auth_failures;
