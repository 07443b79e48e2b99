-- +goose Up
-- channel_state is what every reader means by a channel: its row with the
-- online state it effectively has. A channel is online only when its own
-- status says so and its device (camera, NVR, lower platform) is online: a
-- camera behind an offline NVR cannot be reached. Readers (sipserver's API,
-- the console's lists, tree and events) read channels through this view,
-- never the table, so the rule lives in one place (internal/store/catalogview).
-- A migration that adds a channels column recreates the view with it.
CREATE VIEW channel_state AS
SELECT c.device_id, c.id, c.name, c.manufacturer, c.model, c.owner, c.civil_code, c.address, c.parental,
       c.parent_id, c.business_group_id, c.secrecy, c.ip_address, c.port, c.status,
       (c.online AND d.online) AS online,
       c.longitude, c.latitude, c.ptz_type, c.retention_class, c.extra, c.stream_transport,
       c.created_at, c.updated_at
FROM channels c
JOIN devices d ON d.id = c.device_id;

-- +goose Down
DROP VIEW channel_state;
