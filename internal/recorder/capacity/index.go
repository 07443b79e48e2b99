package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// ChannelCapacity is the PostgreSQL notification channel of the storage
// alarm: an Event (JSON) each time a node's alarm is raised or cleared, and
// at the node's first reading.
const ChannelCapacity = "sharpeyes_recorder_capacity"

// Event is the payload on ChannelCapacity.
type Event struct {
	Node  string `json:"node"`
	Alarm bool   `json:"alarm"`
	// HeadroomDays is null when unknown (free space unknown) or unbounded
	// (nothing written).
	HeadroomDays    *float64  `json:"headroom_days"`
	WarnDays        float64   `json:"warn_days"`
	FreeBytes       int64     `json:"free_bytes"`
	TotalBytes      int64     `json:"total_bytes"`
	BytesPerDay     int64     `json:"bytes_per_day"`
	OverwriteOldest bool      `json:"overwrite_oldest"`
	At              time.Time `json:"at"`
}

// Notifier is the guard's Reporter over the recorder's database: a NOTIFY
// on ChannelCapacity.
type Notifier struct {
	DB *recordingdb.DB
}

// ReportCapacity publishes e on ChannelCapacity.
func (n Notifier) ReportCapacity(ctx context.Context, e Event) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("capacity event: %w", err)
	}
	if _, err := n.DB.Pool.Exec(ctx, `SELECT pg_notify($1, $2)`, ChannelCapacity, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", ChannelCapacity, err)
	}
	return nil
}
