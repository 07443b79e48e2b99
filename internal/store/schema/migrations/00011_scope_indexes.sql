-- +goose Up
-- The index behind the region camera sets of user_scopes (catalogview's
-- channelSet): the channels whose civil code starts with a region's code
-- are a range of civil codes in byte order, read with COLLATE "C" whatever
-- the database's collation, so a region's channels cost as many index
-- entries as they are, not a scan of the catalog. It carries the channel's
-- key, so the slice is read from the index alone.
CREATE INDEX channels_civil_code_c_idx ON channels (civil_code COLLATE "C") INCLUDE (device_id, id);

-- +goose Down
DROP INDEX channels_civil_code_c_idx;
