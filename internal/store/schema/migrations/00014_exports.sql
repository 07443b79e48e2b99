-- +goose Up
-- Exports (issue 14): MP4 files cut from the platform's recordings or
-- fetched from a device, as jobs that survive restarts. One writer: the
-- recorder (internal/store/exportdb's writer methods, called by
-- internal/recorder/export); the console only reads them.
CREATE TABLE exports (
    -- 16 lowercase hex digits, random: a job's id is no guess away from another's.
    id          text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
    -- The user (username) the job and its file belong to.
    owner       text NOT NULL CHECK (owner <> ''),
    channel_id  text NOT NULL CHECK (channel_id <> ''),
    source      text NOT NULL CHECK (source IN ('platform', 'device')),
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL,
    state       text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'expired')),
    progress    double precision NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    bytes       bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    error       text NOT NULL DEFAULT '',
    -- The node that runs the job and then holds its file (its directory
    -- store, or the S3 bucket it wrote to); NULL while queued.
    node        text,
    -- The file's key in that node's object store; NULL until done.
    object_key  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    -- When the file is deleted and the job marked expired.
    expires_at  timestamptz,
    CHECK (end_at > start_at)
);
-- The console's list of a user's jobs, newest first.
CREATE INDEX exports_owner_created_idx ON exports (owner, created_at DESC);
-- The runners' queue and their crash recovery: few rows, whatever the history.
CREATE INDEX exports_active_idx ON exports (state, created_at) WHERE state IN ('queued', 'running');

-- Where browsers reach a recorder node (its VOD routes); '' means its url.
ALTER TABLE recorder_nodes ADD COLUMN public_url text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE recorder_nodes DROP COLUMN public_url;
DROP TABLE exports;
