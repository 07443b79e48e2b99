// Package capture records one channel: it reads the channel's live stream
// from mediagw's unit feed (HTTP), writes fragmented-MP4 segments to local files of
// the object store, keeps the segment index current (the open segment's end
// every 10 s of media) and commits each closed segment. Every hole it
// leaves is a gap row with its cause; it reconnects with back-off and never
// stops silently.
package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/recorder/repair"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// Defaults of Channel.
const (
	DefaultSegmentDuration  = time.Minute
	DefaultFragmentDuration = time.Second
	// DefaultReadTimeout ends a session that delivers nothing for this long.
	DefaultReadTimeout = 10 * time.Second
	// DefaultDBTimeout bounds one index write.
	DefaultDBTimeout = 5 * time.Second
	// DefaultBackoffMin and DefaultBackoffMax bound the wait before a
	// reconnect: it doubles from the first to the second and starts again
	// after BackoffReset of uninterrupted recording.
	DefaultBackoffMin   = time.Second
	DefaultBackoffMax   = 30 * time.Second
	DefaultBackoffReset = time.Minute
	// DefaultRetryInterval is how often failed commits are retried.
	DefaultRetryInterval = 5 * time.Second
)

// Index is the part of the recordings index a Channel writes
// (*recordingdb.DB); repair.Index is what it repairs failed segments with.
type Index interface {
	repair.Index
	// OpenSegment inserts the row of a segment being written; its id.
	OpenSegment(ctx context.Context, s recordingdb.Segment) (int64, error)
	// ExtendSegment moves the open segment's end and bytes forward.
	ExtendSegment(ctx context.Context, id int64, end time.Time, bytes int64) error
	// CloseSegment writes the final end, bytes and what the segment holds
	// and marks the row closed.
	CloseSegment(ctx context.Context, id int64, end time.Time, bytes int64, info recordingdb.Info) error
	// OpenGap inserts an open gap, or extends the channel's last one of
	// the same cause that ended where it starts; its id.
	OpenGap(ctx context.Context, g recordingdb.Gap) (id int64, extended bool, err error)
	// CloseGap ends the gap at end.
	CloseGap(ctx context.Context, id int64, end time.Time) error
	// CloseOpenGaps ends every open gap of the channel at end.
	CloseOpenGaps(ctx context.Context, channel string, end time.Time) (int, error)
}

// Store is the part of the object store a Channel writes (objstore.Store):
// a local file per object (repair.Store's WritePath), then Commit.
type Store interface {
	repair.Store
	// Name identifies the store in the index.
	Name() string
}

