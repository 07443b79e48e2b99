-- +goose Up
-- Grants: what a department may do with which cameras (GB/T 33200 §10.1 d,
-- §10.2 c). A grant names a camera set — a region (a civil-code prefix: every
-- channel whose civil code starts with it, present and future), a device (all
-- its channels) or an explicit channel list — and the rights on it. A
-- department inherits its ancestors' grants. Written by the console.
CREATE TABLE grants (
    id            bigserial PRIMARY KEY,
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE RESTRICT,
    scope_kind    text NOT NULL CHECK (scope_kind IN ('region', 'device', 'channels')),
    civil_code    text NOT NULL DEFAULT '',
    device_id     text NOT NULL DEFAULT '',
    channel_ids   text[] NOT NULL DEFAULT '{}',
    rights        text[] NOT NULL
                  CHECK (cardinality(rights) > 0
                         AND rights <@ ARRAY['live', 'playback', 'download', 'ptz', 'share', 'location']),
    ptz_priority  smallint NOT NULL DEFAULT 5 CHECK (ptz_priority BETWEEN 1 AND 9),
    valid_from    timestamptz,
    valid_until   timestamptz,
    -- Daily hours [hours_from, hours_until) in the console's local time; a
    -- window that wraps midnight (20:00-08:00) has hours_from > hours_until.
    hours_from    time,
    hours_until   time,
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Exactly the field of its kind is set: a grant never means more than it says.
    CHECK (scope_kind <> 'region'
           OR (civil_code ~ '^([0-9]{2}){1,5}$' AND device_id = '' AND cardinality(channel_ids) = 0)),
    CHECK (scope_kind <> 'device' OR (device_id <> '' AND civil_code = '' AND cardinality(channel_ids) = 0)),
    CHECK (scope_kind <> 'channels' OR (cardinality(channel_ids) > 0 AND civil_code = '' AND device_id = '')),
    CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_until > valid_from),
    CHECK ((hours_from IS NULL) = (hours_until IS NULL) AND (hours_from IS NULL OR hours_from <> hours_until))
);
CREATE INDEX grants_department_idx ON grants (department_id);

-- Camera ownership (主责单位): the owning department has every right on the
-- camera, as if granted (inherited like a grant). Tables of their own, not
-- columns of devices/channels, whose one writer is the sipserver. No foreign
-- key to devices: the sipserver may delete a device, the ownership stays for
-- when it registers again.
CREATE TABLE device_owners (
    device_id     text PRIMARY KEY,
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE RESTRICT,
    set_by        text NOT NULL DEFAULT '',
    set_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_owners_department_idx ON device_owners (department_id);
-- GB/T 28181 channel IDs are unique nationwide: ownership follows the
-- camera whichever device reports it.
CREATE TABLE channel_owners (
    channel_id    text PRIMARY KEY,
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE RESTRICT,
    set_by        text NOT NULL DEFAULT '',
    set_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_owners_department_idx ON channel_owners (department_id);
-- A region's owner owns every channel whose civil code starts with the
-- prefix, present and future, like a region grant.
CREATE TABLE region_owners (
    civil_code    text PRIMARY KEY CHECK (civil_code ~ '^([0-9]{2}){1,5}$'),
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE RESTRICT,
    set_by        text NOT NULL DEFAULT '',
    set_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX region_owners_department_idx ON region_owners (department_id);

-- user_scopes is the one definition of what user uid may reach with right
-- wanted ('' = any right) at time at (time of day tod, the console's local
-- time): the camera sets of the grants and ownerships of the user's
-- department and its ancestors that are in force, with the rights and
-- bounds of each (an ownership has every right and no bounds), which a
-- department admin's re-grant may not exceed (consoledb.ShareGrant). Only operators and
-- department admins that are enabled have any; admins see everything
-- without it (the console does not ask), auditors nothing. Every console
-- read filters through it (catalogview.Scope).
-- +goose StatementBegin
CREATE FUNCTION user_scopes(uid bigint, wanted text, at timestamptz, tod time)
RETURNS TABLE (scope_kind text, civil_code text, device_id text, channel_ids text[], ptz_priority smallint,
               rights text[], valid_until timestamptz, hours_from time, hours_until time)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up (id, parent_id, depth) AS (
        SELECT d.id, d.parent_id, 0
        FROM users u JOIN departments d ON d.id = u.department_id
        WHERE u.id = uid AND NOT u.disabled AND u.role IN ('operator', 'dept_admin')
      UNION ALL
        -- depth bounds a cycle the console failed to prevent.
        SELECT d.id, d.parent_id, up.depth + 1
        FROM departments d JOIN up ON d.id = up.parent_id
        WHERE up.depth < 32
    )
    SELECT g.scope_kind, g.civil_code, g.device_id, g.channel_ids, g.ptz_priority,
           g.rights, g.valid_until, g.hours_from, g.hours_until
    FROM grants g JOIN up ON g.department_id = up.id
    WHERE (wanted = '' OR wanted = ANY (g.rights))
      AND (g.valid_from IS NULL OR g.valid_from <= at)
      AND (g.valid_until IS NULL OR at < g.valid_until)
      AND (g.hours_from IS NULL
           OR (g.hours_from < g.hours_until AND tod >= g.hours_from AND tod < g.hours_until)
           OR (g.hours_from > g.hours_until AND (tod >= g.hours_from OR tod < g.hours_until)))
    UNION ALL
    SELECT 'region', o.civil_code, '', '{}'::text[], 9::smallint,
           ARRAY['live', 'playback', 'download', 'ptz', 'share', 'location'], NULL, NULL, NULL
    FROM region_owners o JOIN up ON o.department_id = up.id
    UNION ALL
    SELECT 'device', '', o.device_id, '{}'::text[], 9::smallint,
           ARRAY['live', 'playback', 'download', 'ptz', 'share', 'location'], NULL, NULL, NULL
    FROM device_owners o JOIN up ON o.department_id = up.id
    UNION ALL
    SELECT 'channels', '', '', ARRAY[o.channel_id], 9::smallint,
           ARRAY['live', 'playback', 'download', 'ptz', 'share', 'location'], NULL, NULL, NULL
    FROM channel_owners o JOIN up ON o.department_id = up.id
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION user_scopes(bigint, text, timestamptz, time);
DROP TABLE region_owners;
DROP TABLE channel_owners;
DROP TABLE device_owners;
DROP TABLE grants;
