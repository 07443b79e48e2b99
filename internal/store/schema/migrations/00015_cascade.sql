-- +goose Up
-- Cascade (GB/T 28181 §5.4, GB/T 33200 §10.1–10.2): the superior platforms
-- this platform registers to as a lower platform, and what each may reach.
-- The console writes the configuration and the grants; the sipserver writes
-- the link state (cascade_platform_status) and reads the rest.
CREATE TABLE cascade_platforms (
    id                 bigserial PRIMARY KEY,
    name               text NOT NULL CHECK (name <> '' AND length(name) <= 128),
    -- The superior's 20-digit SIP ID and its domain (digest realm).
    server_id          text NOT NULL CHECK (server_id ~ '^[0-9]{20}$'),
    domain             text NOT NULL CHECK (domain ~ '^[0-9A-Za-z.-]{1,64}$'),
    host               text NOT NULL CHECK (host <> '' AND length(host) <= 255),
    port               integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    transport          text NOT NULL CHECK (transport IN ('udp', 'tcp')),
    -- The digest password the superior gave us ('' when it asks none).
    password           text NOT NULL DEFAULT '',
    -- Our SIP ID as the superior knows us; '' is our own platform ID.
    local_id           text NOT NULL DEFAULT '' CHECK (local_id = '' OR local_id ~ '^[0-9]{20}$'),
    gb_version         text NOT NULL CHECK (gb_version IN ('2016', '2022')),
    charset            text NOT NULL CHECK (charset IN ('GB2312', 'UTF-8')),
    -- REGISTER expiry asked for, keepalive period and the missed keepalives
    -- after which the link counts as lost, in seconds.
    expires            integer NOT NULL CHECK (expires BETWEEN 60 AND 86400),
    keepalive_interval integer NOT NULL CHECK (keepalive_interval BETWEEN 5 AND 3600),
    keepalive_count    integer NOT NULL CHECK (keepalive_count BETWEEN 1 AND 100),
    enabled            boolean NOT NULL DEFAULT true,
    created_by         text NOT NULL DEFAULT '',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- One link per superior address: two would register the same ID twice.
    UNIQUE (server_id, host, port)
);

-- The state of each link as the sipserver sees it. No row: never tried.
CREATE TABLE cascade_platform_status (
    platform_id    bigint PRIMARY KEY REFERENCES cascade_platforms (id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('registered', 'failing', 'disabled')),
    -- The SIP ID the link registers with (the platform's local_id, or ours).
    local_id       text NOT NULL DEFAULT '',
    last_error     text NOT NULL DEFAULT '',
    registered_at  timestamptz,
    last_keepalive timestamptz,
    upward_streams integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- What a superior platform may reach: the camera sets and rights of a
-- department's grant (migration 00009), given to a platform. Written by the
-- console.
CREATE TABLE platform_grants (
    id           bigserial PRIMARY KEY,
    platform_id  bigint NOT NULL REFERENCES cascade_platforms (id) ON DELETE CASCADE,
    scope_kind   text NOT NULL CHECK (scope_kind IN ('region', 'device', 'channels')),
    civil_code   text NOT NULL DEFAULT '',
    device_id    text NOT NULL DEFAULT '',
    channel_ids  text[] NOT NULL DEFAULT '{}',
    rights       text[] NOT NULL
                 CHECK (cardinality(rights) > 0
                        AND rights <@ ARRAY['live', 'playback', 'download', 'ptz', 'share', 'location']),
    ptz_priority smallint NOT NULL DEFAULT 5 CHECK (ptz_priority BETWEEN 1 AND 9),
    valid_from   timestamptz,
    valid_until  timestamptz,
    hours_from   time,
    hours_until  time,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (scope_kind <> 'region'
           OR (civil_code ~ '^([0-9]{2}){1,5}$' AND device_id = '' AND cardinality(channel_ids) = 0)),
    CHECK (scope_kind <> 'device' OR (device_id <> '' AND civil_code = '' AND cardinality(channel_ids) = 0)),
    CHECK (scope_kind <> 'channels' OR (cardinality(channel_ids) > 0 AND civil_code = '' AND device_id = '')),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from),
    CHECK ((hours_from IS NULL) = (hours_until IS NULL) AND (hours_from IS NULL OR hours_from <> hours_until))
);
CREATE INDEX platform_grants_platform_idx ON platform_grants (platform_id);

-- platform_scopes is user_scopes for a superior platform: the camera sets
-- of its grants in force with right wanted ('' any) at time at (time of day
-- tod). A disabled platform reaches nothing.
-- +goose StatementBegin
CREATE FUNCTION platform_scopes(pid bigint, wanted text, at timestamptz, tod time)
RETURNS TABLE (scope_kind text, civil_code text, device_id text, channel_ids text[], ptz_priority smallint,
               rights text[], valid_until timestamptz, hours_from time, hours_until time)
LANGUAGE sql STABLE AS $$
    SELECT g.scope_kind, g.civil_code, g.device_id, g.channel_ids, g.ptz_priority,
           g.rights, g.valid_until, g.hours_from, g.hours_until
    FROM platform_grants g JOIN cascade_platforms p ON p.id = g.platform_id
    WHERE g.platform_id = pid AND p.enabled
      AND (wanted = '' OR wanted = ANY (g.rights))
      AND (g.valid_from IS NULL OR g.valid_from <= at)
      AND (g.valid_until IS NULL OR at < g.valid_until)
      AND (g.hours_from IS NULL
           OR (g.hours_from < g.hours_until AND tod >= g.hours_from AND tod < g.hours_until)
           OR (g.hours_from > g.hours_until AND (tod >= g.hours_from OR tod < g.hours_until)))
$$;
-- +goose StatementEnd

-- The sipserver reloads its links and shared slices on every change.
-- +goose StatementBegin
CREATE FUNCTION cascade_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sharpeyes_cascade', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER cascade_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON cascade_platforms
    FOR EACH STATEMENT EXECUTE FUNCTION cascade_changed();
CREATE TRIGGER cascade_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON platform_grants
    FOR EACH STATEMENT EXECUTE FUNCTION cascade_changed();

-- +goose Down
DROP TRIGGER cascade_changed ON platform_grants;
DROP TRIGGER cascade_changed ON cascade_platforms;
DROP FUNCTION cascade_changed();
DROP FUNCTION platform_scopes(bigint, text, timestamptz, time);
DROP TABLE platform_grants;
DROP TABLE cascade_platform_status;
DROP TABLE cascade_platforms;
