package sipserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func TestTransportOrder(t *testing.T) {
	for _, c := range []struct {
		def, device, channel string
		fallback             bool
		want                 []string
	}{
		{"udp", "", "", true, []string{"udp", "tcp-passive", "tcp-active"}},
		{"udp", "", "", false, []string{"udp"}},
		{"udp", "tcp-passive", "", true, []string{"tcp-passive", "udp", "tcp-active"}},
		{"udp", "tcp-passive", "tcp-active", true, []string{"tcp-active", "udp", "tcp-passive"}},
		{"tcp-active", "", "udp", false, []string{"udp"}},
	} {
		m := &sessionManager{Config: config.Sessions{Transport: c.def, Fallback: c.fallback}}
		if got := m.transports(c.channel, c.device); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v", c, got)
		}
	}
}

// TestSessionErrorStatus: what the API answers (status and machine code)
// for each way a session can fail; console and mediagw switch on the codes.
func TestSessionErrorStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{&RejectedError{Method: "INVITE", Code: 486, Reason: "Busy Here"}, http.StatusConflict, sipapi.CodeDeviceBusy},
		{&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}, http.StatusBadGateway, sipapi.CodeDeviceRefused},
		{fmt.Errorf("x: %w", ErrOffline), http.StatusConflict, sipapi.CodeDeviceOffline},
		{fmt.Errorf("x: %w", ErrTimeout), http.StatusGatewayTimeout, svcapi.CodeTimeout},
		{fmt.Errorf("x: %w", ErrMediaUnavailable), http.StatusServiceUnavailable, sipapi.CodeMediaUnavailable},
		{mediaErr(fmt.Errorf("open: %w", svcapi.ErrUnreachable)), http.StatusServiceUnavailable, sipapi.CodeMediaUnavailable},
		{fmt.Errorf("x: %w", ErrNoSession), http.StatusNotFound, svcapi.CodeNotFound},
		{errors.New("other"), http.StatusInternalServerError, svcapi.CodeInternal},
	} {
		if got := codeOf(c.err); got.Status != c.status || got.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, got.Status, got.Code, c.status, c.code)
		}
	}
	if msg := (&RejectedError{Method: "INVITE", Code: 488, Reason: "Not Acceptable Here"}).Error(); msg !=
		"device rejected INVITE: 488 Not Acceptable Here (SDP not acceptable: transport or media the device does not support)" {
		t.Errorf("488 message %q", msg)
	}
}

// fakeSessionParent is the Server as sessionManager sees it, for tests of
// the manager alone: it records the BYEs and runs background work at once.
// The embedded interface is nil: a call the test does not expect panics.
type fakeSessionParent struct {
	sessionParent

	mu   sync.Mutex
	byes []string // "<channel> <reason>"
}

func (f *fakeSessionParent) now() time.Time { return time.Unix(1_700_000_000, 0) }

func (f *fakeSessionParent) hangup(dlg *dialog, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byes = append(f.byes, dlg.channelID+" "+reason)
}

func (f *fakeSessionParent) background(fn func(ctx context.Context)) { fn(context.Background()) }

func (f *fakeSessionParent) sessionEnded(string, string, string) {}

// fakeSessionStore records the sessions ended.
type fakeSessionStore struct {
	sessionStore

	mu    sync.Mutex
	ended map[string]string // session ID → reason
}

func (f *fakeSessionStore) EndSession(_ context.Context, id, reason string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended[id] = reason
	return true, nil
}

// newTestManager is a sessionManager over fakes with the given established
// sessions ("<id> <kind> <device> <channel>").
func newTestManager(t *testing.T, sessions ...string) (*sessionManager, *fakeSessionParent, *fakeSessionStore) {
	t.Helper()
	p, st := &fakeSessionParent{}, &fakeSessionStore{ended: map[string]string{}}
	m := &sessionManager{
		PlatformID: "34020000002000000001", Store: st, Parent: p, Log: slog.New(slog.DiscardHandler),
		Metrics: newMetrics(prometheus.NewRegistry(), func() (int, int, int) { return 0, 0, 0 }),
	}
	if err := m.initialize(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		var id, kind, dev, ch string
		if _, err := fmt.Sscan(s, &id, &kind, &dev, &ch); err != nil {
			t.Fatal(err)
		}
		ms := &mediaSession{
			row:   store.StreamSession{ID: id, Kind: kind, DeviceID: dev, ChannelID: ch, Path: kind + "/" + id},
			ready: make(chan struct{}),
			dlg:   &dialog{deviceID: dev, channelID: ch, callID: id},
		}
		close(ms.ready)
		m.byPath[ms.row.Path], m.byCall[id] = ms, ms
	}
	return m, p, st
}

