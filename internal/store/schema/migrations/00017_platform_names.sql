-- +goose Up
-- The IDs and names a superior platform knows our channels by (GB/T 28181
-- cascade: a county's camera renumbered into the city's plan). A channel
-- without a row is shown as it is. Written by the console; the sipserver
-- translates every ID it shows the superior or reads from it.
CREATE TABLE platform_channel_names (
    platform_id  bigint NOT NULL REFERENCES cascade_platforms (id) ON DELETE CASCADE,
    channel_id   text NOT NULL CHECK (channel_id <> '' AND length(channel_id) <= 64),
    exposed_id   text NOT NULL CHECK (exposed_id ~ '^[0-9]{20}$'),
    -- '' keeps our name.
    exposed_name text NOT NULL DEFAULT '' CHECK (length(exposed_name) <= 128),
    PRIMARY KEY (platform_id, channel_id),
    UNIQUE (platform_id, exposed_id)
);
CREATE TRIGGER cascade_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON platform_channel_names
    FOR EACH STATEMENT EXECUTE FUNCTION cascade_changed();

-- +goose Down
DROP TRIGGER cascade_changed ON platform_channel_names;
DROP TABLE platform_channel_names;
