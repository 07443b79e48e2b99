// Package sweeper deletes the segments whose retention is over. A segment's
// expiry is on its index row (expires_at: its end plus the retention of its
// channel's class when it was written), so a plan changed later does not
// shorten what was recorded under the old one. RetentionLimit, when set,
// caps every segment's life below its days (a demo's 2 hours).
//
// Deleting is three steps, each safe to repeat after a crash: mark the rows
// (they leave the timelines at once), delete their objects (a missing object
// is already deleted), delete the rows. Every round first finishes the rows
// a crashed round left marked. I/O is bounded: at most Batch segments per
// batch and a Pause between batches.
//
// Only with overwrite_oldest does the sweeper delete video that has not
// expired: when the capacity guard says the store is filling up (Reclaimer),
// the segments soonest to expire go first, and every such batch is logged
// as an error.
package sweeper

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Sweeper.
const (
	DefaultInterval = time.Minute
	DefaultBatch    = 500
	DefaultPause    = time.Second
	// DefaultTimeout bounds one batch's database and storage work.
	DefaultTimeout = time.Minute
)

// Objects is the part of the object store the sweeper uses
// (objstore.Store): a batch delete where missing keys are no error, and
// the store's name in the index — the sweeper takes only the rows of its
// own store (another node's directory is not reachable from here).
type Objects interface {
	Delete(ctx context.Context, keys []string) error
	Name() string
}

// Reclaimer says how many bytes of unexpired video must go so that the
// store does not fill up (capacity.Guard with OverwriteOldest). It hands
// each shortfall out once: the sweeper deletes that much and asks again.
type Reclaimer interface {
	Reclaim() int64
}

// Reasons a segment is deleted (label of the deletion metrics).
const (
	ReasonExpired     = "expired"
	ReasonOverwritten = "overwritten"
)

// Metrics are the sweeper's progress.
type Metrics struct {
	// Segments and Bytes count what was deleted, by reason.
	Segments *prometheus.CounterVec
	Bytes    *prometheus.CounterVec
	// Errors counts the failed steps (index or store).
	Errors prometheus.Counter
	// Backlog is the segments expired or marked and not yet deleted, as of
	// the end of the last round.
	Backlog prometheus.Gauge
}

// NewMetrics creates the metrics and registers them in reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Segments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recorder_sweeper_deleted_segments_total",
			Help: "Segments deleted (objects and rows), by reason: expired, or overwritten (overwrite_oldest).",
		}, []string{"reason"}),
		Bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "recorder_sweeper_deleted_bytes_total",
			Help: "Bytes of the segments deleted, by reason.",
		}, []string{"reason"}),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_sweeper_errors_total",
			Help: "Sweeper steps that failed (index or storage); the next round repeats them.",
		}),
		Backlog: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "recorder_sweeper_backlog_segments",
			Help: "Segments expired or marked for deletion and not yet deleted, after the last round.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Segments, m.Bytes, m.Errors, m.Backlog)
	}
	return m
}

// Sweeper deletes expired segments every Interval.
type Sweeper struct {
	// DB is the index (*recordingdb.DB).
	DB DB
	// Objects is the store the segments are in.
	Objects Objects
	// Interval is the time between rounds; 0 means DefaultInterval.
	Interval time.Duration
	// Batch is the most segments one batch deletes; 0 means DefaultBatch.
	Batch int
	// Pause is the wait between two batches of a round; 0 means
	// DefaultPause, a negative value none.
	Pause time.Duration
	// Timeout bounds one batch; 0 means DefaultTimeout.
	Timeout time.Duration
	// RetentionLimit caps every segment's life (recorder.retention_limit):
	// a segment that ended this long ago is expired whatever its days say;
	// 0 means no cap.
	RetentionLimit time.Duration
	// Reclaimer, when set, asks for unexpired video to be deleted
	// (overwrite_oldest); nil never deletes it.
	Reclaimer Reclaimer
	// Now is the clock segments expire by; nil means time.Now.
	Now func() time.Time
	// Tick starts the rounds after the first; nil means a ticker of
	// Interval.
	Tick <-chan time.Time
	// Metrics receives the progress; nil means unregistered ones.
	Metrics *Metrics
	// Log receives a line per round that deleted something and per failure.
	Log *slog.Logger

	ticker *time.Ticker
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Initialize checks the configuration and starts the run goroutine, whose
// first round runs at once.
func (s *Sweeper) Initialize() error {
	if err := s.prepare(); err != nil {
		return err
	}
	go s.run()
	return nil
}

func (s *Sweeper) prepare() error {
	if s.DB == nil || s.Objects == nil {
		return fmt.Errorf("initialize sweeper: %w: an index and a store are required", ErrInvalid)
	}
	if s.RetentionLimit < 0 {
		return fmt.Errorf("initialize sweeper: %w: negative retention limit %s", ErrInvalid, s.RetentionLimit)
	}
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.Batch <= 0 {
		s.Batch = DefaultBatch
	}
	if s.Pause == 0 {
		s.Pause = DefaultPause
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics(nil)
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Tick == nil {
		s.ticker = time.NewTicker(s.Interval)
		s.Tick = s.ticker.C
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	return nil
}

// Close stops the sweeper; a batch in progress is cut short and finished
// by the next start (its rows stay marked).
func (s *Sweeper) Close() {
	s.cancel()
	<-s.done
	if s.ticker != nil {
		s.ticker.Stop()
	}
}

func (s *Sweeper) run() {
	defer close(s.done)
	s.round()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.Tick:
			s.round()
		}
	}
}
