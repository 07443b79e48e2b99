-- +goose Up
-- A superior platform's virtual organisation (GB/T 28181 业务分组 215 and
-- 虚拟组织 216): the groups it sees our shared channels under instead of
-- our own tree, and which group each channel hangs under. Written by the
-- console; the sipserver builds that platform's catalog from it.
CREATE TABLE platform_groups (
    platform_id bigint NOT NULL REFERENCES cascade_platforms (id) ON DELETE CASCADE,
    group_id    text NOT NULL CHECK (group_id ~ '^[0-9]{10}21[56][0-9]{7}$'),
    name        text NOT NULL CHECK (name <> '' AND length(name) <= 128),
    -- '' for a business group (215); the group above a virtual
    -- organisation (216).
    parent_id   text NOT NULL DEFAULT '',
    PRIMARY KEY (platform_id, group_id)
);
CREATE TABLE platform_group_channels (
    platform_id bigint NOT NULL,
    channel_id  text NOT NULL CHECK (channel_id <> '' AND length(channel_id) <= 64),
    group_id    text NOT NULL,
    PRIMARY KEY (platform_id, channel_id),
    FOREIGN KEY (platform_id, group_id) REFERENCES platform_groups (platform_id, group_id) ON DELETE CASCADE
);
CREATE TRIGGER cascade_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON platform_groups
    FOR EACH STATEMENT EXECUTE FUNCTION cascade_changed();
CREATE TRIGGER cascade_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON platform_group_channels
    FOR EACH STATEMENT EXECUTE FUNCTION cascade_changed();

-- +goose Down
DROP TABLE platform_group_channels;
DROP TABLE platform_groups;
