// Package capacity watches the recordings store's headroom: every Interval
// the Guard reads the bytes written in the last Window from the index and
// the store's free space, and estimates how many days of writing at that
// rate still fit. Below WarnDays it raises the storage alarm — a log line,
// the recorder_storage_alarm and recorder_storage_headroom_days gauges, and
// an event on ChannelCapacity the console can show — and clears it when
// the headroom is back.
//
// The guard deletes nothing. With OverwriteOldest it tells the sweeper
// (Reclaim) how many bytes of unexpired video must go to keep ReserveDays
// of writing free; without it the store fills and the recorder records
// storage_error gaps, which is what an auditor expects of a retention
// promise.
package capacity

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
)

// Defaults of Guard.
const (
	// DefaultInterval: an S3 store's Space lists the whole bucket prefix,
	// so the guard asks every few minutes, not more.
	DefaultInterval = 5 * time.Minute
	DefaultWindow   = 24 * time.Hour
	// DefaultReserveDays is the free space, in days of writing, that
	// OverwriteOldest keeps.
	DefaultReserveDays = 1
	DefaultTimeout     = time.Minute
)

// DB is the part of the recordings index the guard reads
// (*recordingdb.DB).
type DB interface {
	// BytesWritten returns the bytes of the segments of objectStore
	// started since, and the start of the first of them (zero: none).
	BytesWritten(ctx context.Context, objectStore string, since time.Time) (int64, time.Time, error)
}

// Store is the part of the object store the guard reads (objstore.Store):
// its space, and its name in the index — the write rate is that of the
// segments written to this store (a shared bucket: every node's; a
// node's directory: its own).
type Store interface {
	Space(ctx context.Context) (objstore.Space, error)
	Name() string
}

// Reporter publishes the guard's state where the console sees it
// (Notifier: the node's row in the index, and a NOTIFY on ChannelCapacity).
type Reporter interface {
	// ReportCapacity is called with every reading: it stores e as the
	// node's state, and announces it when changed (the alarm was raised
	// or cleared, or it is the first reading, or the last announcement
	// failed).
	ReportCapacity(ctx context.Context, e Event, changed bool) error
}

// Metrics are the guard's gauges.
type Metrics struct {
	// Headroom is recorder_storage_headroom_days: +Inf when nothing is
	// written, NaN when the free space is unknown.
	Headroom prometheus.Gauge
	// Free and Total are the store's bytes (-1: unknown).
	Free, Total prometheus.Gauge
	// Rate is the bytes written per day over the window.
	Rate prometheus.Gauge
	// Alarm is 1 while the headroom is below the warning threshold.
	Alarm prometheus.Gauge
	// Errors counts the readings that failed.
	Errors prometheus.Counter
}

// NewMetrics creates the metrics and registers them in reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &Metrics{
		Headroom: g("recorder_storage_headroom_days",
			"Days of writing at the last 24 h's rate the recordings store's free space holds (+Inf: nothing written, NaN: free space unknown)."),
		Free:  g("recorder_storage_free_bytes", "Free bytes of the recordings store (-1: unknown)."),
		Total: g("recorder_storage_total_bytes", "Capacity of the recordings store in bytes (-1: unknown)."),
		Rate:  g("recorder_storage_write_bytes_per_day", "Bytes of segments written per day, over the last 24 h."),
		Alarm: g("recorder_storage_alarm", "1 while the storage headroom is below recorder.capacity_warn_days."),
		Errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_capacity_errors_total",
			Help: "Capacity readings that failed (index or store unreachable).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Headroom, m.Free, m.Total, m.Rate, m.Alarm, m.Errors)
	}
	return m
}

