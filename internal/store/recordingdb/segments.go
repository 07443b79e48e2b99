package recordingdb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Info is what a segment holds: its codecs, as received from the camera
// (the names of the recorder's segment package; the migration's CHECK
// allows no others), and the picture size.
type Info struct {
	// VideoCodec is "h264" or "h265" ("" while not known).
	VideoCodec string
	// AudioCodec is "g711a", "g711u" or "aac" ("" for none). G.711 is
	// stored as 16-bit LPCM in the segment (fMP4 has no G.711); the name
	// says what the camera sent.
	AudioCodec string
	Width      int
	Height     int
}

// valid tells whether i's codec names and size are ones the index keeps.
func (i Info) valid() bool {
	return slices.Contains([]string{"", "h264", "h265"}, i.VideoCodec) &&
		slices.Contains([]string{"", "g711a", "g711u", "aac"}, i.AudioCodec) && i.Width >= 0 && i.Height >= 0
}

// Segment is one row of the index: one segment object of one channel.
type Segment struct {
	ID        int64
	ChannelID string
	Start     time.Time
	End       time.Time
	// Open is the segment being written: End and Bytes follow its
	// fragments.
	Open bool
	// Bytes is the object's size as far as indexed.
	Bytes int64
	// ObjectKey is the object's key in the store named by Store
	// ("<channel>/<YYYY>/<MM>/<DD>/<HHMMSS.mmm>.mp4").
	ObjectKey string
	Store     string
	Info
	// RetentionDays is the channel's retention when the segment was
	// written; ExpiresAt is End plus that many 24-hour days.
	RetentionDays int
	ExpiresAt     time.Time
	// Node is the recorder node that wrote it.
	Node     string
	Deleting bool
}

const segmentColumns = `id, channel_id, start_at, end_at, open, bytes, object_key, store, video_codec, audio_codec,
	width, height, retention_days, expires_at, node, deleting`

func scanSegment(row pgx.CollectableRow) (Segment, error) {
	var s Segment
	err := row.Scan(&s.ID, &s.ChannelID, &s.Start, &s.End, &s.Open, &s.Bytes, &s.ObjectKey, &s.Store,
		&s.VideoCodec, &s.AudioCodec, &s.Width, &s.Height, &s.RetentionDays, &s.ExpiresAt, &s.Node, &s.Deleting)
	return s, err
}

func (db *DB) segments(ctx context.Context, what, query string, args ...any) ([]Segment, error) {
	rows, err := db.Pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	segs, err := pgx.CollectRows(rows, scanSegment)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return segs, nil
}

// OpenSegment indexes a segment the recorder starts writing (open; End at
// least Start) and returns its ID. ID, Open, ExpiresAt and Deleting of s are
// ignored.
func (db *DB) OpenSegment(ctx context.Context, s Segment) (int64, error) {
	if s.ChannelID == "" || s.ObjectKey == "" || s.Start.IsZero() || s.RetentionDays < 1 || s.Bytes < 0 ||
		!s.valid() {
		return 0, fmt.Errorf("open segment %q of %q: %w", s.ObjectKey, s.ChannelID, store.ErrInvalid)
	}
	if s.End.Before(s.Start) {
		s.End = s.Start
	}
	var id int64
	err := db.Pool.QueryRow(ctx, `
INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, store, video_codec, audio_codec,
	width, height, retention_days, expires_at, node)
VALUES ($1, $2, $3::timestamptz, true, $4, $5, $6, $7, $8, $9, $10, $11::integer, $3::timestamptz + $11::integer * interval '24 hours', $12)
RETURNING id`, s.ChannelID, s.Start, s.End, s.Bytes, s.ObjectKey, s.Store, s.VideoCodec, s.AudioCodec,
		s.Width, s.Height, s.RetentionDays, s.Node).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("open segment %s: %w", s.ObjectKey, err)
	}
	return id, nil
}

