package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestStreamSessions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	dev := deviceID(1)
	live := store.StreamSession{
		ID: "s1", Kind: "play", DeviceID: dev, ChannelID: "34020000001310000001",
		Path: "live/34020000001310000001", MediaNode: "http://127.0.0.1:8888", Transport: "udp", SSRC: "0100000001",
	}
	if err := s.CreateSession(ctx, live); err != nil {
		t.Fatal(err)
	}
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

	live.ReceiverID, live.CallID, live.FromTag, live.ToTag, live.SSRC = "r1", "call-1", "ft", "tt", "0100000009"
	if err := s.ActivateSession(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := s.ActivateSession(ctx, live); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("activating twice: %v", err)
	}
	got, err := s.OpenSessionByPath(ctx, live.Path)
	if err != nil || got.State != store.SessionActive || got.SSRC != "0100000009" || got.CallID != "call-1" || got.ActiveAt == nil {
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
}