// TokenSource hands out the play token the feed URL carries (*Tokens).
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StateReader tells whether a channel is online (its effective state:
// catalogview's channel_state), to tell camera_offline from stream_error.
type StateReader interface {
	ChannelOnline(ctx context.Context, channelID string) (bool, error)
}

// Channel records one channel until Close.
//
// Fill the exported fields, call Initialize, and Close when done.
type Channel struct {
	// ChannelID is the channel recorded (its stream is live/<ChannelID>).
	ChannelID string
	// Node names this recorder in the rows it writes.
	Node string
	// FeedURL is mediagw's HTTP base (recorder.mediagw_url): the stream is
	// read from its unit feed, <FeedURL>/feed/live/<ChannelID>.
	FeedURL string
	// Tokens gives the play token of the stream.
	Tokens TokenSource
	// Store receives the segments; Index their rows and the gaps.
	Store Store
	Index Index
	// States tells camera_offline from stream_error; nil counts every
	// failure of the stream as a stream_error.
	States StateReader
	// RetentionDays is the retention written into the segments' rows.
	RetentionDays int
	// SegmentDuration and FragmentDuration: see the package config.
	SegmentDuration  time.Duration
	FragmentDuration time.Duration
	// Stagger lengthens the first segment of each session (less than
	// SegmentDuration; 0 for none). Channels that start together would
	// otherwise cut their segments in the same second forever, and a
	// hundred index inserts and file syncs at once stalled their
	// recording loops for seconds (a gap each); Stagger spreads the cuts.
	Stagger time.Duration
	// DownSince, when set, is the end of the recording another node left
	// when it died: a recorder_down gap from it to this node's first
	// segment is recorded.
	DownSince time.Time
	// ReadTimeout ends a session that delivers nothing for this long.
	ReadTimeout time.Duration
	// DBTimeout bounds one index write.
	DBTimeout time.Duration
	// BackoffMin, BackoffMax and BackoffReset shape the reconnects.
	BackoffMin, BackoffMax, BackoffReset time.Duration
	// RetryInterval is how often a failed commit is tried again.
	RetryInterval time.Duration
	// Now is the wall clock of the segments and gaps; nil means time.Now.
	Now func() time.Time
	// Metrics, when set, counts the segments and bytes (the Index counts
	// the gaps).
	Metrics *Metrics
	// Log receives one line per session, segment error and gap.
	Log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	// gap is the open gap's id (0: none) and its cause; only run touches it.
	gapID    int64
	gapCause recordingdb.Cause
	// inherited: the gaps the channel had open when this capture started
	// are still to be closed (takeOver); only run touches it.
	inherited bool
	// lastEnd is the end of the last media written, where a new gap starts;
	// before the first segment a gap starts where the channel started.
	lastEnd   time.Time
	startedAt time.Time
	// commits feeds commitLoop the closed segments; pending are those whose
	// commit or index row failed (only commitLoop touches it).
	commits    chan commitJob
	commitDone chan struct{}
	pending    []recordingdb.Segment
}

// Initialize checks the configuration and starts recording.
func (c *Channel) Initialize() error {
	if c.ChannelID == "" || c.Node == "" || c.FeedURL == "" || c.Tokens == nil || c.Store == nil || c.Index == nil {
		return fmt.Errorf("initialize capture: %w: channel, node, feed URL, tokens, store and index are required", ErrInvalid)
	}
	if c.RetentionDays <= 0 {
		return fmt.Errorf("initialize capture: %w: retention days must be positive", ErrInvalid)
	}
	setDefault(&c.SegmentDuration, DefaultSegmentDuration)
	setDefault(&c.FragmentDuration, DefaultFragmentDuration)
	setDefault(&c.ReadTimeout, DefaultReadTimeout)
	setDefault(&c.DBTimeout, DefaultDBTimeout)
	setDefault(&c.BackoffMin, DefaultBackoffMin)
	setDefault(&c.BackoffMax, DefaultBackoffMax)
	setDefault(&c.BackoffReset, DefaultBackoffReset)
	setDefault(&c.RetryInterval, DefaultRetryInterval)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	c.Log = c.Log.With("channel_id", c.ChannelID)
	c.startedAt = c.Now()
	c.inherited = true
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.done = make(chan struct{})
	c.commits = make(chan commitJob, commitQueue)
	c.commitDone = make(chan struct{})
	go c.commitLoop()
	go c.run()
	return nil
}

// Close stops recording: the open segment is closed, indexed and
// committed (what cannot be committed now stays open for the repair at the
// next start). It returns when that is done; calling it again does nothing.
func (c *Channel) Close() {
	c.cancel()
	<-c.done
	<-c.commitDone
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d <= 0 {
		*d = v
	}
}

func (c *Channel) run() {
	defer close(c.done)
	defer close(c.commits) // commitLoop commits what is queued, then ends
	if !c.DownSince.IsZero() {
		c.openGap(c.DownSince, recordingdb.CauseRecorderDown, "the node recording this channel stopped")
	}
	backoff := c.BackoffMin
	for {
		began := c.Now()
		err := c.record()
		if c.ctx.Err() != nil {
			c.closeGapAtStop()
			return
		}
		if c.Now().Sub(began) >= c.BackoffReset {
			backoff = c.BackoffMin
		}
		c.failed(err)
		select {
		case <-time.After(backoff):
		case <-c.ctx.Done():
			c.closeGapAtStop()
			return
		}
		backoff = min(2*backoff, c.BackoffMax)
	}
}

// closeGapAtStop ends an open gap when the channel stops: what follows
// (the scheduler's plan_off, another node's recording) is not this gap.
func (c *Channel) closeGapAtStop() { c.closeGap(c.Now()) }

// failed records the gap a session's end leaves.
func (c *Channel) failed(err error) {
	cause := recordingdb.CauseStreamError
	switch {
	case errors.Is(err, ErrStorage):
		cause = recordingdb.CauseStorageError
	case c.offline():
		cause = recordingdb.CauseCameraOffline
	}
	c.Log.Warn("recording interrupted", "cause", cause, "error", err)
	start := c.lastEnd
	if start.IsZero() {
		start = c.startedAt
	}
	c.openGap(start, cause, err.Error())
}

// offline asks whether the channel is offline; unknown counts as online
// (then the stream's error says what happened).
func (c *Channel) offline() bool {
	if c.States == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.DBTimeout)
	defer cancel()
	on, err := c.States.ChannelOnline(ctx, c.ChannelID)
	if err != nil {
		c.Log.Warn("channel state unknown", "error", err)
		return false
	}
	return !on
}

