// Package scheduler decides which channels a recorder node records. Several
// nodes share the channels through leases in PostgreSQL (recorder_leases):
// every LeaseTTL/3 a node renews its heartbeat and its leases, checks the
// effective record plans (read again at the round after the catalog or
// the plans change, and every PlanInterval), takes free or
// expired leases of the channels whose plan is active now up to its fair
// share (candidates / live nodes, rounded up, at most MaxChannels), and
// gives back the channels whose plan turned off. A node that dies stops
// renewing: its leases expire after LeaseTTL and the other nodes take its
// channels, recording the hole it left as a recorder_down gap. Lease expiry
// runs on the database's clock only.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// Defaults of Scheduler.
const (
	// DefaultLeaseTTL is how long a lease lasts without renewal: a dead
	// node's channels move within 2×DefaultLeaseTTL (30 s).
	DefaultLeaseTTL = 15 * time.Second
	// DefaultPlanInterval: a plan changed in the console applies within a
	// minute, the resolution of the schedules.
	DefaultPlanInterval = time.Minute
	// DefaultTimeout bounds one database step.
	DefaultTimeout = 5 * time.Second
)

// Scheduler takes, renews and gives back the leases of one node and starts
// and stops the recording of its channels through its Parent.
type Scheduler struct {
	// Node names this recorder node (unique among the nodes).
	Node string
	// URL is where the node serves (recorder_nodes.url), for operators.
	URL string
	// DB is the recorder's index (recordingdb.DB).
	DB DB
	// Parent records the channels.
	Parent Parent
	// LeaseTTL is the lease lifetime; the rounds run every LeaseTTL/3.
	// 0 means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// MaxChannels caps the channels this node records; 0 means no cap.
	MaxChannels int
	// Defaults are the retention days of channels whose plans set none
	// (standard and key retention class; recorder config).
	Defaults recordingdb.Defaults
	// RetentionLimit caps every segment's age (recorder config; 0: none).
	// The scheduler only publishes it with Defaults in its heartbeats, for
	// the console; the sweeper applies it.
	RetentionLimit time.Duration
	// Location is the time zone of the plans' schedules; nil means UTC.
	Location *time.Location
	// PlanInterval is how often the effective plans are read again (they
	// are checked against Now every round) when no change was notified —
	// the backstop for a notification lost while the listener reconnects;
	// 0 means DefaultPlanInterval, a negative value every round.
	PlanInterval time.Duration
	// Timeout bounds one database step; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of the plans' schedules and the gaps; nil means
	// time.Now. Leases expire on the database's clock.
	Now func() time.Time
	// Tick starts the rounds after the first; nil means a ticker of
	// LeaseTTL/3 (tests send their own ticks).
	Tick <-chan time.Time
	// Log receives the lease changes and the failed rounds.
	Log *slog.Logger

	// held is the channels being recorded, by channel; waiting counts the
	// consecutive rounds a candidate was seen recorded by nobody here
	// (orphans: see acquire); rounds counts the rounds run. Only the run
	// goroutine touches them.
	held    map[string]Lease
	waiting map[string]int
	rounds  int
	// planCache holds the plans read at plansAt (nil: none yet); changed
	// says the catalog or the plans changed since (set by the listener).
	planCache []recordingdb.Plan
	plansAt   time.Time
	changed   atomic.Bool
	// notified, when set (tests), is called after each notification.
	notified func(channel string)
	// heldCount is len(held) for Held, read from other goroutines.
	heldCount atomic.Int64
	ticker    *time.Ticker
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	listening chan struct{}
}

// Initialize checks the configuration and starts the run goroutine, whose
// first round runs at once.
func (s *Scheduler) Initialize() error {
	if err := s.prepare(); err != nil {
		return err
	}
	go s.listen()
	go s.run()
	return nil
}

// prepare checks the configuration and fills in the defaults.
func (s *Scheduler) prepare() error {
	if s.Node == "" || s.DB == nil || s.Parent == nil {
		return fmt.Errorf("initialize scheduler: %w: a node name, a database and a parent are required", ErrInvalid)
	}
	if s.Defaults.StandardDays < 1 || s.Defaults.KeyDays < 1 {
		return fmt.Errorf("initialize scheduler: %w: retention defaults %d/%d days", ErrInvalid,
			s.Defaults.StandardDays, s.Defaults.KeyDays)
	}
	if s.LeaseTTL <= 0 {
		s.LeaseTTL = DefaultLeaseTTL
	}
	if s.PlanInterval == 0 {
		s.PlanInterval = DefaultPlanInterval
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Location == nil {
		s.Location = time.UTC
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Tick == nil {
		s.ticker = time.NewTicker(s.LeaseTTL / 3)
		s.Tick = s.ticker.C
	}
	s.held = make(map[string]Lease)
	s.waiting = make(map[string]int)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	s.listening = make(chan struct{})
	return nil
}

// Close stops the rounds, stops every channel (StopClosing), opens its
// recorder_down gap and releases its lease, so that another node takes it
// at its next round.
func (s *Scheduler) Close() {
	s.cancel()
	<-s.done
	<-s.listening
	if s.ticker != nil {
		s.ticker.Stop()
	}
}

// Held returns how many channels the node records now (a metric).
func (s *Scheduler) Held() int { return int(s.heldCount.Load()) }

// listen marks the plans to be read again at the next round when the
// catalog (sipserver) or the plans and the ownership they follow (a
// trigger) change, so that a camera registered or a plan written is
// recorded from the next round rather than after PlanInterval.
func (s *Scheduler) listen() {
	defer close(s.listening)
	channels := []string{store.ChannelCatalog, store.ChannelRecordPlans}
	if err := s.DB.Listen(s.ctx, channels, s.onNotify); err != nil {
		s.Log.Error("record plan listener stopped; plans are read every plan interval", "node", s.Node,
			"plan_interval", s.PlanInterval, "error", err)
	}
}

// onNotify is the listener's callback: any change on its channels makes
// the cached plans stale (the payload does not matter).
func (s *Scheduler) onNotify(channel, _ string) {
	s.changed.Store(true)
	s.Log.Debug("plans to be read again", "node", s.Node, "notification", channel)
	if s.notified != nil {
		s.notified(channel)
	}
}

func (s *Scheduler) run() {
	defer close(s.done)
	s.round()
	for {
		select {
		case <-s.ctx.Done():
			s.stopAll()
			return
		case <-s.Tick:
			s.round()
		}
	}
}
