-- +goose Up
-- The stretches of time a channel showed a fault, opened by the probe that
-- first found it and closed by the first probe that no longer did: what
-- the fault hours per channel and month are summed from. Written by the
-- console, in the transaction of the probe's row.
CREATE TABLE fault_intervals (
    id              bigserial PRIMARY KEY,
    channel_id      text NOT NULL CHECK (channel_id <> '' AND length(channel_id) <= 64),
    -- A probe's fault code (vqd's, or unreachable).
    fault           text NOT NULL CHECK (fault <> '' AND length(fault) <= 32),
    opened_at       timestamptz NOT NULL,
    opened_by_probe bigint NOT NULL REFERENCES probes (id),
    closed_at       timestamptz CHECK (closed_at >= opened_at),
    closed_by_probe bigint REFERENCES probes (id),
    CHECK ((closed_at IS NULL) = (closed_by_probe IS NULL))
);
-- One open interval per channel and fault.
CREATE UNIQUE INDEX fault_intervals_open_idx ON fault_intervals (channel_id, fault) WHERE closed_at IS NULL;
CREATE INDEX fault_intervals_channel_idx ON fault_intervals (channel_id, opened_at);

-- +goose Down
DROP TABLE fault_intervals;
