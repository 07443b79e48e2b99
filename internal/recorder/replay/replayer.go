package replay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// Defaults of the Replayer's fields.
const (
	DefaultMaxReplays  = 32
	DefaultDialTimeout = 5 * time.Second
	// DefaultKeep is how long an ended replay stays readable: sipserver
	// asks how it ended when its stream ends.
	DefaultKeep = time.Minute
	// DefaultDBTimeout bounds one index query.
	DefaultDBTimeout = 10 * time.Second
)

// Segments lists what a replay of a range reads (recordingdb.DB).
type Segments interface {
	PlaybackSegments(ctx context.Context, channel string, start, end time.Time) ([]recordingdb.Segment, error)
}

// Replayer runs the replays of one recorder node.
type Replayer struct {
	// DB lists the segments.
	DB Segments
	// Store holds the segments.
	Store objstore.Store
	// Token guards the API (the service token); empty turns it off (503).
	Token string
	// MaxReplays bounds the replays running at once (DefaultMaxReplays).
	MaxReplays int
	// DialTimeout bounds the connection to a receiver.
	DialTimeout time.Duration
	// Keep is how long an ended replay stays readable (DefaultKeep).
	Keep time.Duration
	// Now is the clock of the replays' records (not of their pacing).
	Now func() time.Time
	// Log receives the replays' starts and ends.
	Log *slog.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	replays map[string]*replay
}

// Initialize sets the defaults.
func (r *Replayer) Initialize() error {
	if r.DB == nil || r.Store == nil {
		return errors.New("replayer: DB and Store are required")
	}
	if r.MaxReplays <= 0 {
		r.MaxReplays = DefaultMaxReplays
	}
	if r.DialTimeout <= 0 {
		r.DialTimeout = DefaultDialTimeout
	}
	if r.Keep <= 0 {
		r.Keep = DefaultKeep
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.replays = map[string]*replay{}
	return nil
}

// Close stops every replay and waits for them.
func (r *Replayer) Close() {
	// Under mu: a Start past its closed check has added to wg already.
	r.mu.Lock()
	r.cancel()
	r.mu.Unlock()
	r.wg.Wait()
}

// Start checks req, finds its segments and starts sending them.
func (r *Replayer) Start(ctx context.Context, req recorderapi.ReplayRequest) (recorderapi.Replay, error) {
	if err := validate(&req); err != nil {
		return recorderapi.Replay{}, err
	}
	ssrc, _ := strconv.ParseUint(req.SSRC, 10, 32)
	dctx, cancel := context.WithTimeout(ctx, DefaultDBTimeout)
	segs, err := r.DB.PlaybackSegments(dctx, req.ChannelID, req.Start, req.End)
	cancel()
	if err != nil {
		return recorderapi.Replay{}, fmt.Errorf("replay of %s: %w", req.ChannelID, err)
	}
	// Only what this node can read: a directory store holds its own
	// node's segments (sipserver asks the node that wrote them).
	segs = slices.DeleteFunc(segs, func(s recordingdb.Segment) bool { return s.Store != r.Store.Name() })
	if len(segs) == 0 {
		return recorderapi.Replay{}, fmt.Errorf("%w: channel %s between %s and %s", ErrNoRecordings, req.ChannelID,
			req.Start.Format(time.RFC3339), req.End.Format(time.RFC3339))
	}
	rp := &replay{
		id: newID(), req: req, ssrc: uint32(ssrc), segs: segs, created: r.Now(),
		state: recorderapi.ReplayRunning, speed: req.Speed, position: req.Start,
		controls: make(chan control), done: make(chan struct{}),
	}
	r.mu.Lock()
	r.sweepLocked()
	running := 0
	for _, o := range r.replays {
		if !o.ended() {
			running++
		}
	}
	if r.ctx.Err() != nil {
		r.mu.Unlock()
		return recorderapi.Replay{}, ErrClosed
	}
	if running >= r.MaxReplays {
		r.mu.Unlock()
		return recorderapi.Replay{}, fmt.Errorf("%w: %d run", ErrBusy, running)
	}
	r.replays[rp.id] = rp
	rctx, rcancel := context.WithCancel(r.ctx)
	rp.cancel = rcancel
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		r.run(rctx, rp)
	}()
	r.Log.Info("replay started", "replay", rp.id, "channel", req.ChannelID, "start", req.Start, "end", req.End,
		"speed", rp.speed, "dest", req.Dest, "subject", req.Subject, "segments", len(segs))
	return rp.view(), nil
}