// openGap opens a gap unless one is open already (the first cause stays:
// it is what started the hole).
func (c *Channel) openGap(start time.Time, cause recordingdb.Cause, detail string) {
	if c.gapID != 0 {
		return
	}
	c.takeOver(start)
	ctx, cancel := context.WithTimeout(context.Background(), c.DBTimeout)
	defer cancel()
	id, _, err := c.Index.OpenGap(ctx, recordingdb.Gap{ChannelID: c.ChannelID, Start: start, Cause: cause, Detail: detail, Node: c.Node})
	if err != nil {
		c.Log.Error("gap not recorded", "cause", cause, "start", start, "error", err)
		return
	}
	c.gapID, c.gapCause = id, cause
}

// stallGap is the longest hole between two segments that is not a gap: a
// segment starts at a key frame, up to a GOP after the previous ended.
const stallGap = time.Second

// stalled records the hole before a segment starting at start when no gap
// is open to explain it: the stream stalled without ending (a stream_error
// gap, already over).
func (c *Channel) stalled(start time.Time) {
	if c.gapID != 0 || c.lastEnd.IsZero() || start.Sub(c.lastEnd) <= stallGap {
		return
	}
	ctx, cancel := c.dbContext()
	defer cancel()
	g := recordingdb.Gap{
		ChannelID: c.ChannelID, Start: c.lastEnd, End: start, Cause: recordingdb.CauseStreamError,
		Detail: "no media for " + start.Sub(c.lastEnd).Round(time.Millisecond).String(), Node: c.Node,
	}
	if _, _, err := c.Index.OpenGap(ctx, g); err != nil {
		c.Log.Error("gap not recorded", "cause", g.Cause, "start", g.Start, "error", err)
		return
	}
	c.Log.Warn("stream stalled", "from", g.Start, "to", g.End)
}

// takeOver ends the gaps the channel had open when this capture started —
// a cleanly stopped node's recorder_down, a plan_off, what a crashed run
// left open — where this capture's first record, a gap or a segment,
// starts: segments and gaps then tile the time across a restart (the
// scheduler takes the channel a second or two before its first segment).
// A failure leaves them to the next call.
func (c *Channel) takeOver(at time.Time) {
	if !c.inherited {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.DBTimeout)
	defer cancel()
	n, err := c.Index.CloseOpenGaps(ctx, c.ChannelID, at)
	if err != nil {
		c.Log.Error("the gaps the channel had open are not closed", "error", err)
		return
	}
	c.inherited = false
	if n > 0 {
		c.Log.Info("gaps closed", "gaps", n, "end", at)
	}
}

// closeGap ends the open gap where recording resumed (and, at the first
// segment, those the channel had open before).
func (c *Channel) closeGap(end time.Time) {
	c.takeOver(end)
	if c.gapID == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.DBTimeout)
	defer cancel()
	// ErrNotFound: closed already (a takeOver that failed at first and
	// closed it with the others later).
	if err := c.Index.CloseGap(ctx, c.gapID, end); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.Log.Error("gap not closed", "gap_id", c.gapID, "error", err)
		return
	}
	c.Log.Info("gap closed", "gap_id", c.gapID, "cause", c.gapCause, "end", end)
	c.gapID, c.gapCause = 0, ""
}
