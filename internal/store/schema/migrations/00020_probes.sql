-- +goose Up
-- Camera health probes (issue 16): every probe's finding, append-only, and
-- each channel's last picture. Written by the console; the availability
-- figures are computed from these rows and can be recomputed from them.
CREATE TABLE probes (
    id             bigserial PRIMARY KEY,
    channel_id     text NOT NULL CHECK (channel_id <> '' AND length(channel_id) <= 64),
    at             timestamptz NOT NULL,
    reachable      boolean NOT NULL,
    -- From the probe's start to its first decoded frame; NULL when none.
    first_frame_ms integer CHECK (first_frame_ms >= 0),
    codec          text NOT NULL DEFAULT '',
    width          integer NOT NULL DEFAULT 0 CHECK (width >= 0),
    height         integer NOT NULL DEFAULT 0 CHECK (height >= 0),
    -- The fault codes (vqd's, and "unreachable"); none for a good picture.
    faults         text[] NOT NULL DEFAULT '{}',
    -- The picture's measures the faults were decided on (vqd.Measures).
    measures       jsonb,
    error          text NOT NULL DEFAULT '',
    trigger        text NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    -- Who asked, for a manual probe.
    requested_by   text NOT NULL DEFAULT ''
);
CREATE INDEX probes_channel_at_idx ON probes (channel_id, at);
CREATE INDEX probes_at_idx ON probes (at);
-- Append-only: a finding is never changed, and none younger than 400 days
-- (a year's figures and their month of grace) is deleted or truncated away.
-- +goose StatementBegin
CREATE FUNCTION probes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < now() - interval '400 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'probes are append-only (%)', TG_OP;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER probes_append_only BEFORE UPDATE OR DELETE ON probes
    FOR EACH ROW EXECUTE FUNCTION probes_append_only();
CREATE TRIGGER probes_no_truncate BEFORE TRUNCATE ON probes
    FOR EACH STATEMENT EXECUTE FUNCTION probes_append_only();

CREATE TABLE channel_thumbnails (
    channel_id text PRIMARY KEY CHECK (channel_id <> '' AND length(channel_id) <= 64),
    at         timestamptz NOT NULL,
    jpeg       bytea NOT NULL CHECK (length(jpeg) <= 1048576)
);

-- +goose Down
DROP TABLE channel_thumbnails;
DROP TRIGGER probes_no_truncate ON probes;
DROP TRIGGER probes_append_only ON probes;
DROP FUNCTION probes_append_only();
DROP TABLE probes;