// Guard estimates the storage headroom and raises the alarm.
type Guard struct {
	// Node names this recorder in the events.
	Node string
	// DB is the index (*recordingdb.DB or Index).
	DB DB
	// Store is the recordings store.
	Store Store
	// Reporter publishes the alarm's changes; nil publishes nothing.
	Reporter Reporter
	// WarnDays raises the alarm below this many days of headroom; 0 never.
	WarnDays float64
	// RetentionLimit caps every segment's life (recorder.retention_limit;
	// 0 none): the store then never holds more than that long of writing,
	// so the alarm's threshold is the smaller of WarnDays and it (a demo
	// keeping 2 h on a disk of 3 h raised a false alarm for 7 days).
	RetentionLimit time.Duration
	// OverwriteOldest lets the sweeper delete unexpired video (Reclaim).
	OverwriteOldest bool
	// ReserveDays is the free space OverwriteOldest keeps, in days of
	// writing; 0 means DefaultReserveDays.
	ReserveDays float64
	// Interval is the time between readings; 0 means DefaultInterval.
	Interval time.Duration
	// Window is how far back the write rate is read; 0 means DefaultWindow.
	Window time.Duration
	// Timeout bounds one reading; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tick starts the readings after the first; nil means a ticker of
	// Interval.
	Tick <-chan time.Time
	// Metrics receives the gauges; nil means unregistered ones.
	Metrics *Metrics
	// Log receives the alarm's changes and the failed readings.
	Log *slog.Logger

	// mu guards the fields below, read by Estimate and Reclaim.
	mu sync.Mutex
	// last is the last reading; alarm whether the alarm is raised;
	// shortfall what Reclaim has still to hand out of it.
	last      Estimate
	alarm     bool
	reported  bool
	shortfall int64

	ticker *time.Ticker
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Initialize checks the configuration and starts the run goroutine, whose
// first reading runs at once.
func (g *Guard) Initialize() error {
	if err := g.prepare(); err != nil {
		return err
	}
	go g.run()
	return nil
}

func (g *Guard) prepare() error {
	if g.DB == nil || g.Store == nil {
		return fmt.Errorf("initialize capacity guard: %w: an index and a store are required", ErrInvalid)
	}
	if g.WarnDays < 0 || math.IsNaN(g.WarnDays) || g.ReserveDays < 0 {
		return fmt.Errorf("initialize capacity guard: %w: warn days %v, reserve days %v", ErrInvalid,
			g.WarnDays, g.ReserveDays)
	}
	if g.ReserveDays == 0 {
		g.ReserveDays = DefaultReserveDays
	}
	if g.Interval <= 0 {
		g.Interval = DefaultInterval
	}
	if g.Window <= 0 {
		g.Window = DefaultWindow
	}
	if g.Timeout <= 0 {
		g.Timeout = DefaultTimeout
	}
	if g.Now == nil {
		g.Now = time.Now
	}
	if g.Metrics == nil {
		g.Metrics = NewMetrics(nil)
	}
	if g.Log == nil {
		g.Log = slog.New(slog.DiscardHandler)
	}
	if g.Tick == nil {
		g.ticker = time.NewTicker(g.Interval)
		g.Tick = g.ticker.C
	}
	g.last.HeadroomDays = math.NaN()
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.done = make(chan struct{})
	return nil
}

// Close stops the readings.
func (g *Guard) Close() {
	g.cancel()
	<-g.done
	if g.ticker != nil {
		g.ticker.Stop()
	}
}

func (g *Guard) run() {
	defer close(g.done)
	g.check()
	for {
		select {
		case <-g.ctx.Done():
			return
		case <-g.Tick:
			g.check()
		}
	}
}

// Estimate returns the last reading (HeadroomDays NaN before the first)
// and whether the alarm is raised.
func (g *Guard) Estimate() (Estimate, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last, g.alarm
}

// Reclaim returns, once per reading, how many bytes of unexpired video
// must be deleted to keep ReserveDays of writing free; always 0 unless
// OverwriteOldest. The sweeper calls it (sweeper.Reclaimer).
func (g *Guard) Reclaim() int64 {
	if !g.OverwriteOldest {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.shortfall
	g.shortfall = 0
	return s
}

// check takes one reading, sets the gauges and raises or clears the alarm.
func (g *Guard) check() {
	ctx, cancel := context.WithTimeout(g.ctx, g.Timeout)
	defer cancel()
	now := g.Now()
	written, first, err := g.DB.BytesWritten(ctx, g.Store.Name(), now.Add(-g.Window))
	if err != nil {
		g.failed("cannot read the write rate from the index", err)
		return
	}
	space, err := g.Store.Space(ctx)
	if err != nil {
		g.failed("cannot read the recordings store's free space", err)
		return
	}
	e := estimate(now, written, rateWindow(now, first, g.Window), space, g.ReserveDays)
	m := g.Metrics
	m.Headroom.Set(e.HeadroomDays)
	m.Free.Set(float64(space.Free))
	m.Total.Set(float64(space.Total))
	m.Rate.Set(e.BytesPerDay)
	warn := g.warnDays()
	alarm := e.Known() && warn > 0 && e.HeadroomDays < warn

	g.mu.Lock()
	changed := alarm != g.alarm || !g.reported
	g.last, g.alarm, g.shortfall = e, alarm, e.Shortfall
	g.mu.Unlock()

	if alarm {
		m.Alarm.Set(1)
	} else {
		m.Alarm.Set(0)
	}
	if !changed {
		g.report(ctx, e, alarm, false)
		return
	}
	args := []any{
		"headroom_days", e.HeadroomDays, "warn_days", warn, "free_bytes", space.Free,
		"bytes_per_day", int64(e.BytesPerDay), "overwrite_oldest", g.OverwriteOldest,
	}
	switch {
	case alarm && g.OverwriteOldest:
		g.Log.Error("storage headroom below the warning threshold; overwrite_oldest will delete unexpired video when it runs out", args...)
	case alarm:
		g.Log.Error("storage headroom below the warning threshold; add storage or lower retention: "+
			"unexpired video is never deleted (overwrite_oldest is off), recording fails when the store is full", args...)
	case !e.Known():
		g.Log.Info("storage headroom unknown: the store cannot tell its free space (set storage.capacity for S3)", args...)
	default:
		g.Log.Info("storage headroom", args...)
	}
	g.report(ctx, e, alarm, true)
}

// warnDays is the alarm's threshold: WarnDays, or the retention limit's
// days when shorter.
func (g *Guard) warnDays() float64 {
	if g.RetentionLimit > 0 && g.WarnDays > 0 {
		return min(g.WarnDays, g.RetentionLimit.Hours()/24)
	}
	return g.WarnDays
}

// report publishes the reading, announced when changed; a failed
// announcement is tried again at the next reading.
func (g *Guard) report(ctx context.Context, e Estimate, alarm, changed bool) {
	if g.Reporter == nil {
		g.mu.Lock()
		g.reported = true
		g.mu.Unlock()
		return
	}
	ev := Event{
		Node: g.Node, Alarm: alarm, WarnDays: g.warnDays(), FreeBytes: e.Space.Free, TotalBytes: e.Space.Total,
		BytesPerDay: int64(e.BytesPerDay), OverwriteOldest: g.OverwriteOldest, At: e.At.UTC(),
	}
	if e.Known() && !math.IsInf(e.HeadroomDays, 0) {
		h := e.HeadroomDays
		ev.HeadroomDays = &h
	}
	err := g.Reporter.ReportCapacity(ctx, ev, changed)
	if changed {
		g.mu.Lock()
		g.reported = err == nil
		g.mu.Unlock()
	}
	if err != nil {
		g.failed("cannot publish the storage alarm", err)
	}
}

func (g *Guard) failed(msg string, err error) {
	g.Metrics.Errors.Inc()
	if g.ctx.Err() != nil {
		return
	}
	g.Log.Warn(msg, "error", err)
}
