package recordingdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// TestPlaybackSegments: the segments overlapping a range, in time order,
// the one started before the range included, the open one too, marked ones
// and other channels' not.
func TestPlaybackSegments(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	m := time.Minute
	a := addSegment(t, db, chA, "n1", t0, t0.Add(m), 30)
	b := addSegment(t, db, chA, "n1", t0.Add(m), t0.Add(2*m), 30)
	addSegment(t, db, chB, "n1", t0, t0.Add(m), 30)
	// A gap, then a segment marked for deletion, then the open one.
	marked := addSegment(t, db, chA, "n1", t0.Add(5*m), t0.Add(6*m), 30)
	if _, err := db.Pool.Exec(ctx, `UPDATE recordings SET deleting = true WHERE id = $1`, marked); err != nil {
		t.Fatal(err)
	}
	open, err := db.OpenSegment(ctx, recordingdb.Segment{
		ChannelID: chA, Start: t0.Add(10 * m), ObjectKey: key(chA, t0.Add(10*m)), Store: "dir://n1", RetentionDays: 30, Node: "n1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ExtendSegment(ctx, open, t0.Add(10*m+20*time.Second), 4096); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		start, end time.Time
		want       []int64
	}{
		{"inside the first", t0.Add(30 * time.Second), t0.Add(40 * time.Second), []int64{a}},
		{"across the boundary", t0.Add(30 * time.Second), t0.Add(90 * time.Second), []int64{a, b}},
		{"from the boundary", t0.Add(m), t0.Add(3 * m), []int64{b}},
		{"across the gap and the marked one", t0.Add(90 * time.Second), t0.Add(11 * m), []int64{b, open}},
		{"in the gap", t0.Add(3 * m), t0.Add(4 * m), nil},
		{"the open one", t0.Add(10 * m), t0.Add(time.Hour), []int64{open}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			segs, err := db.PlaybackSegments(ctx, chA, c.start, c.end)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, s := range segs {
				got = append(got, s.ID)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	if _, err := db.PlaybackSegments(ctx, chA, t0, t0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty range: %v", err)
	}

	if s, err := db.ChannelSegment(ctx, chA, b); err != nil || s.ID != b || s.ObjectKey != key(chA, t0.Add(m)) {
		t.Fatalf("ChannelSegment = %+v, %v", s, err)
	}
	for _, c := range []struct {
		ch string
		id int64
	}{{chB, b}, {chA, marked}, {chA, 1 << 40}} {
		if _, err := db.ChannelSegment(ctx, c.ch, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ChannelSegment(%s, %d): %v, want not found", c.ch, c.id, err)
		}
	}
}

// TestNodeURLs: a node's public URL when it set one, else its URL; the
// scheduler's beats keep it.
func TestNodeURLs(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	r := recordingdb.Retention{StandardDays: 30, KeyDays: 90}
	beats := []recordingdb.Beat{
		{Node: "n1", URL: "http://n1:8082", PublicURL: "https://rec1.example", Retention: r, Started: true},
		{Node: "n2", URL: "http://n2:8082", Retention: r, Started: true},
	}
	for _, b := range beats {
		if err := db.Heartbeat(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	urls, err := db.NodeURLs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(urls) != 2 || urls["n1"] != "https://rec1.example" || urls["n2"] != "http://n2:8082" {
		t.Fatalf("NodeURLs = %v", urls)
	}
}
