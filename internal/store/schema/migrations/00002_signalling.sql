-- +goose Up
-- When the device last answered a full catalog query; the sipserver re-queries stale ones.
ALTER TABLE devices ADD COLUMN last_catalog_at timestamptz;
-- Keepalives rewrite every device row about once a minute; room left
-- in each page lets those updates stay on the page (HOT) instead of growing the indexes.
ALTER TABLE devices SET (fillfactor = 80);

-- Alarm notifications (MANSCDP Alarm) as the devices report them.
CREATE TABLE alarms (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,                          -- the device that sent it; no FK: alarms outlive devices
    channel_id  text NOT NULL DEFAULT '',               -- the alarm's DeviceID element (channel or alarm input)
    priority    smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 4), -- 1 highest … 4, 0 unknown
    method      text NOT NULL DEFAULT '',               -- 1 phone, 2 device, 3 SMS, 4 GPS, 5 video, 6 fault, 7 other
    type        text NOT NULL DEFAULT '',               -- AlarmType, meaning depends on method
    description text NOT NULL DEFAULT '',
    longitude   double precision,
    latitude    double precision,
    at          timestamptz NOT NULL,                   -- AlarmTime, the device's clock
    received_at timestamptz NOT NULL DEFAULT now(),
    extra       jsonb NOT NULL DEFAULT '{}'             -- fields without a column of their own (Info, …)
);
CREATE INDEX alarms_device_at_idx ON alarms (device_id, at);
CREATE INDEX alarms_at_idx ON alarms (at);

-- Mobile position notifications (MANSCDP MobilePosition) of vehicle and body cameras.
CREATE TABLE mobile_positions (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL,                          -- no FK, like alarms
    target_id   text NOT NULL DEFAULT '',               -- the notification's DeviceID element
    at          timestamptz NOT NULL,                   -- Time, the device's clock
    longitude   double precision NOT NULL,
    latitude    double precision NOT NULL,
    speed       double precision,                       -- km/h
    direction   double precision,                       -- degrees clockwise from north
    altitude    double precision,                       -- metres
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mobile_positions_device_at_idx ON mobile_positions (device_id, at);

-- +goose Down
DROP TABLE mobile_positions;
DROP TABLE alarms;
ALTER TABLE devices RESET (fillfactor);
ALTER TABLE devices DROP COLUMN last_catalog_at;
