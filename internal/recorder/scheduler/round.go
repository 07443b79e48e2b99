package scheduler

import (
	"context"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// orphanRounds is how many consecutive rounds a channel to record must
// stay free before a node takes it beyond its fair share: every live node
// with room runs a round in that time and would have taken it.
const orphanRounds = 2

// round is one pass: heartbeat, renew (stop what was lost), read the plans,
// stop what the plans no longer record, take channels up to the share.
// The first round only heartbeats and renews, so that nodes starting
// together see each other before they share the channels out.
func (s *Scheduler) round() {
	// The parent's Start and Stop may take a while (Stop closes a segment):
	// each database step gets a timeout of its own.
	ctx, cancel := s.dbCtx()
	defer cancel()
	defer func() {
		s.rounds++
		s.heldCount.Store(int64(len(s.held)))
	}()
	beat := recordingdb.Beat{
		Node: s.Node, URL: s.URL, Started: s.rounds == 0,
		Retention: recordingdb.Retention{
			StandardDays: s.Defaults.StandardDays, KeyDays: s.Defaults.KeyDays, Limit: s.RetentionLimit,
		},
	}
	if err := s.DB.Heartbeat(ctx, beat); err != nil {
		s.Log.Warn("recorder heartbeat failed", "node", s.Node, "error", err)
	}
	renewed, err := s.DB.RenewLeases(ctx, s.Node, s.LeaseTTL)
	if err != nil {
		// The leases run on; when the database stays away past their
		// expiry another node may take them, and this one learns it from
		// the next renewal that works.
		s.Log.Warn("cannot renew leases", "node", s.Node, "held", len(s.held), "error", err)
		return
	}
	now := s.Now()
	plans, err := s.plans(ctx, now)
	cancel()
	s.dropLost(renewed)
	if err != nil {
		s.Log.Warn("cannot read record plans; the channels held are kept", "node", s.Node, "error", err)
		return
	}
	active := make(map[string]recordingdb.Plan, len(plans))
	planned := make(map[string]bool, len(plans))
	var candidates []string
	for _, p := range plans {
		planned[p.ChannelID] = true
		if p.Active(now, s.Location) {
			active[p.ChannelID] = p
			candidates = append(candidates, p.ChannelID)
		}
	}
	s.stopInactive(active, planned, now)
	s.adopt(renewed, active)
	if s.rounds == 0 {
		return
	}
	s.acquire(candidates, active, now)
}

// plans returns the effective plans, read again when the catalog or the
// plans changed (notified) or PlanInterval has passed since the last read:
// the plans of every channel are one of the heavier reads.
func (s *Scheduler) plans(ctx context.Context, now time.Time) ([]recordingdb.Plan, error) {
	// Cleared before the read: a change committed during it is read again
	// at the next round.
	changed := s.changed.Swap(false)
	if !changed && s.planCache != nil && s.PlanInterval > 0 && now.Sub(s.plansAt) < s.PlanInterval &&
		!now.Before(s.plansAt) {
		return s.planCache, nil
	}
	plans, err := s.DB.EffectivePlans(ctx, s.Defaults)
	if err != nil {
		if changed {
			s.changed.Store(true)
		}
		return nil, err
	}
	if plans == nil {
		plans = []recordingdb.Plan{}
	}
	s.planCache, s.plansAt = plans, now
	return plans, nil
}

// dropLost stops the channels whose lease another node took.
func (s *Scheduler) dropLost(renewed []string) {
	for ch := range s.held {
		if !slices.Contains(renewed, ch) {
			s.Log.Warn("lease lost to another node; channel stopped", "node", s.Node, "channel_id", ch)
			s.Parent.Stop(ch, StopLeaseLost)
			delete(s.held, ch)
		}
	}
}

// stopInactive stops the held channels whose plan records no longer now
// and gives their leases up. A channel whose plan turned off gets an open
// plan_off gap (whoever records it next closes it); one that is gone from
// the catalog gets none.
func (s *Scheduler) stopInactive(active map[string]recordingdb.Plan, planned map[string]bool, now time.Time) {
	var released []string
	for ch := range s.held {
		if _, ok := active[ch]; ok {
			continue
		}
		s.Parent.Stop(ch, StopPlanOff)
		delete(s.held, ch)
		released = append(released, ch)
		if !planned[ch] {
			s.Log.Info("channel gone from the catalog; recording stopped", "node", s.Node, "channel_id", ch)
			continue
		}
		s.Log.Info("record plan off; recording stopped", "node", s.Node, "channel_id", ch)
		ctx, cancel := s.dbCtx()
		_, _, err := s.DB.OpenGap(ctx, recordingdb.Gap{
			ChannelID: ch, Start: s.gapStart(ctx, ch, now), Cause: recordingdb.CausePlanOff, Node: s.Node,
		})
		cancel()
		if err != nil {
			s.Log.Warn("cannot record plan_off gap", "channel_id", ch, "error", err)
		}
	}
	s.release(released)
}

// adopt takes over the leases the database says this node holds but it
// does not record: its own from before a crash and restart (the
// recorder's repair recorded the hole; the parent closes the gaps the
// crash left open). Those whose plan is off are given up.
func (s *Scheduler) adopt(renewed []string, active map[string]recordingdb.Plan) {
	var released []string
	for _, ch := range renewed {
		if _, ok := s.held[ch]; ok {
			continue
		}
		p, ok := active[ch]
		if !ok {
			released = append(released, ch)
			continue
		}
		now := s.Now()
		s.start(Lease{ChannelID: ch, RetentionDays: p.RetentionDays, AcquiredAt: now})
	}
	s.release(released)
}

// acquire takes free or expired leases of candidates up to the node's fair
// share (candidates over live nodes, rounded up; MaxChannels caps it).
// Beyond the share it takes orphans only — candidates nobody took for
// orphanRounds rounds, because the other nodes are full — so that a
// capped or slow fleet never leaves a channel unrecorded.
func (s *Scheduler) acquire(candidates []string, active map[string]recordingdb.Plan, now time.Time) {
	ctx, cancel := s.dbCtx()
	nodes, err := s.DB.LiveNodes(ctx, s.LeaseTTL)
	cancel()
	if err != nil {
		s.Log.Warn("cannot list live recorder nodes", "node", s.Node, "error", err)
		return
	}
	share := fairShare(len(candidates), len(nodes), s.MaxChannels)
	var free []string
	for _, ch := range candidates {
		if _, ok := s.held[ch]; !ok {
			free = append(free, ch)
		}
	}
	if len(free) == 0 {
		clear(s.waiting)
		return
	}
	taken := s.take(free, share, active, now)
	var orphans []string
	for ch := range s.waiting {
		if _, ok := active[ch]; !ok || taken[ch] {
			delete(s.waiting, ch)
		}
	}
	for _, ch := range free {
		if taken[ch] {
			continue
		}
		s.waiting[ch]++
		if s.waiting[ch] > orphanRounds {
			orphans = append(orphans, ch)
		}
	}
	limit := len(candidates)
	if s.MaxChannels > 0 {
		limit = s.MaxChannels
	}
	if len(orphans) > 0 && len(s.held) < limit {
		for ch := range s.take(orphans, limit, active, now) {
			delete(s.waiting, ch)
		}
	}
}

// take acquires leases of channels until the node holds maxHeld and starts
// them; it returns the channels taken.
func (s *Scheduler) take(channels []string, maxHeld int, active map[string]recordingdb.Plan,
	now time.Time,
) map[string]bool {
	if len(s.held) >= maxHeld {
		return nil
	}
	ctx, cancel := s.dbCtx()
	leases, err := s.DB.AcquireLeases(ctx, s.Node, channels, maxHeld, s.LeaseTTL)
	cancel()
	if err != nil {
		s.Log.Warn("cannot acquire leases", "node", s.Node, "error", err)
		return nil
	}
	taken := make(map[string]bool, len(leases))
	for _, l := range leases {
		taken[l.ChannelID] = true
		lease := Lease{ChannelID: l.ChannelID, RetentionDays: active[l.ChannelID].RetentionDays, AcquiredAt: now}
		if l.PreviousNode != "" && l.PreviousNode != s.Node {
			lease.PreviousNode, lease.PreviousEnd = l.PreviousNode, l.PreviousEnd
			s.Log.Warn("took the channel of a node that stopped renewing; its hole is a recorder_down gap",
				"node", s.Node, "channel_id", l.ChannelID, "previous_node", l.PreviousNode,
				"previous_end", l.PreviousEnd)
		}
		s.start(lease)
	}
	return taken
}

// start records lease's channel. The gaps that explain why it was not
// recorded until now (its plan off, a stopped node, what a crashed node
// left open) stay open: the parent closes them where its recording begins,
// so that no hole is left between the lease and the first segment.
func (s *Scheduler) start(lease Lease) {
	// The parent logs the start, once it records.
	s.held[lease.ChannelID] = lease
	s.Parent.Start(lease.ChannelID, lease)
}

// release gives leases up; a failure leaves them to expire. It runs on a
// context of its own: at Close the run context is over already, and a
// lease given up lets another node take the channel at once.
func (s *Scheduler) release(channels []string) {
	if len(channels) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	if err := s.DB.ReleaseLeases(ctx, s.Node, channels); err != nil {
		s.Log.Warn("cannot release leases; they expire instead", "node", s.Node, "channels", len(channels),
			"error", err)
	}
}

// stopAll stops every held channel, opens a recorder_down gap for each —
// whoever records it next closes it where its recording begins, so the
// hole until then is explained — and releases the leases, so that another node takes them at
// its next round (Close).
func (s *Scheduler) stopAll() {
	channels := make([]string, 0, len(s.held))
	for ch := range s.held {
		s.Parent.Stop(ch, StopClosing)
		channels = append(channels, ch)
	}
	clear(s.held)
	s.heldCount.Store(0)
	// One budget for all the gaps: a database away at shutdown must not
	// hold the service for a timeout per channel.
	ctx, cancel := context.WithTimeout(context.Background(), s.Timeout)
	defer cancel()
	now := s.Now()
	for _, ch := range channels {
		if _, _, err := s.DB.OpenGap(ctx, recordingdb.Gap{
			ChannelID: ch, Start: s.gapStart(ctx, ch, now), Cause: recordingdb.CauseRecorderDown, Node: s.Node,
			Detail: "recorder node " + s.Node + " stopped",
		}); err != nil {
			s.Log.Warn("cannot record the recorder_down gap of a channel stopped", "channel_id", ch, "error", err)
		}
	}
	s.release(channels)
}

// gapStart is where the gap of a channel just stopped starts: where its
// record (last segment, or the gap its capture closed at the stop) ends,
// not now — the stop took a moment, and a segment's end, media time from
// its first key frame's arrival, may be a little ahead of the clock — so
// that segments and gaps neither leave a hole nor overlap; now when the
// channel has no record or the index cannot tell.
func (s *Scheduler) gapStart(ctx context.Context, ch string, now time.Time) time.Time {
	until, err := s.DB.RecordedUntil(ctx, ch)
	if err != nil {
		s.Log.Warn("cannot read where the channel's record ends; its gap starts now", "channel_id", ch, "error", err)
		return now
	}
	if until.IsZero() {
		return now
	}
	return until
}

// dbCtx bounds one database step by Timeout; Close cancels it.
func (s *Scheduler) dbCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, s.Timeout)
}

// fairShare is a node's share of candidates among nodes live nodes
// (rounded up; at least this node is live), capped by maxChannels (0: no cap).
func fairShare(candidates, nodes, maxChannels int) int {
	nodes = max(nodes, 1)
	share := (candidates + nodes - 1) / nodes
	if maxChannels > 0 {
		share = min(share, maxChannels)
	}
	return share
}
