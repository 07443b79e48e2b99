-- +goose Up
-- Devices are what registers with us over SIP: cameras, NVRs, DVRs, lower platforms.
CREATE TABLE devices (
    id                  text PRIMARY KEY,              -- 18–20 digit GB28181 ID
    name                text NOT NULL DEFAULT '',
    manufacturer        text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    firmware            text NOT NULL DEFAULT '',
    transport           text NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
    remote_addr         text NOT NULL DEFAULT '',      -- ip:port the device's packets come from (after NAT)
    gb_version          text NOT NULL DEFAULT '',      -- X-GB-Ver: 1.0 / 2.0 / 3.0
    charset             text NOT NULL DEFAULT 'GB2312' CHECK (charset IN ('GB2312', 'UTF-8')),
    password            text,                          -- per-device override of the global SIP password; digest needs it in clear
    online              boolean NOT NULL DEFAULT false,
    registered_at       timestamptz,
    expires_at          timestamptz,                   -- registration expiry
    last_keepalive_at   timestamptz,
    heartbeat_interval  integer NOT NULL DEFAULT 60 CHECK (heartbeat_interval > 0),
    heartbeat_count     integer NOT NULL DEFAULT 3 CHECK (heartbeat_count > 0),
    channel_count       integer NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_online_idx ON devices (online);

-- Channels are the catalog entries of a device: cameras, alarm inputs, and the
-- organisation nodes (civil codes, business groups, virtual organisations).
CREATE TABLE channels (
    device_id           text NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    id                  text NOT NULL,
    name                text NOT NULL DEFAULT '',
    manufacturer        text NOT NULL DEFAULT '',
    model               text NOT NULL DEFAULT '',
    owner               text NOT NULL DEFAULT '',
    civil_code          text NOT NULL DEFAULT '',
    address             text NOT NULL DEFAULT '',
    parental            boolean NOT NULL DEFAULT false,
    parent_id           text NOT NULL DEFAULT '',
    business_group_id   text NOT NULL DEFAULT '',
    secrecy             boolean NOT NULL DEFAULT false,
    ip_address          text NOT NULL DEFAULT '',
    port                integer NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'OFF',    -- as the catalog reports it
    online              boolean NOT NULL DEFAULT false,
    longitude           double precision,
    latitude            double precision,
    ptz_type            smallint NOT NULL DEFAULT 0,     -- 0 unknown, 1 dome, 2 half-dome, 3 fixed, 4 remote-controlled bullet
    retention_class     text NOT NULL DEFAULT 'standard' CHECK (retention_class IN ('standard', 'key')),
    extra               jsonb NOT NULL DEFAULT '{}',     -- catalog fields without a column of their own
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, id)
);
CREATE INDEX channels_id_idx ON channels (id);
CREATE INDEX channels_civil_code_idx ON channels (civil_code);
CREATE INDEX channels_parent_idx ON channels (parent_id);

-- Every online/offline transition of a device or channel: the input of the availability KPIs.
CREATE TABLE device_status_log (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,
    channel_id  text NOT NULL DEFAULT '',              -- '' = the device itself
    online      boolean NOT NULL,
    cause       text NOT NULL,                          -- register, unregister, keepalive_timeout, expired, catalog, …
    at          timestamptz NOT NULL
);
CREATE INDEX device_status_log_device_at_idx ON device_status_log (device_id, channel_id, at);
CREATE INDEX device_status_log_at_idx ON device_status_log (at);

-- +goose Down
DROP TABLE device_status_log;
DROP TABLE channels;
DROP TABLE devices;
