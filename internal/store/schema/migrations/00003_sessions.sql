-- +goose Up
-- Media sessions between a device and a mediagw node (INVITE dialogs), so that
-- a restart of sipserver or mediagw can recover or tear down every one of them.
CREATE TABLE stream_sessions (
    id          text PRIMARY KEY,                       -- our session ID (also playback/<id> paths)
    kind        text NOT NULL CHECK (kind IN ('play', 'playback', 'download')),
    device_id   text NOT NULL,                          -- no FK: the log outlives devices
    channel_id  text NOT NULL,
    path        text NOT NULL,                          -- mediagw stream path (live/<channelID>, playback/<id>)
    media_node  text NOT NULL DEFAULT '',               -- the mediagw serving it (its control API URL)
    receiver_id text NOT NULL DEFAULT '',               -- the mediagw receiver
    transport   text NOT NULL DEFAULT '' CHECK (transport IN ('', 'udp', 'tcp-passive', 'tcp-active')),
    ssrc        text NOT NULL DEFAULT '',               -- the SSRC the device uses (y=)
    call_id     text NOT NULL DEFAULT '',               -- the INVITE dialog: Call-ID and tags, to BYE it after a restart
    from_tag    text NOT NULL DEFAULT '',
    to_tag      text NOT NULL DEFAULT '',
    remote_target text NOT NULL DEFAULT '',             -- the device's Contact: Request-URI of in-dialog requests
    cseq        integer NOT NULL DEFAULT 0,             -- CSeq of our last request in the dialog
    state       text NOT NULL DEFAULT 'inviting' CHECK (state IN ('inviting', 'active', 'ended')),
    range_start timestamptz,                            -- playback and download window
    range_end   timestamptz,
    started_at  timestamptz NOT NULL DEFAULT now(),
    active_at   timestamptz,
    ended_at    timestamptz,
    end_reason  text NOT NULL DEFAULT ''
);
-- One open session per path: every viewer of a channel shares it.
CREATE UNIQUE INDEX stream_sessions_open_path_idx ON stream_sessions (path) WHERE state <> 'ended';
CREATE INDEX stream_sessions_device_idx ON stream_sessions (device_id) WHERE state <> 'ended';
CREATE INDEX stream_sessions_started_idx ON stream_sessions (started_at);

-- Media transport per device and per channel ('' = inherit: channel → device → sessions.transport).
ALTER TABLE devices ADD COLUMN stream_transport text NOT NULL DEFAULT ''
    CHECK (stream_transport IN ('', 'udp', 'tcp-passive', 'tcp-active'));
ALTER TABLE channels ADD COLUMN stream_transport text NOT NULL DEFAULT ''
    CHECK (stream_transport IN ('', 'udp', 'tcp-passive', 'tcp-active'));

-- +goose Down
ALTER TABLE channels DROP COLUMN stream_transport;
ALTER TABLE devices DROP COLUMN stream_transport;
DROP TABLE stream_sessions;
