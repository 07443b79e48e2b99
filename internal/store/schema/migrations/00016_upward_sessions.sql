-- +goose Up
-- The streams the sipserver sends up to superior platforms (cascade): the
-- superior's INVITE dialog and the mediagw sender, so that a restart of the
-- sipserver takes the running ones back instead of cutting the superiors'
-- video (the senders keep sending meanwhile). Written by the sipserver only.
CREATE TABLE upward_sessions (
    call_id       text PRIMARY KEY CHECK (call_id <> '' AND length(call_id) <= 255),
    platform_id   bigint NOT NULL REFERENCES cascade_platforms (id) ON DELETE CASCADE,
    channel_id    text NOT NULL CHECK (channel_id <> ''),
    kind          text NOT NULL CHECK (kind IN ('play', 'playback', 'download')),
    -- The media session of ours it reads (stream_sessions.id) for a
    -- playback or download, '' for live.
    session_id    text NOT NULL DEFAULT '',
    path          text NOT NULL,
    sender_id     text NOT NULL,
    -- Our To tag, the superior's From tag and Contact, and the channel as
    -- the superior knows it (its exposed ID): our BYE's dialog.
    local_tag     text NOT NULL,
    local_user    text NOT NULL DEFAULT '',
    remote_tag    text NOT NULL,
    remote_target text NOT NULL,
    started_at    timestamptz NOT NULL
);
CREATE INDEX upward_sessions_platform_idx ON upward_sessions (platform_id);

-- +goose Down
DROP TABLE upward_sessions;