// ExtendSegment records that open segment id now reaches end with bytes
// written (a fragment landed). It returns store.ErrNotFound when no open
// segment has that ID (closed meanwhile, or swept).
func (db *DB) ExtendSegment(ctx context.Context, id int64, end time.Time, bytes int64) error {
	tag, err := db.Pool.Exec(ctx, `
UPDATE recordings SET end_at = greatest($2, start_at), bytes = $3,
	expires_at = greatest($2, start_at) + retention_days * interval '24 hours'
WHERE id = $1 AND open`, id, end, bytes)
	if err != nil {
		return fmt.Errorf("extend segment %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("extend segment %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// CloseSegment finishes segment id at end with bytes and what it holds.
// Closing a closed segment again is allowed (repair after a crash between
// the commit and the index): the last call wins. It returns
// store.ErrNotFound when the row is gone.
func (db *DB) CloseSegment(ctx context.Context, id int64, end time.Time, bytes int64, info Info) error {
	if bytes < 0 || !info.valid() {
		return fmt.Errorf("close segment %d: %w", id, store.ErrInvalid)
	}
	tag, err := db.Pool.Exec(ctx, `
UPDATE recordings SET open = false, end_at = greatest($2, start_at), bytes = $3,
	video_codec = $4, audio_codec = $5, width = $6, height = $7,
	expires_at = greatest($2, start_at) + retention_days * interval '24 hours'
WHERE id = $1 AND NOT deleting`, id, end, bytes, info.VideoCodec, info.AudioCodec, info.Width, info.Height)
	if err != nil {
		return fmt.Errorf("close segment %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("close segment %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Segment returns segment id, or store.ErrNotFound.
func (db *DB) Segment(ctx context.Context, id int64) (Segment, error) {
	segs, err := db.segments(ctx, fmt.Sprintf("segment %d", id),
		`SELECT `+segmentColumns+` FROM recordings WHERE id = $1`, id)
	if err != nil {
		return Segment{}, err
	}
	if len(segs) == 0 {
		return Segment{}, fmt.Errorf("segment %d: %w", id, store.ErrNotFound)
	}
	return segs[0], nil
}

// OpenSegments returns node's open segments, oldest first: what it was
// writing when it stopped, to repair at its start (scan the local file, cut
// after the last complete fragment, commit, CloseSegment).
func (db *DB) OpenSegments(ctx context.Context, node string) ([]Segment, error) {
	return db.segments(ctx, "open segments of "+node,
		`SELECT `+segmentColumns+` FROM recordings WHERE open AND node = $1 ORDER BY start_at, id`, node)
}

// DeleteOpenSegment removes the row of open segment id: repair found no
// complete fragment in its file, so there is nothing to index. A row closed
// meanwhile, or already gone, is left alone.
func (db *DB) DeleteOpenSegment(ctx context.Context, id int64) error {
	if _, err := db.Pool.Exec(ctx, `DELETE FROM recordings WHERE id = $1 AND open`, id); err != nil {
		return fmt.Errorf("delete open segment %d: %w", id, err)
	}
	return nil
}

// BytesWritten returns the bytes of the segments of objectStore started
// since since, by every node writing there, and the start of the first of
// them (zero when none): the write rate the capacity guard projects onto
// that store's free space is bytes over the time since first — a store
// that began recording within the window has written for less than it.
// One range read over start_at (recordings_start_brin_idx).
func (db *DB) BytesWritten(ctx context.Context, objectStore string, since time.Time) (int64, time.Time, error) {
	var n int64
	var first *time.Time
	if err := db.Pool.QueryRow(ctx, `SELECT coalesce(sum(bytes), 0)::bigint, min(start_at) FROM recordings
WHERE start_at >= $2 AND store = $1`, objectStore, since).Scan(&n, &first); err != nil {
		return 0, time.Time{}, fmt.Errorf("bytes written to %s since %s: %w", objectStore, since.Format(time.RFC3339), err)
	}
	if first == nil {
		return n, time.Time{}, nil
	}
	return n, *first, nil
}