// validate checks a request and sets its defaults.
func validate(req *recorderapi.ReplayRequest) error {
	if _, err := ids.Parse(req.ChannelID); err != nil {
		return svcapi.BadRequest("channel_id: %v", err)
	}
	switch {
	case req.Start.IsZero() || !req.End.After(req.Start):
		return svcapi.BadRequest("need start before end")
	case req.End.Sub(req.Start) > recorderapi.MaxRange:
		return svcapi.BadRequest("the range must be at most %s", recorderapi.MaxRange)
	case req.Speed != 0 && (req.Speed < recorderapi.MinReplaySpeed || req.Speed > recorderapi.MaxReplaySpeed):
		return svcapi.BadRequest("speed must be between %v and %d", recorderapi.MinReplaySpeed, recorderapi.MaxReplaySpeed)
	}
	if req.Speed == 0 {
		req.Speed = 1
	}
	if _, err := strconv.ParseUint(req.SSRC, 10, 32); err != nil {
		return svcapi.BadRequest("ssrc must be a decimal 32-bit number, got %q", req.SSRC)
	}
	if _, _, err := net.SplitHostPort(req.Dest); err != nil {
		return svcapi.BadRequest("dest must be host:port: %v", err)
	}
	return nil
}

// Get returns a replay.
func (r *Replayer) Get(id string) (recorderapi.Replay, error) {
	rp, err := r.lookup(id)
	if err != nil {
		return recorderapi.Replay{}, err
	}
	return rp.view(), nil
}

// Control applies a control to a running replay.
func (r *Replayer) Control(ctx context.Context, id string, c recorderapi.ReplayControl) (recorderapi.Replay, error) {
	switch c.Action {
	case recorderapi.ControlPause, recorderapi.ControlResume:
	case recorderapi.ControlSeek:
		// Within a day's milliseconds: checked again against the range.
		if c.OffsetMS < 0 || c.OffsetMS > recorderapi.MaxRange.Milliseconds() {
			return recorderapi.Replay{}, svcapi.BadRequest("offset_ms must be between 0 and the range's length")
		}
	case recorderapi.ControlScale:
		if c.Scale < recorderapi.MinReplaySpeed || c.Scale > recorderapi.MaxReplaySpeed {
			return recorderapi.Replay{}, svcapi.BadRequest("scale must be between %v and %d (no reverse play)",
				recorderapi.MinReplaySpeed, recorderapi.MaxReplaySpeed)
		}
	default:
		return recorderapi.Replay{}, svcapi.BadRequest("action must be pause, resume, seek or scale, got %q", c.Action)
	}
	rp, err := r.lookup(id)
	if err != nil {
		return recorderapi.Replay{}, err
	}
	reply := make(chan error, 1)
	select {
	case rp.controls <- control{ReplayControl: c, reply: reply}:
	case <-rp.done:
		return recorderapi.Replay{}, fmt.Errorf("replay %s: %w", id, ErrEnded)
	case <-ctx.Done():
		return recorderapi.Replay{}, ctx.Err()
	}
	select {
	case err := <-reply:
		if err != nil {
			return recorderapi.Replay{}, err
		}
	case <-rp.done:
	}
	return rp.view(), nil
}

// Stop ends a replay; one that ended already is no error.
func (r *Replayer) Stop(id string) error {
	rp, err := r.lookup(id)
	if err != nil {
		return err
	}
	rp.mu.Lock()
	rp.stopped = true
	rp.mu.Unlock()
	rp.cancel()
	<-rp.done
	return nil
}

func (r *Replayer) lookup(id string) (*replay, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepLocked()
	rp := r.replays[id]
	if rp == nil {
		return nil, fmt.Errorf("replay %s: %w", id, ErrNotFound)
	}
	return rp, nil
}

// sweepLocked forgets the replays that ended over Keep ago.
func (r *Replayer) sweepLocked() {
	now := r.Now()
	for id, rp := range r.replays {
		if at, ok := rp.endedAt(); ok && now.Sub(at) > r.Keep {
			delete(r.replays, id)
		}
	}
}

// run sends one replay and records how it ended.
func (r *Replayer) run(ctx context.Context, rp *replay) {
	defer close(rp.done)
	defer rp.cancel()
	err := r.send(ctx, rp)
	rp.mu.Lock()
	switch {
	case rp.stopped:
		rp.state = recorderapi.ReplayStopped
	case errors.Is(err, io.EOF):
		rp.state = recorderapi.ReplayDone
	case err != nil && ctx.Err() != nil:
		rp.state, rp.err = recorderapi.ReplayFailed, "recorder stopping"
	case err != nil:
		rp.state, rp.err = recorderapi.ReplayFailed, err.Error()
	default:
		rp.state = recorderapi.ReplayDone
	}
	rp.endAt = r.Now()
	state, frames := rp.state, rp.frames
	rp.mu.Unlock()
	r.Log.Info("replay ended", "replay", rp.id, "channel", rp.req.ChannelID, "state", state, "frames", frames,
		"err", err)
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
