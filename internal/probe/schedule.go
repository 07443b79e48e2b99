package probe

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
)

// DefaultInterval is how often the Scheduler probes each channel.
const DefaultInterval = 2 * time.Hour

// DefaultDelay is the console's wait before its first round.
const DefaultDelay = time.Minute

// Scheduler probes every channel once per Interval, spread evenly over it,
// at most its Prober's MaxRunning at once: 100,000 channels every 2 h is a
// probe every 72 ms, a few running at any time.
type Scheduler struct {
	// Prober runs the probes; its own, so that the operators' probes are
	// not refused for the schedule's.
	Prober *Prober
	// Channels lists the channels to probe in a round.
	Channels func(ctx context.Context) ([]string, error)
	// Record keeps a finding.
	Record func(ctx context.Context, channel string, r Result) error
	// Interval is a round's length (DefaultInterval).
	Interval time.Duration
	// Delay is the wait before the first round (cameras register after a
	// start); 0 starts at once.
	Delay time.Duration
	// Subject is who the streams are read for (mediagw audits it).
	Subject string
	Log     *slog.Logger
	// After waits; nil means time.After.
	After func(time.Duration) <-chan time.Time

	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup
}

// Initialize checks the settings and starts the rounds.
func (s *Scheduler) Initialize() error {
	if s.Prober == nil || s.Channels == nil || s.Record == nil {
		return errors.New("probe scheduler: Prober, Channels and Record are required")
	}
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.After == nil {
		s.After = time.After
	}
	if s.Subject == "" {
		s.Subject = "system:probe"
	}
	var ctx context.Context
	ctx, s.cancel = context.WithCancel(context.Background())
	s.done = make(chan struct{})
	go s.run(ctx)
	return nil
}

// Close stops the rounds and waits for the probes in flight.
func (s *Scheduler) Close() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
}

func (s *Scheduler) run(ctx context.Context) {
	defer close(s.done)
	defer s.wg.Wait()
	slots := make(chan struct{}, s.Prober.MaxRunning)
	if s.Delay > 0 && !s.sleep(ctx, s.Delay) {
		return
	}
	for ctx.Err() == nil {
		start := time.Now()
		chans, err := s.Channels(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.Log.Warn("probe round: list the channels", "err", err)
			}
			chans = nil
		}
		if len(chans) == 0 {
			// Nothing to probe (yet), or the list failed: try again soon,
			// not a whole interval later.
			if !s.sleep(ctx, min(s.Interval, time.Minute)) {
				return
			}
			continue
		}
		step := s.Interval / time.Duration(len(chans))
		s.Log.Info("probe round", "channels", len(chans), "interval", s.Interval, "every", step)
		for i, ch := range chans {
			if wait := time.Until(start.Add(time.Duration(i) * step)); wait > 0 && !s.sleep(ctx, wait) {
				return
			}
			select { // a free slot: a slow round runs late, never wider
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-slots }()
				s.probe(ctx, ch)
			}()
		}
		if late := time.Since(start) - s.Interval; late > 0 {
			s.Log.Warn("probe round overran its interval: raise probe.schedule_running or probe.interval",
				"channels", len(chans), "interval", s.Interval, "late", late.Round(time.Second))
		}
		if wait := time.Until(start.Add(s.Interval)); !s.sleep(ctx, max(wait, time.Second)) {
			return
		}
	}
}

// sleep waits d and reports whether the scheduler still runs.
func (s *Scheduler) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-s.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Scheduler) probe(ctx context.Context, channel string) {
	r, err := s.Prober.Probe(ctx, streampath.Live(channel), s.Subject)
	if err != nil {
		if ctx.Err() == nil {
			s.Log.Warn("scheduled probe not run", "channel", channel, "err", err)
		}
		return
	}
	if err := s.Record(context.WithoutCancel(ctx), channel, r); err != nil {
		s.Log.Warn("keep a scheduled probe's finding", "channel", channel, "err", err)
	}
}
