package scheduler

import "time"

// Lease is a channel the node has taken to record, as the scheduler hands it
// to its Parent.
type Lease struct {
	// ChannelID is the channel to record.
	ChannelID string
	// RetentionDays is the channel's effective retention when the lease was
	// taken: the segments written under it keep this class.
	RetentionDays int
	// AcquiredAt is when this node took the lease (the database's clock).
	AcquiredAt time.Time
	// PreviousNode is the node that held the channel before and died (its
	// lease expired); "" when the lease was free.
	PreviousNode string
	// PreviousEnd is the end of PreviousNode's last segment of the channel;
	// zero when it wrote none. The hole from PreviousEnd to the first
	// segment of this node is the recorder_down gap the parent records.
	PreviousEnd time.Time
}

// StopReason says why the scheduler stops a channel.
type StopReason string

// Reasons of Parent.Stop.
const (
	// StopPlanOff: the channel's plan is no longer active now (mode off, or
	// outside the schedule). The scheduler records the plan_off gap itself
	// once Stop has returned.
	StopPlanOff StopReason = "plan_off"
	// StopLeaseLost: the lease could not be renewed (another node took it
	// after this node failed to renew in time). The parent stops at once:
	// the other node records now.
	StopLeaseLost StopReason = "lease_lost"
	// StopClosing: the scheduler is closing (the service stops). The
	// scheduler opens a recorder_down gap once Stop has returned (closed
	// by the parent of the node that records the channel next, at its
	// first segment) and releases the lease.
	StopClosing StopReason = "closing"
)

// Parent is what the scheduler drives: the recorder (recorder.Run), which
// records the channels it is given. Start and Stop are called from the
// scheduler's one goroutine, never concurrently, in the order of the
// decisions; Stop returns when the channel's last segment is closed.
type Parent interface {
	// Start begins recording lease.ChannelID. The parent closes the
	// channel's open gaps (plan_off, a stopped node's recorder_down) where
	// its recording begins — its first segment, or its own first gap. When
	// lease.PreviousNode is set, the parent records the recorder_down gap
	// from lease.PreviousEnd to its first segment.
	Start(channelID string, lease Lease)
	// Stop ends recording channelID.
	Stop(channelID string, reason StopReason)
}
