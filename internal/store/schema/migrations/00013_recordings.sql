-- +goose Up
-- The recorder (issue 14): record plans, the segment index, the gaps that
-- explain every hole, and the nodes sharing the channels through leases.
-- The console writes record_plans; the recorder writes the rest
-- (internal/store/recordingdb).

-- record_schedule_valid is the shape of a weekly schedule, checked here as
-- well as by recordingdb.ParseSchedule (which the console calls first, to
-- answer 400): an array of {"days":[1..7, Monday=1],"start":"HH:MM",
-- "end":"HH:MM"} with no other keys; "end" <= "start" wraps past midnight.
-- Nested IFs, not OR: SQL does not promise to short-circuit.
-- +goose StatementBegin
CREATE FUNCTION record_schedule_valid(s jsonb) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    w jsonb;
    d jsonb;
BEGIN
    IF jsonb_typeof(s) IS DISTINCT FROM 'array' THEN
        RETURN false;
    END IF;
    FOR w IN SELECT * FROM jsonb_array_elements(s) LOOP
        IF jsonb_typeof(w) <> 'object' THEN
            RETURN false;
        END IF;
        IF w - 'days' - 'start' - 'end' <> '{}'::jsonb
           OR jsonb_typeof(w -> 'days') IS DISTINCT FROM 'array'
           OR jsonb_typeof(w -> 'start') IS DISTINCT FROM 'string'
           OR jsonb_typeof(w -> 'end') IS DISTINCT FROM 'string' THEN
            RETURN false;
        END IF;
        IF jsonb_array_length(w -> 'days') = 0
           OR (w ->> 'start') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
           OR (w ->> 'end') !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' THEN
            RETURN false;
        END IF;
        FOR d IN SELECT * FROM jsonb_array_elements(w -> 'days') LOOP
            IF jsonb_typeof(d) <> 'number' THEN
                RETURN false;
            END IF;
            IF d::text !~ '^[1-7]$' THEN
                RETURN false;
            END IF;
        END LOOP;
    END LOOP;
    RETURN true;
END
$$;
-- +goose StatementEnd

-- Record plans: what to record, inherited. target is '' for the default row,
-- a civil-code prefix for a region, a department id, a device id or a
-- channel id. retention_days NULL inherits from the next less specific row.
-- Written by the console (admin only, audited).
CREATE TABLE record_plans (
    id             bigserial PRIMARY KEY,
    target_kind    text NOT NULL CHECK (target_kind IN ('default', 'region', 'department', 'device', 'channel')),
    target         text NOT NULL DEFAULT '',
    mode           text NOT NULL CHECK (mode IN ('always', 'schedule', 'off')),
    schedule       jsonb NOT NULL DEFAULT '[]' CHECK (record_schedule_valid(schedule)),
    retention_days integer CHECK (retention_days BETWEEN 1 AND 36500),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    updated_by     text NOT NULL DEFAULT '',
    UNIQUE (target_kind, target),
    CHECK (target_kind <> 'default' OR target = ''),
    CHECK (target_kind <> 'region' OR target ~ '^([0-9]{2}){1,5}$'),
    CHECK (target_kind <> 'department' OR target ~ '^[1-9][0-9]{0,18}$'),
    CHECK (target_kind NOT IN ('device', 'channel') OR (target <> '' AND length(target) <= 64)),
    -- A schedule that never records is mode 'off', said so.
    CHECK (mode <> 'schedule' OR jsonb_array_length(schedule) > 0)
);

