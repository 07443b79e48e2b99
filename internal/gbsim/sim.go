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

// Sim is a set of simulated devices. New prepares it, Run runs the devices
// until its context ends, Close ends everything the simulator started.
type Sim struct {
	cfg     Config
	log     *slog.Logger
	parser  *sip.Parser
	limiter *limiter
	media   *mediaLibrary
	stats   stats
	devices []*device
	// clk is the time source of reports and media pacing; nil means the
	// wall clock (tests set a virtual one before Run or Answer).
	clk clock

	// ctx ends in Close; every goroutine of the simulator watches it.
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add against Close's wg.Wait
	closed bool
	wg     sync.WaitGroup
}

func (s *Sim) clock() clock {
	if s.clk != nil {
		return s.clk
	}
	return wallClock{}
}

func (s *Sim) now() time.Time { return s.clock().Now() }

type stats struct {
	registered atomic.Int64
	regFailed  atomic.Int64
	keepalives atomic.Int64
	streams    atomic.Int64
	byes       atomic.Int64
	cancels    atomic.Int64
	reregs     atomic.Int64
	rebinds    atomic.Int64
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
	// Reregistrations counts registrations a device started because the
	// platform refused one of its requests: a keepalive answered with any
	// 4xx, or another MESSAGE or a NOTIFY answered 401, 403 or 404 (as after
	// a NAT rebinding, when the platform sees the device at a new port).
	Reregistrations int64
	// Rebinds counts moves of a device to a new source port (Rebind and
	// the NATRebind fault).
	Rebinds int64
}

// New validates cfg and prepares the devices; Run starts them. Answer, Hangup
// and the other methods may be used without Run; Close ends what they
// started.
func New(cfg Config, log *slog.Logger) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Sim{
		cfg:     cfg,
		log:     log,
		parser:  sip.NewParser(),
		limiter: newLimiter(cfg.RegisterRate),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.media = newMediaLibrary(s)
	for i := 0; i < cfg.Devices; i++ {
		d, err := s.newDevice(i)
		if err != nil {
			s.cancel()
			return nil, err
		}
		s.devices = append(s.devices, d)
	}
	return s, nil
}

// spawn runs f in a goroutine of the simulator, which Close waits for. After
// Close it runs nothing and reports false.
func (s *Sim) spawn(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Close stops the simulator: devices unregister (when Run is running),
// media sessions, subscriptions and clip generation (ffmpeg) end, and Close
// returns when every goroutine the simulator started has ended. It may be
// called more than once; Run calls it on its way out.
func (s *Sim) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	for _, d := range s.devices {
		d.stopAll()
	}
	s.wg.Wait()
	// A session opened by Answer after its last goroutine ended still holds
	// its socket.
	for _, d := range s.devices {
		d.stopAll()
	}
}

// Run starts every device and blocks until ctx ends (or Close is called)
// and every device has unregistered; then it closes the simulator, so that
// nothing it started outlives it.
func (s *Sim) Run(ctx context.Context) error {
	defer s.Close()
	if s.ctx.Err() != nil {
		return ErrSimClosed
	}
	s.log.Info("gbsim starting", "config", &s.cfg)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close stops Run too
	defer stop()
	var devices sync.WaitGroup
	for _, d := range s.devices {
		devices.Add(1)
		if !s.spawn(func() { defer devices.Done(); d.run(ctx) }) {
			devices.Done()
		}
	}
	report := time.NewTicker(10 * time.Second)
	defer report.Stop()
	for {
		select {
		case <-ctx.Done():
			devices.Wait()
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
		Reregistrations:  s.stats.reregs.Load(),
		Rebinds:          s.stats.rebinds.Load(),
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
		name:     deviceName(id),
		password: s.cfg.Password,
		log:      s.log.With("device_id", id),
		rebootCh: make(chan struct{}, 1),
		reregCh:  make(chan struct{}, 1),
		sessions: map[string]*session{},
		subs:     map[string]*subscription{},
	}
	switch f := s.cfg.Faults; {
	case i < f.WrongPassword:
		d.password += "-wrong"
	case i < f.WrongPassword+f.NoKeepalive:
		d.silent = true
	case i < f.WrongPassword+f.NoKeepalive+f.NoAnswer:
		d.mute = true
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

// deviceName names a device by its ID's serial number, so that devices of
// simulators with different -device-id-start values are told apart (the
// first device of the default start is "模拟设备 001").
func deviceName(id string) string { return fmt.Sprintf("模拟设备 %03d", serial(id)) }

// device returns the device with the given ID, or nil.
func (s *Sim) device(id string) *device {
	for _, d := range s.devices {
		if d.id == id {
			return d
		}
	}
	return nil
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
