package recorder

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capture"
	"github.com/sharpeyes/sharpeyes/internal/recorder/scheduler"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// lines records the messages logged through it.
type lines struct {
	mu   sync.Mutex
	msgs []string
}

func (l *lines) Enabled(context.Context, slog.Level) bool { return true }

func (l *lines) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, r.Message)
	l.mu.Unlock()
	return nil
}
func (l *lines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *lines) WithGroup(string) slog.Handler      { return l }

// count returns how many times msg was logged.
func (l *lines) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, m := range l.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

func newIndex(t *testing.T) (index, *lines) {
	t.Helper()
	l := &lines{}
	return index{DB: recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4)), gaps: newGapCounter(nil), log: slog.New(l)}, l
}

// TestGapsCounted: every gap opened through the index is logged and
// counted, whoever opens it; the restarted node's recorder_down gap that
// goes on from the repair's is the same gap, logged as extended and not
// counted again.
func TestGapsCounted(t *testing.T) {
	x, log := newIndex(t)
	ctx := context.Background()
	const ch = "34020000001310000001"
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	restart := t0.Add(time.Minute)
	for _, g := range []recordingdb.Gap{
		// repair.Node: from the repaired end to the restart.
		{ChannelID: ch, Start: t0, End: restart, Cause: recordingdb.CauseRecorderDown, Node: "a"},
		// The capture, DownSince the restart: the same hole going on.
		{ChannelID: ch, Start: restart, Cause: recordingdb.CauseRecorderDown, Node: "a"},
	} {
		if _, _, err := x.OpenGap(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	if n := testutil.ToFloat64(x.gaps.WithLabelValues(string(recordingdb.CauseRecorderDown))); n != 1 {
		t.Errorf("recorder_gaps_total{cause=recorder_down} = %v, want 1", n)
	}
	if o, e := log.count("gap opened"), log.count("gap extended"); o != 1 || e != 1 {
		t.Errorf("logged %d opened, %d extended; want 1 and 1", o, e)
	}
	gaps, err := x.OpenGaps(ctx, ch)
	if err != nil || len(gaps) != 1 || !gaps[0].Start.Equal(t0) {
		t.Fatalf("open gaps %+v, %v; want one from %v", gaps, err, t0)
	}
	// The scheduler's gap is counted too.
	if _, _, err := x.OpenGap(ctx, recordingdb.Gap{ChannelID: ch + "2", Start: t0, Cause: recordingdb.CausePlanOff}); err != nil {
		t.Fatal(err)
	}
	if n := testutil.ToFloat64(x.gaps.WithLabelValues(string(recordingdb.CausePlanOff))); n != 1 {
		t.Errorf("recorder_gaps_total{cause=plan_off} = %v, want 1", n)
	}
}

// noToken is a token source that never gives one: the capture records a
// stream_error gap and retries until closed.
type noToken struct{}

func (noToken) Token(context.Context) (string, error) { return "", errors.New("no token in this test") }

// TestRecordingChannelLoggedOnce: a channel started is logged once, even
// when started again while it runs.
func TestRecordingChannelLoggedOnce(t *testing.T) {
	x, log := newIndex(t)
	st, err := objstore.New(context.Background(), objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := &channels{
		log: slog.New(log),
		template: capture.Channel{
			Node: "a", FeedURL: "http://127.0.0.1:1", Tokens: noToken{}, Store: st, Index: x, Log: slog.New(log),
		},
		running: map[string]*capture.Channel{},
		down:    map[string]time.Time{},
	}
	const ch = "34020000001310000001"
	c.Start(ch, scheduler.Lease{ChannelID: ch, RetentionDays: 30})
	c.Start(ch, scheduler.Lease{ChannelID: ch, RetentionDays: 30})
	c.Stop(ch, scheduler.StopClosing)
	if n := log.count("recording channel"); n != 1 {
		t.Errorf("logged %q %d times", "recording channel", n)
	}
}