-- effective_record_plans is the one definition of each channel's plan: the
-- recorder records by it, the console's plan editor shows it, the KPIs
-- count planned time by it. Mode and schedule come from the most specific
-- row: channel > device > the owning department, nearest upwards (owner as
-- in consoledb.Owner: the channel's, else its device's, else the longest
-- region owner's) > region (longest civil-code prefix) > default row >
-- built in ('always'). Retention likewise from the most specific non-NULL
-- retention_days, else key_days for channels of retention class 'key',
-- else standard_days (recorder config). source and retention_source name
-- the kind of row that decided ('builtin' for none), source_target and
-- retention_target its target. Video channels only: 20-digit IDs that are
-- not business groups or virtual organisations (215, 216), as the console's
-- tree has them.
-- +goose StatementBegin
CREATE FUNCTION effective_record_plans(standard_days integer, key_days integer)
RETURNS TABLE (channel_id text, device_id text, mode text, schedule jsonb, retention_days integer,
               source text, source_target text, retention_source text, retention_target text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up (dept, anc, depth) AS (
        SELECT d.id, d.id, 0 FROM departments d
      UNION ALL
        -- depth bounds a cycle the console failed to prevent.
        SELECT up.dept, d.parent_id, up.depth + 1
        FROM up JOIN departments d ON d.id = up.anc
        WHERE d.parent_id IS NOT NULL AND up.depth < 32
    ),
    dept_plan AS (
        SELECT up.dept,
               (array_agg(p.target ORDER BY up.depth))[1] AS target,
               (array_agg(p.mode ORDER BY up.depth))[1] AS mode,
               (array_agg(p.schedule ORDER BY up.depth))[1] AS schedule,
               (array_agg(p.target ORDER BY up.depth) FILTER (WHERE p.retention_days IS NOT NULL))[1] AS ret_target,
               (array_agg(p.retention_days ORDER BY up.depth) FILTER (WHERE p.retention_days IS NOT NULL))[1] AS ret
        FROM up JOIN record_plans p ON p.target_kind = 'department' AND p.target = up.anc::text
        GROUP BY up.dept
    )
    -- Joins, not a subquery per channel: the recorder asks for every
    -- channel at once. m and r are the rank (1 channel … 5 default) of the
    -- row that decides the mode and the retention.
    SELECT x.id, x.device_id,
           coalesce((ARRAY[x.pc_mode, x.pd_mode, x.dp_mode, x.pr_mode, x.pdef_mode])[x.m], 'always'),
           coalesce((ARRAY[x.pc_sched, x.pd_sched, x.dp_sched, x.pr_sched, x.pdef_sched])[x.m], '[]'::jsonb),
           coalesce((ARRAY[x.pc_ret, x.pd_ret, x.dp_ret, x.prr_ret, x.pdef_ret])[x.r],
                    CASE WHEN x.retention_class = 'key' THEN key_days ELSE standard_days END),
           coalesce((ARRAY['channel', 'device', 'department', 'region', 'default'])[x.m], 'builtin'),
           coalesce((ARRAY[x.pc_target, x.pd_target, x.dp_target, x.pr_target, ''])[x.m], ''),
           coalesce((ARRAY['channel', 'device', 'department', 'region', 'default'])[x.r], 'builtin'),
           coalesce((ARRAY[x.pc_target, x.pd_target, x.dp_ret_target, x.prr_target, ''])[x.r], '')
    FROM (
        SELECT c.id, c.device_id, c.retention_class,
               CASE WHEN pc.mode IS NOT NULL THEN 1 WHEN pd.mode IS NOT NULL THEN 2 WHEN dp.mode IS NOT NULL THEN 3
                    WHEN pr.mode IS NOT NULL THEN 4 WHEN pdef.mode IS NOT NULL THEN 5 END AS m,
               CASE WHEN pc.retention_days IS NOT NULL THEN 1 WHEN pd.retention_days IS NOT NULL THEN 2
                    WHEN dp.ret IS NOT NULL THEN 3 WHEN prr.retention_days IS NOT NULL THEN 4
                    WHEN pdef.retention_days IS NOT NULL THEN 5 END AS r,
               pc.mode AS pc_mode, pc.schedule AS pc_sched, pc.retention_days AS pc_ret, pc.target AS pc_target,
               pd.mode AS pd_mode, pd.schedule AS pd_sched, pd.retention_days AS pd_ret, pd.target AS pd_target,
               dp.mode AS dp_mode, dp.schedule AS dp_sched, dp.ret AS dp_ret, dp.target AS dp_target,
               dp.ret_target AS dp_ret_target,
               pr.mode AS pr_mode, pr.schedule AS pr_sched, pr.target AS pr_target,
               prr.retention_days AS prr_ret, prr.target AS prr_target,
               pdef.mode AS pdef_mode, pdef.schedule AS pdef_sched, pdef.retention_days AS pdef_ret
        FROM channels c
        LEFT JOIN channel_owners co ON co.channel_id = c.id
        LEFT JOIN device_owners dow ON dow.device_id = c.device_id
        LEFT JOIN LATERAL (
            SELECT o.department_id FROM region_owners o
            WHERE co.channel_id IS NULL AND dow.device_id IS NULL
              AND o.civil_code IN (left(c.civil_code, 2), left(c.civil_code, 4), left(c.civil_code, 6),
                                   left(c.civil_code, 8), left(c.civil_code, 10))
            ORDER BY length(o.civil_code) DESC LIMIT 1
        ) ro ON true
        LEFT JOIN record_plans pc ON pc.target_kind = 'channel' AND pc.target = c.id
        LEFT JOIN record_plans pd ON pd.target_kind = 'device' AND pd.target = c.device_id
        LEFT JOIN dept_plan dp ON dp.dept = coalesce(co.department_id, dow.department_id, ro.department_id)
        LEFT JOIN LATERAL (
            SELECT p.target, p.mode, p.schedule FROM record_plans p
            WHERE p.target_kind = 'region'
              AND p.target IN (left(c.civil_code, 2), left(c.civil_code, 4), left(c.civil_code, 6),
                               left(c.civil_code, 8), left(c.civil_code, 10))
            ORDER BY length(p.target) DESC LIMIT 1
        ) pr ON true
        LEFT JOIN LATERAL (
            SELECT p.target, p.retention_days FROM record_plans p
            WHERE p.target_kind = 'region' AND p.retention_days IS NOT NULL
              AND p.target IN (left(c.civil_code, 2), left(c.civil_code, 4), left(c.civil_code, 6),
                               left(c.civil_code, 8), left(c.civil_code, 10))
            ORDER BY length(p.target) DESC LIMIT 1
        ) prr ON true
        LEFT JOIN record_plans pdef ON pdef.target_kind = 'default' AND pdef.target = ''
        WHERE length(c.id) = 20 AND substr(c.id, 11, 3) NOT IN ('215', '216')
    ) x
$$;
-- +goose StatementEnd

-- record_windows is the one definition of when a plan records, in SQL (Go:
-- recordingdb.Plan.Active): the planned time within [from_at, to_at) as a
-- multirange. 'always' is all of it, 'off' none, 'schedule' the union of
-- the weekly windows in time zone tz (an IANA name), each window belonging
-- to the day it starts on ("end" <= "start" ends the next day).
-- +goose StatementBegin
CREATE FUNCTION record_windows(mode text, schedule jsonb, from_at timestamptz, to_at timestamptz, tz text)
RETURNS tstzmultirange
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN from_at >= to_at OR mode = 'off' THEN '{}'::tstzmultirange
        WHEN mode = 'always' THEN tstzmultirange(tstzrange(from_at, to_at))
        ELSE coalesce((
            SELECT range_agg(w.r * tstzrange(from_at, to_at))
            FROM (
                SELECT tstzrange((day + (e ->> 'start')::time) AT TIME ZONE tz,
                                 (CASE WHEN (e ->> 'end')::time <= (e ->> 'start')::time THEN day + 1 ELSE day END
                                  + (e ->> 'end')::time) AT TIME ZONE tz) AS r
                FROM generate_series(0, (to_at AT TIME ZONE tz)::date - (from_at AT TIME ZONE tz)::date + 1) AS g (n),
                     LATERAL (SELECT (from_at AT TIME ZONE tz)::date - 1 + g.n AS day) AS dd,
                     jsonb_array_elements(schedule) AS e
                WHERE e -> 'days' @> to_jsonb(extract(isodow FROM day)::int)
            ) w
            WHERE w.r && tstzrange(from_at, to_at)), '{}'::tstzmultirange)
    END
$$;
-- +goose StatementEnd

-- The segment index: one row per segment object, the open one (being
-- written; end_at and bytes follow the fragments) included. expires_at is
-- end_at + retention_days (whole 24 h days, the retention class at the time
-- it was written); deleting marks rows the sweeper is removing.
CREATE TABLE recordings (
    id             bigserial PRIMARY KEY,
    channel_id     text NOT NULL,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL,
    open           boolean NOT NULL DEFAULT true,
    bytes          bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    object_key     text NOT NULL UNIQUE CHECK (object_key <> ''),
    store          text NOT NULL DEFAULT '',
    -- As received (internal/recorder/segment's names); G.711 is kept as
    -- LPCM in the file, fMP4 having no G.711.
    video_codec    text NOT NULL DEFAULT '' CHECK (video_codec IN ('', 'h264', 'h265')),
    audio_codec    text NOT NULL DEFAULT '' CHECK (audio_codec IN ('', 'g711a', 'g711u', 'aac')),
    width          integer NOT NULL DEFAULT 0 CHECK (width >= 0),
    height         integer NOT NULL DEFAULT 0 CHECK (height >= 0),
    retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 36500),
    expires_at     timestamptz NOT NULL,
    node           text NOT NULL DEFAULT '',
    deleting       boolean NOT NULL DEFAULT false,
    CHECK (end_at >= start_at)
);
-- A channel's time range is read from the index alone (end_at and deleting
-- included, index-only scans): rows of one channel are spread over as many
-- heap pages as segments, since all channels write at once. Measured at 10
-- million rows (recordingdb BenchmarkTimeline, docs/benchmarks.md): far
-- faster than the same btree without them, and BRIN on start_at is useless.
CREATE INDEX recordings_channel_start_idx ON recordings (channel_id, start_at) INCLUDE (end_at, deleting);
CREATE INDEX recordings_expires_idx ON recordings (expires_at) WHERE NOT deleting;
-- The bytes written since a time (the capacity guard's write rate) and the
-- segments past recorder.retention_limit are ranges of start_at: segments
-- are inserted in time order, so a BRIN index (a few pages) serves them
-- (recordingdb BenchmarkBytesWritten, docs/benchmarks.md).
CREATE INDEX recordings_start_brin_idx ON recordings USING brin (start_at);
CREATE INDEX recordings_deleting_idx ON recordings (id) WHERE deleting;
CREATE INDEX recordings_open_idx ON recordings (node, channel_id) WHERE open;

-- Every hole a plan says should be recorded, with its cause; end_at NULL
-- while the hole lasts.
CREATE TABLE recording_gaps (
    id         bigserial PRIMARY KEY,
    channel_id text NOT NULL,
    start_at   timestamptz NOT NULL,
    end_at     timestamptz,
    cause      text NOT NULL
               CHECK (cause IN ('camera_offline', 'stream_error', 'recorder_down', 'storage_error', 'plan_off')),
    detail     text NOT NULL DEFAULT '',
    node       text NOT NULL DEFAULT '',
    CHECK (end_at IS NULL OR end_at >= start_at)
);
CREATE INDEX recording_gaps_channel_start_idx ON recording_gaps (channel_id, start_at);
CREATE INDEX recording_gaps_open_idx ON recording_gaps (channel_id) WHERE end_at IS NULL;

-- Recorder nodes and the leases by which they share the channels. Expiry is
-- the database's clock (now()), never a node's.
CREATE TABLE recorder_nodes (
    node         text PRIMARY KEY CHECK (node <> ''),
    url          text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    -- The node's retention settings (recorder config), published so that
    -- the console shows what the recorders keep.
    standard_days   integer NOT NULL DEFAULT 30 CHECK (standard_days >= 1),
    key_days        integer NOT NULL DEFAULT 90 CHECK (key_days >= 1),
    retention_limit interval CHECK (retention_limit >= interval '0'), -- NULL or 0: none
    -- The node's last capacity reading (the guard's event, JSON), kept so
    -- that a console page loaded later shows the storage alarm; NULL
    -- before the first.
    capacity jsonb CHECK (capacity IS NULL OR jsonb_typeof(capacity) = 'object')
);
CREATE TABLE recorder_leases (
    channel_id  text PRIMARY KEY,
    node        text NOT NULL CHECK (node <> ''),
    acquired_at timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX recorder_leases_node_idx ON recorder_leases (node);

-- record_plans_changed tells the recorders (store.ChannelRecordPlans) that
-- what effective_record_plans returns may have changed: a plan, or the
-- ownership that picks a channel's department plan. One notification per
-- statement, sent at commit; the writers need not know.
-- +goose StatementBegin
CREATE FUNCTION record_plans_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sharpeyes_record_plans', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER record_plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON record_plans
    FOR EACH STATEMENT EXECUTE FUNCTION record_plans_changed();
CREATE TRIGGER record_plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON channel_owners
    FOR EACH STATEMENT EXECUTE FUNCTION record_plans_changed();
CREATE TRIGGER record_plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON device_owners
    FOR EACH STATEMENT EXECUTE FUNCTION record_plans_changed();
CREATE TRIGGER record_plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON region_owners
    FOR EACH STATEMENT EXECUTE FUNCTION record_plans_changed();
CREATE TRIGGER record_plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON departments
    FOR EACH STATEMENT EXECUTE FUNCTION record_plans_changed();

-- +goose Down
DROP TRIGGER record_plans_changed ON departments;
DROP TRIGGER record_plans_changed ON region_owners;
DROP TRIGGER record_plans_changed ON device_owners;
DROP TRIGGER record_plans_changed ON channel_owners;
DROP TRIGGER record_plans_changed ON record_plans;
DROP FUNCTION record_plans_changed();
DROP TABLE recorder_leases;
DROP TABLE recorder_nodes;
DROP TABLE recording_gaps;
DROP TABLE recordings;
DROP FUNCTION record_windows(text, jsonb, timestamptz, timestamptz, text);
DROP FUNCTION effective_record_plans(integer, integer);
DROP TABLE record_plans;
DROP FUNCTION record_schedule_valid(jsonb);