// TestMediaStatus121: MediaStatus 121 ends a playback or download in its own
// dialog, and outside any dialog only when exactly one session of the
// device's channel can be meant; live sessions never end by it.
func TestMediaStatus121(t *testing.T) {
	const dev, ch1, ch2 = "34020000001320000001", "34020000001310000001", "34020000001310000002"
	sessions := []string{
		"a " + sipapi.KindPlayback + " " + dev + " " + ch1,
		"b " + sipapi.KindDownload + " " + dev + " " + ch1,
		"c " + sipapi.KindDownload + " " + dev + " " + ch2,
		"d " + sipapi.KindPlay + " " + dev + " " + ch2,
	}
	for _, tc := range []struct {
		name        string
		channel     string
		notifyType  string
		inDialog    string // the session whose dialog carried it, "" for none
		wantEnded   []string
		wantHangups int
	}{
		{"in a playback's dialog", ch1, "121", "a", []string{"a"}, 1},
		{"in a live session's dialog", ch2, "121", "d", nil, 0},
		{"outside a dialog, two sessions of the channel", ch1, "121", "", nil, 0},
		{"outside a dialog, one download of the channel", ch2, "121", "", []string{"c"}, 1},
		{"another notify type", ch2, "122", "", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, p, st := newTestManager(t, sessions...)
			var in *mediaSession
			if tc.inDialog != "" {
				in = m.byCall[tc.inDialog]
			}
			for _, ms := range m.mediaStatus(dev, tc.channel, tc.notifyType, in) {
				m.teardown(ms, ReasonMediaStatus, true)
			}
			var ended []string
			for id, reason := range st.ended {
				if reason != ReasonMediaStatus {
					t.Errorf("session %s ended with %q, want %q", id, reason, ReasonMediaStatus)
				}
				ended = append(ended, id)
			}
			slices.Sort(ended)
			if !slices.Equal(ended, tc.wantEnded) || len(p.byes) != tc.wantHangups {
				t.Fatalf("ended %v with BYEs %v, want %v and %d BYE", ended, p.byes, tc.wantEnded, tc.wantHangups)
			}
			if got, want := m.open(), len(sessions)-len(tc.wantEnded); got != want {
				t.Fatalf("%d sessions open, want %d", got, want)
			}
		})
	}
}

// TestDeviceGone: a device that went away takes all its sessions, and
// only its, with a BYE each.
func TestDeviceGone(t *testing.T) {
	const devA, devB = "34020000001320000001", "34020000001320000002"
	m, p, st := newTestManager(t,
		"a "+sipapi.KindPlay+" "+devA+" 34020000001310000001",
		"b "+sipapi.KindDownload+" "+devA+" 34020000001310000002",
		"c "+sipapi.KindPlay+" "+devB+" 34020000001310000003",
	)
	m.deviceGone(devA, ReasonUnregister)
	if len(st.ended) != 2 || st.ended["a"] != ReasonUnregister || st.ended["b"] != ReasonUnregister {
		t.Fatalf("ended %v, want a and b by %s", st.ended, ReasonUnregister)
	}
	if len(p.byes) != 2 || m.open() != 1 {
		t.Fatalf("BYEs %v and %d open, want 2 BYEs and c open", p.byes, m.open())
	}
}

// TestPathReusedAfterEnd: a viewer back right after a live stream ended
// gets a new session, not mediagw's "path busy": its set-up waits until the
// old session's receiver is closed (here slowly).
func TestPathReusedAfterEnd(t *testing.T) {
	h, mg, _, _ := trustSetup(t, "udp")
	mg.mu.Lock()
	mg.onePerPath, mg.closeDelay = true, 300*time.Millisecond
	mg.mu.Unlock()
	body := `{"path":"live/` + trustCh1 + `"}`
	if code := h.call("POST", "/internal/v1/streams/needed", body, nil); code != 200 {
		t.Fatalf("first viewer: %d", code)
	}
	if code := h.call("POST", "/internal/v1/streams/idle", body, nil); code != 204 {
		t.Fatalf("idle: %d", code)
	}
	var e map[string]any
	if code := h.call("POST", "/internal/v1/streams/needed", body, &e); code != 200 {
		t.Fatalf("a viewer right after the end: %d, want 200 (%v)", code, e)
	}
}
