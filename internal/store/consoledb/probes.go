package consoledb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// Triggers of a probe.
const (
	ProbeManual   = "manual"
	ProbeSchedule = "schedule"
)

// MaxProbes bounds one listing of a channel's probes.
const MaxProbes = 10_000

// Probe is one probe's finding, as the probes table keeps it.
type Probe struct {
	ID        int64
	ChannelID string
	At        time.Time
	Reachable bool
	// FirstFrameMS is nil when no frame came.
	FirstFrameMS  *int64
	Codec         string
	Width, Height int
	Faults        []string
	// Measures is the picture's measures as JSON (vqd.Measures), nil
	// when unreachable.
	Measures    json.RawMessage
	Error       string
	Trigger     string
	RequestedBy string
}

const probeColumns = `id, channel_id, at, reachable, first_frame_ms, codec, width, height, faults, measures, error, trigger,
	requested_by`

// AddProbe appends a probe's finding, opens a fault interval for each of
// its faults not open yet and closes the channel's open ones it no longer
// shows, and, with a thumbnail, makes it the channel's picture, in one
// transaction; it returns the row's ID. A finding older than the channel's
// latest one leaves the intervals as they are (it came late).
func (db *DB) AddProbe(ctx context.Context, p Probe, thumbnail []byte) (int64, error) {
	if p.Faults == nil {
		p.Faults = []string{}
	}
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("add probe of %s: %w", p.ChannelID, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO probes (channel_id, at, reachable, first_frame_ms, codec, width, height, faults,
	measures, error, trigger, requested_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		p.ChannelID, p.At, p.Reachable, p.FirstFrameMS, p.Codec, p.Width, p.Height, p.Faults, p.Measures, p.Error,
		p.Trigger, p.RequestedBy).Scan(&id); err != nil {
		return 0, fmt.Errorf("add probe of %s: %w", p.ChannelID, err)
	}
	if err := trackFaults(ctx, tx, id, p); err != nil {
		return 0, err
	}
	if len(thumbnail) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO channel_thumbnails (channel_id, at, jpeg) VALUES ($1, $2, $3)
ON CONFLICT (channel_id) DO UPDATE SET at = excluded.at, jpeg = excluded.jpeg WHERE channel_thumbnails.at <= excluded.at`,
			p.ChannelID, p.At, thumbnail); err != nil {
			return 0, fmt.Errorf("thumbnail of %s: %w", p.ChannelID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("add probe of %s: %w", p.ChannelID, err)
	}
	return id, nil
}

// Probes returns channel's probes at from or later and before to, oldest
// first, at most MaxProbes.
func (db *DB) Probes(ctx context.Context, channel string, from, to time.Time) ([]Probe, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("probes of %s: from not before to: %w", channel, store.ErrInvalid)
	}
	rows, err := db.Pool.Query(ctx, `SELECT `+probeColumns+` FROM probes WHERE channel_id = $1 AND at >= $2 AND at < $3
ORDER BY at, id LIMIT $4`, channel, from, to, MaxProbes)
	if err != nil {
		return nil, fmt.Errorf("probes of %s: %w", channel, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Probe, error) {
		var p Probe
		var ms *int32
		err := r.Scan(&p.ID, &p.ChannelID, &p.At, &p.Reachable, &ms, &p.Codec, &p.Width, &p.Height, &p.Faults, &p.Measures,
			&p.Error, &p.Trigger, &p.RequestedBy)
		if ms != nil {
			v := int64(*ms)
			p.FirstFrameMS = &v
		}
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("probes of %s: %w", channel, err)
	}
	return out, nil
}

// Thumbnail returns channel's last picture and when it was taken;
// store.ErrNotFound before its first reachable probe.
func (db *DB) Thumbnail(ctx context.Context, channel string) ([]byte, time.Time, error) {
	var b []byte
	var at time.Time
	err := db.Pool.QueryRow(ctx, `SELECT jpeg, at FROM channel_thumbnails WHERE channel_id = $1`, channel).Scan(&b, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("thumbnail of %s: %w", channel, store.ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("thumbnail of %s: %w", channel, err)
	}
	return b, at, nil
}

// trackFaults opens and closes channel p's fault intervals at probe id.
func trackFaults(ctx context.Context, tx pgx.Tx, id int64, p Probe) error {
	// Serialized per channel: two probes of one channel at once would
	// both open the same interval.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('probe:' || $1, 0))`, p.ChannelID); err != nil {
		return fmt.Errorf("fault intervals of %s: %w", p.ChannelID, err)
	}
	var later bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM probes WHERE channel_id = $1 AND at > $2)`, p.ChannelID, p.At).
		Scan(&later); err != nil {
		return fmt.Errorf("fault intervals of %s: %w", p.ChannelID, err)
	}
	if later {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE fault_intervals SET closed_at = greatest($3, opened_at), closed_by_probe = $4
WHERE channel_id = $1 AND closed_at IS NULL AND NOT fault = ANY ($2::text[])`, p.ChannelID, p.Faults, p.At, id); err != nil {
		return fmt.Errorf("close fault intervals of %s: %w", p.ChannelID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO fault_intervals (channel_id, fault, opened_at, opened_by_probe)
SELECT $1, f, $3, $4 FROM unnest($2::text[]) AS f
ON CONFLICT (channel_id, fault) WHERE closed_at IS NULL DO NOTHING`, p.ChannelID, p.Faults, p.At, id); err != nil {
		return fmt.Errorf("open fault intervals of %s: %w", p.ChannelID, err)
	}
	return nil
}

// FaultInterval is a stretch of time a channel showed a fault.
type FaultInterval struct {
	ChannelID, Fault string
	OpenedAt         time.Time
	// ClosedAt is nil while the fault lasts.
	ClosedAt *time.Time
}

// FaultIntervals returns channel's fault intervals that overlap [from, to),
// by their start, at most MaxProbes.
func (db *DB) FaultIntervals(ctx context.Context, channel string, from, to time.Time) ([]FaultInterval, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("faults of %s: from not before to: %w", channel, store.ErrInvalid)
	}
	rows, err := db.Pool.Query(ctx, `SELECT channel_id, fault, opened_at, closed_at FROM fault_intervals
WHERE channel_id = $1 AND opened_at < $3 AND (closed_at IS NULL OR closed_at > $2) ORDER BY opened_at, id LIMIT $4`,
		channel, from, to, MaxProbes)
	if err != nil {
		return nil, fmt.Errorf("faults of %s: %w", channel, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FaultInterval, error) {
		var f FaultInterval
		err := r.Scan(&f.ChannelID, &f.Fault, &f.OpenedAt, &f.ClosedAt)
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("faults of %s: %w", channel, err)
	}
	return out, nil
}
