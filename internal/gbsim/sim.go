package gbsim

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Sim is a running set of simulated devices.
type Sim struct {
	cfg     Config
	log     *slog.Logger
	parser  *sip.Parser
	limiter *limiter
	media   *mediaLibrary
	stats   stats
	devices []*device
	// clock is the time source; nil means time.Now (tests replace it).
	clock func() time.Time
}

func (s *Sim) now() time.Time {
	if s.clock != nil {
		return s.clock()
	}
	return time.Now()
}

type stats struct {
	registered atomic.Int64
	regFailed  atomic.Int64
	keepalives atomic.Int64
	streams    atomic.Int64
	byes       atomic.Int64
	cancels    atomic.Int64
}

// Stats is a snapshot of the simulator's counters.
type Stats struct {
	// Registered is the number of devices registered now.
	Registered int64
	// RegisterFailures counts failed registration attempts.
	RegisterFailures int64
	// Keepalives counts keepalives answered with 2xx.
	Keepalives int64
	// Streams is the number of media sessions running now.
	Streams int64
	// Byes counts BYEs received from the platform for a known session.
	Byes int64
	// Cancels counts INVITEs the platform cancelled before the answer.
	Cancels int64
}

// New validates cfg and prepares the devices; Run starts them.
func New(cfg Config, log *slog.Logger) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:     cfg,
		log:     log,
		parser:  sip.NewParser(),
		limiter: newLimiter(cfg.RegisterRate),
		media:   newMediaLibrary(cfg, log),
	}
	for i := 0; i < cfg.Devices; i++ {
		d, err := s.newDevice(i)
		if err != nil {
			return nil, err
		}
		s.devices = append(s.devices, d)
	}
	return s, nil
}

// Run starts every device and blocks until ctx ends and every device has
// unregistered.
func (s *Sim) Run(ctx context.Context) error {
	s.log.Info("gbsim starting", "config", &s.cfg)
	var wg sync.WaitGroup
	for _, d := range s.devices {
		wg.Go(func() { d.run(ctx) })
	}
	report := time.NewTicker(10 * time.Second)
	defer report.Stop()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case <-done:
			s.log.Info("gbsim stopped")
			return nil
		case <-report.C:
			st := s.Stats()
			s.log.Info("status", "registered", st.Registered, "devices", len(s.devices),
				"register_failures", st.RegisterFailures, "keepalives", st.Keepalives, "streams", st.Streams)
		}
	}
}

// Stats returns the current counters.
func (s *Sim) Stats() Stats {
	return Stats{
		Registered:       s.stats.registered.Load(),
		RegisterFailures: s.stats.regFailed.Load(),
		Keepalives:       s.stats.keepalives.Load(),
		Streams:          s.stats.streams.Load(),
		Byes:             s.stats.byes.Load(),
		Cancels:          s.stats.cancels.Load(),
	}
}

// Run validates cfg and runs the simulator until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	s, err := New(cfg, log)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

func (s *Sim) newDevice(i int) (*device, error) {
	id, err := deviceID(s.cfg.DeviceIDStart, i)
	if err != nil {
		return nil, err
	}
	d := &device{
		sim:      s,
		idx:      i,
		id:       id,
		name:     fmt.Sprintf("模拟设备 %03d", i+1),
		password: s.cfg.Password,
		log:      s.log.With("device_id", id),
		rebootCh: make(chan struct{}, 1),
		sessions: map[string]*session{},
		subs:     map[string]*subscription{},
	}
	if i < s.cfg.Faults.WrongPassword {
		d.password += "-wrong"
	} else if i < s.cfg.Faults.WrongPassword+s.cfg.Faults.NoKeepalive {
		d.silent = true
	}
	for c := 0; c < s.cfg.Channels; c++ {
		cid, err := channelID(s.cfg.DeviceIDStart, i, s.cfg.Channels, c)
		if err != nil {
			return nil, err
		}
		d.channels = append(d.channels, newChannel(d, c, cid))
	}
	return d, nil
}

// limiter hands out tokens at a fixed rate (no bursts), bounding the
// REGISTER rate of a fleet.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newLimiter(perSecond float64) *limiter {
	return &limiter{interval: time.Duration(float64(time.Second) / perSecond)}
}

func (l *limiter) wait(ctx context.Context) error {
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
