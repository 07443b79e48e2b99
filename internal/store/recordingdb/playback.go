package recordingdb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// MaxPlaybackSegments bounds what PlaybackSegments returns: 24 h of
// one-second segments (the shortest segment_duration) and then some.
const MaxPlaybackSegments = 100_000

// PlaybackSegments returns channel's segments that overlap [start, end),
// and the open ones that started before end (their indexed end lags what
// is written by up to 10 s), those marked for deletion left out, in time
// order: what a playback of that range plays. As Timeline, it reads one
// range of (channel_id, start_at), from the last segment starting at or
// before start.
func (db *DB) PlaybackSegments(ctx context.Context, channel string, start, end time.Time) ([]Segment, error) {
	if !start.Before(end) {
		return nil, fmt.Errorf("segments of %s: start %v not before end %v: %w", channel, start, end, store.ErrInvalid)
	}
	return db.segments(ctx, "segments of "+channel+" to play", `
SELECT `+segmentColumns+` FROM recordings r
WHERE r.channel_id = $1 AND r.start_at < $3 AND (r.end_at > $2 OR r.open) AND NOT r.deleting
  AND r.start_at >= coalesce((SELECT max(x.start_at) FROM recordings x WHERE x.channel_id = $1 AND x.start_at <= $2),
                             '-infinity')
ORDER BY r.start_at, r.id
LIMIT $4`, channel, start, end, MaxPlaybackSegments)
}

// ChannelSegment returns segment id when it belongs to channel and is not
// marked for deletion, else store.ErrNotFound: a player's URL names both,
// and a segment of another channel is not there for it.
func (db *DB) ChannelSegment(ctx context.Context, channel string, id int64) (Segment, error) {
	segs, err := db.segments(ctx, fmt.Sprintf("segment %d of %s", id, channel),
		`SELECT `+segmentColumns+` FROM recordings WHERE id = $1 AND channel_id = $2 AND NOT deleting`, id, channel)
	if err != nil {
		return Segment{}, err
	}
	if len(segs) == 0 {
		return Segment{}, fmt.Errorf("segment %d of %s: %w", id, channel, store.ErrNotFound)
	}
	return segs[0], nil
}

// NodeURLs returns where each recorder node serves playback, by node name:
// its public URL (recorder.public_url) when it set one, else the URL it
// advertises.
func (db *DB) NodeURLs(ctx context.Context) (map[string]string, error) {
	rows, err := db.Pool.Query(ctx, `SELECT node, coalesce(nullif(public_url, ''), url) FROM recorder_nodes`)
	if err != nil {
		return nil, fmt.Errorf("recorder node URLs: %w", err)
	}
	defer rows.Close()
	urls := map[string]string{}
	for rows.Next() {
		var node, url string
		if err := rows.Scan(&node, &url); err != nil {
			return nil, fmt.Errorf("recorder node URLs: %w", err)
		}
		urls[node] = url
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recorder node URLs: %w", err)
	}
	return urls, nil
}

// dirStorePrefix begins the Store of a segment in a node's own directory
// store (objstore.KindDir + "://" + node, as the recorder names it).
const dirStorePrefix = "dir://"

// HoldingNode returns the node whose directory store holds a segment of
// store (a Segment's Store); ok is false for a shared store (S3) that
// every node reads.
func HoldingNode(store string) (node string, ok bool) {
	return strings.CutPrefix(store, dirStorePrefix)
}
