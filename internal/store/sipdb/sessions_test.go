package sipdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestStreamSessions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	dev := deviceID(1)
	l := listen(t, s, store.ChannelSession)
	live := store.StreamSession{
		ID: "s1", Kind: "play", DeviceID: dev, ChannelID: "34020000001310000001",
		Path: "live/34020000001310000001", MediaNode: "http://127.0.0.1:8888", Transport: "udp", SSRC: "0100000001",
	}
	if err := s.CreateSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, l, "s1", store.SessionInviting, "")
	// One open session per path: the second viewer must share the first.
	dup := live
	dup.ID = "s2"
	if err := s.CreateSession(ctx, dup); !errors.Is(err, store.ErrPathBusy) {
		t.Fatalf("second open session on a path: %v", err)
	}
	from, to := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	pb := store.StreamSession{
		ID: "s3", Kind: "playback", DeviceID: dev, ChannelID: "34020000001310000001",
		Path: "playback/s3", RangeStart: &from, RangeEnd: &to,
	}
	if err := s.CreateSession(ctx, pb); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.StreamSession{
		{ID: "x", Kind: "play", DeviceID: dev, ChannelID: "c"},                                    // no path
		{ID: "x", Kind: "watch", DeviceID: dev, ChannelID: "c", Path: "live/x"},                   // bad kind
		{ID: "x", Kind: "play", DeviceID: dev, ChannelID: "c", Path: "live/y", Transport: "sctp"}, // bad transport
		{ID: "s1", Kind: "play", DeviceID: dev, ChannelID: "c", Path: "live/z"},                   // duplicate id
	} {
		if err := s.CreateSession(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}

	wantEvent(t, l, "s3", store.SessionInviting, "")
	live.ReceiverID, live.CallID, live.FromTag, live.ToTag, live.SSRC = "r1", "call-1", "ft", "tt", "0100000009"
	live.RemoteTarget, live.CSeq = "sip:34020000001320000001@127.0.0.1:5062", 20
	if err := s.ActivateSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, l, "s1", store.SessionActive, "")
	if err := s.SetSessionCSeq(ctx, "s1", 22); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSessionCSeq(ctx, "s1", 21); err != nil { // a late writer never moves it back
		t.Fatal(err)
	}
	if err := s.ActivateSession(ctx, live); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("activating twice: %v", err)
	}
	got, err := s.OpenSessionByPath(ctx, live.Path)
	if err != nil || got.State != store.SessionActive || got.SSRC != "0100000009" || got.CallID != "call-1" || got.ActiveAt == nil ||
		got.RemoteTarget != live.RemoteTarget || got.CSeq != 22 {
		t.Fatalf("open session %+v %v", got, err)
	}
	open, err := s.OpenSessions(ctx, dev)
	if err != nil || len(open) != 2 || open[1].RangeStart == nil || !open[1].RangeStart.Equal(from) {
		t.Fatalf("open sessions %+v %v", open, err)
	}
	if other, _ := s.OpenSessions(ctx, deviceID(2)); len(other) != 0 {
		t.Fatalf("another device's sessions: %+v", other)
	}

	// Exactly one caller ends a session.
	ended, err := s.EndSession(ctx, "s1", "idle")
	if err != nil || !ended {
		t.Fatalf("end: %v %v", ended, err)
	}
	wantEvent(t, l, "s1", store.SessionEnded, "idle")
	if again, _ := s.EndSession(ctx, "s1", "bye"); again {
		t.Fatal("ended twice")
	}
	got, err = s.Session(ctx, "s1")
	if err != nil || got.State != store.SessionEnded || got.EndReason != "idle" || got.EndedAt == nil {
		t.Fatalf("ended session %+v %v", got, err)
	}
	if _, err := s.OpenSessionByPath(ctx, live.Path); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ended session still open: %v", err)
	}
	// The path is free again.
	if err := s.CreateSession(ctx, dup); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	all, total, err := s.ListSessions(ctx, store.SessionFilter{DeviceID: dev})
	if err != nil || total != 3 || len(all) != 3 || all[0].ID != "s2" {
		t.Fatalf("list sessions %d %+v %v", total, all, err)
	}
	openPB, total, err := s.ListSessions(ctx, store.SessionFilter{Kind: "playback", Open: true})
	if err != nil || total != 1 || openPB[0].ID != "s3" {
		t.Fatalf("open playback sessions %d %+v %v", total, openPB, err)
	}
}

// wantEvent reads the next session event and checks it.
func wantEvent(t *testing.T, l *listener, id, state, reason string) {
	t.Helper()
	n := l.next(t)
	var ev store.SessionEvent
	if err := json.Unmarshal([]byte(n.payload), &ev); err != nil || n.channel != store.ChannelSession {
		t.Fatalf("event %+v: %v", n, err)
	}
	if ev.ID != id || ev.State != state || ev.Reason != reason || ev.Path == "" || ev.At.IsZero() {
		t.Fatalf("event %+v, want %s %s %q", ev, id, state, reason)
	}
}
