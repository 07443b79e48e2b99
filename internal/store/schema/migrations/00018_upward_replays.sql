-- +goose Up
-- An upward playback or download may be a replay of our own recordings (a
-- recorder node sends them into a mediagw receiver) instead of a device
-- session: what a restarted sipserver needs to control and end it.
ALTER TABLE upward_sessions
    ADD COLUMN replay_id    text NOT NULL DEFAULT '',
    ADD COLUMN recorder_url text NOT NULL DEFAULT '',
    ADD COLUMN receiver_id  text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE upward_sessions DROP COLUMN replay_id, DROP COLUMN recorder_url, DROP COLUMN receiver_id;
