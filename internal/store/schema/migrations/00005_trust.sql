-- +goose Up
-- Who started a playback or download session (the console username): others
-- may not see, control or stop it. Empty for live sessions, which every
-- viewer of the channel shares.
ALTER TABLE stream_sessions ADD COLUMN owner text NOT NULL DEFAULT '';

-- Which signalling sources sipserver accepts for a device's requests:
-- 'strict' = the registered transport and address (IP and port; for TCP the
-- registered connection); 'ip' = the registered IP on any port, for devices
-- behind NATs that rebind ports and do not re-register when answered 403.
ALTER TABLE devices ADD COLUMN source_check text NOT NULL DEFAULT 'strict'
    CHECK (source_check IN ('strict', 'ip'));

-- +goose Down
ALTER TABLE devices DROP COLUMN source_check;
ALTER TABLE stream_sessions DROP COLUMN owner;
