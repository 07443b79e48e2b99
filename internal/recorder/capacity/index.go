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

// Notifier is the guard's Reporter over the recorder's database: the
// node's capacity state (recordingdb.SetCapacity, read by the console's
// GET /recorders), and a NOTIFY on ChannelCapacity when it changed.
type Notifier struct {
	DB *recordingdb.DB
}

// ReportCapacity stores e as its node's state and, when changed, publishes
// it on ChannelCapacity in the same statement.
func (n Notifier) ReportCapacity(ctx context.Context, e Event, changed bool) error {
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("capacity event: %w", err)
	}
	channel := ""
	if changed {
		channel = ChannelCapacity
	}
	if err := n.DB.SetCapacity(ctx, e.Node, payload, channel); err != nil {
		return fmt.Errorf("report capacity: %w", err)
	}
	return nil
}
