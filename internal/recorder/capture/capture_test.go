package capture_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/capture"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// frame is one video frame of the test clips (25 fps).
const frame = 40 * time.Millisecond

// TestRecords records a stream that is killed and comes back: segments of
// SegmentDuration cut at key frames, indexed, playable by ffprobe, as long
// as the media fed; a stream_error gap between the two sessions.
func TestRecords(t *testing.T) {
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			e := newEnv(t)
			const ch = "34020000001320000001"
			clip := mediatest.NewClip(t, codec, 320, 240, 25, 2)
			f := e.feed(t, "live/"+ch, clip)
			c := e.channel(t, ch, nil)

			testsupport.Eventually(t, wait, "two closed segments", func() bool {
				return closedCount(e.segments(t, ch)) >= 2
			})
			f.stop()
			fed1 := f.fed()
			testsupport.Eventually(t, wait, "a stream_error gap", func() bool {
				g := e.gaps(t, ch)
				return len(g) == 1 && g[0].Cause == recordingdb.CauseStreamError
			})
			before := e.segments(t, ch)
			f2 := e.feed(t, "live/"+ch, clip)
			testsupport.Eventually(t, wait, "the gap closed and a segment after it", func() bool {
				g := e.gaps(t, ch)
				return len(g) == 1 && !g[0].End.IsZero() && closedCount(e.segments(t, ch)) > len(before)
			})
			c.Close()
			f2.stop()
			fed := fed1 + f2.fed()
			// Each session's first segment starts when its first key frame
			// reached mediagw — not when the recorder read it from the
			// cached GOP (up to a second later) or a flush later. The
			// tolerance is the header's delivery on a loaded machine.
			const dated = 250 * time.Millisecond
			segs, gap := e.segments(t, ch), e.gaps(t, ch)[0]
			if !f.keyAt(segs[0].Start, dated) {
				t.Errorf("the first segment starts at %s, when no key frame was published", segs[0].Start.Format("15:04:05.000"))
			}
			for _, s := range segs {
				if !s.Start.Before(gap.End) {
					if !f2.keyAt(s.Start, dated) {
						t.Errorf("the first segment after the gap starts at %s, when no key frame was published", s.Start.Format("15:04:05.000"))
					}
					break
				}
			}
			t.Logf("segments:%s\ngap %s–%s %s", fmtSegs(segs), gap.Start.Format("15:04:05.000"), gap.End.Format("15:04:05.000"), gap.Detail)
			var recorded time.Duration
			for i, s := range segs {
				if s.Open {
					t.Fatalf("segment %s still open after Close", s.ObjectKey)
				}
				recorded += s.End.Sub(s.Start)
				p := ffprobe(t, filepath.Join(e.root, filepath.FromSlash(s.ObjectKey)))
				want := map[ps.Codec]string{ps.CodecH264: "h264", ps.CodecH265: "hevc"}[codec]
				if p.Codec != want || p.Width != 320 || p.Height != 240 || s.Width != 320 || s.Height != 240 {
					t.Errorf("segment %d: ffprobe %+v, index %dx%d", i, p, s.Width, s.Height)
				}
				if !near(p.Duration, s.End.Sub(s.Start), time.Millisecond) {
					t.Errorf("segment %d: ffprobe %v, index %v", i, p.Duration, s.End.Sub(s.Start))
				}
				if i == 0 {
					continue
				}
				prev := segs[i-1]
				if !s.Start.Before(gap.Start) && !prev.End.After(gap.Start) {
					// The first segment after the gap starts where the gap ends.
					if !prev.End.Equal(gap.Start) || !s.Start.Equal(gap.End) {
						t.Errorf("gap %v–%v between %v and %v", gap.Start, gap.End, prev.End, s.Start)
					}
					continue
				}
				// Within a session segments touch and last SegmentDuration
				// (key frames every second).
				if !near(s.Start.Sub(prev.End), 0, 2*time.Millisecond) {
					t.Errorf("segment %d starts %v after the previous ended", i, s.Start.Sub(prev.End))
				}
				if !near(prev.End.Sub(prev.Start), segDur, frame) {
					t.Errorf("segment %d lasts %v, want %v", i-1, prev.End.Sub(prev.Start), segDur)
				}
			}
			// Each session starts on the hub's cached GOP, published before
			// the recorder read (at most a key-frame interval, 1 s, that the
			// feeder did not count), and lacks at most a fragment at its end.
			t.Logf("recorded %v of %v fed to readers", recorded, fed)
			if recorded > fed+2*time.Second+frame || recorded < fed-2*(time.Second+fragDur) {
				t.Errorf("recorded %v of %v fed", recorded, fed)
			}
			if n := testutil.ToFloat64(e.metrics.Recording); n != 0 {
				t.Errorf("recording gauge %v after Close", n)
			}
		})
	}
}

// TestStorageError: the store's directory breaks under the recorder (its
// root becomes a file): a storage_error gap from the end of what was kept,
// then recording resumes once the directory is back.
func TestStorageError(t *testing.T) {
	e := newEnv(t)
	const ch = "34020000001320000002"
	e.feed(t, "live/"+ch, mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	e.channel(t, ch, nil)
	testsupport.Eventually(t, wait, "a closed segment", func() bool { return closedCount(e.segments(t, ch)) >= 1 })
	if err := os.RemoveAll(e.root); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.root, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, wait, "a storage_error gap", func() bool {
		g := e.gaps(t, ch)
		return len(g) == 1 && g[0].Cause == recordingdb.CauseStorageError
	})
	if err := os.Remove(e.root); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.root, 0o755); err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, wait, "the gaps closed and a segment after them", func() bool {
		var last time.Time
		for _, g := range e.gaps(t, ch) {
			if g.End.IsZero() {
				return false
			}
			last = g.End
		}
		for _, s := range e.segments(t, ch) {
			if !s.Open && !s.Start.Before(last) {
				return true
			}
		}
		return false
	})
	// The segment being written when the directory broke is lost; once the
	// storage is back its row goes and a gap of its own explains it.
	testsupport.Eventually(t, wait, "the lost segment's row replaced by a gap", func() bool {
		return len(e.gaps(t, ch)) == 2
	})
	segs, gaps := e.segments(t, ch), e.gaps(t, ch)
	for _, g := range gaps {
		t.Logf("gap %s–%s %s %s", g.Start.Format("15:04:05.000"), g.End.Format("15:04:05.000"), g.Cause, g.Detail)
	}
	t.Logf("segments:%s", fmtSegs(segs))
	// Segments and gaps tile the time from the first segment to the last.
	type span struct{ start, end time.Time }
	var spans []span
	for _, s := range segs {
		spans = append(spans, span{s.Start, s.End})
	}
	for _, g := range gaps {
		spans = append(spans, span{g.Start, g.End})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	for i := 1; i < len(spans); i++ {
		if !spans[i].start.Equal(spans[i-1].end) {
			t.Errorf("span %d starts at %v, the one before ends at %v", i, spans[i].start, spans[i-1].end)
		}
	}
	for _, g := range gaps {
		if g.Cause != recordingdb.CauseStorageError {
			t.Errorf("gap cause %s", g.Cause)
		}
	}
}

// TestCameraOffline: the stream ends while the channel is offline: the gap
// says camera_offline.
func TestCameraOffline(t *testing.T) {
	e := newEnv(t)
	const ch = "34020000001320000003"
	f := e.feed(t, "live/"+ch, mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	state := &onlineState{}
	e.channel(t, ch, func(c *capture.Channel) { c.States = state })
	testsupport.Eventually(t, wait, "a segment", func() bool { return len(e.segments(t, ch)) >= 1 })
	state.offline.Store(true)
	f.stop()
	testsupport.Eventually(t, wait, "a camera_offline gap", func() bool {
		g := e.gaps(t, ch)
		return len(g) == 1 && g[0].Cause == recordingdb.CauseCameraOffline && g[0].End.IsZero()
	})
}

// TestS3Down: MinIO stops under the recorder: the segments stay whole in
// the spool directory, recording goes on without a hole, and once MinIO is
// back every segment is uploaded, its row closed and its spool file gone.
func TestS3Down(t *testing.T) {
	m := miniotest.Start(t)
	spool := filepath.Join(t.TempDir(), "spool")
	e := newEnv(t, m.Config(m.Bucket(t, "recordings"), spool))
	const ch = "34020000001320000004"
	e.feed(t, "live/"+ch, mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	c := e.channel(t, ch, nil)
	testsupport.Eventually(t, wait, "a closed segment", func() bool { return closedCount(e.segments(t, ch)) >= 1 })
	m.Stop()
	committed := closedCount(e.segments(t, ch))
	// Two more segments end while MinIO is down: their rows stay open.
	testsupport.Eventually(t, wait, "segments waiting for MinIO", func() bool {
		return len(e.segments(t, ch))-committed >= 3
	})
	m.Restart()
	testsupport.Eventually(t, wait+miniotest.StartTimeout, "every segment uploaded", func() bool {
		segs := e.segments(t, ch)
		return closedCount(segs) == len(segs)-1 && closedCount(segs) > committed+2
	})
	c.Close()
	segs := e.segments(t, ch)
	t.Logf("segments:%s", fmtSegs(segs))
	if g := e.gaps(t, ch); len(g) != 0 {
		t.Errorf("gaps %+v: nothing was lost", g)
	}
	ctx := context.Background()
	for i, s := range segs {
		if s.Open {
			t.Errorf("segment %s open after Close", s.ObjectKey)
		}
		if i > 0 && !s.Start.Equal(segs[i-1].End) {
			t.Errorf("segment %d starts at %v, the one before ends at %v", i, s.Start, segs[i-1].End)
		}
		obj, err := e.store.Open(ctx, s.ObjectKey)
		if err != nil {
			t.Errorf("object %s: %v", s.ObjectKey, err)
			continue
		}
		if obj.Size() != s.Bytes {
			t.Errorf("object %s: %d bytes, index %d", s.ObjectKey, obj.Size(), s.Bytes)
		}
		obj.Close()
	}
	left := 0
	_ = filepath.WalkDir(spool, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left++
		}
		return nil
	})
	if left != 0 {
		t.Errorf("%d files left in the spool directory", left)
	}
}

// TestNoStreamYet: a channel whose stream cannot be opened has a
// stream_error gap from when it started (the injected clock's time), closed
// when its first segment starts; the plan_off gap it had open before ends
// where the stream_error one starts. Close returns while nothing streams.
func TestNoStreamYet(t *testing.T) {
	e := newEnv(t)
	const ch = "34020000001320000005"
	started := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	e.openGap(t, ch, started.Add(-time.Hour), recordingdb.CausePlanOff)
	var clock atomic.Pointer[time.Time]
	clock.Store(&started)
	c := e.channel(t, ch, func(c *capture.Channel) { c.Now = func() time.Time { return *clock.Load() } })
	testsupport.Eventually(t, wait, "a stream_error gap", func() bool {
		g := e.gaps(t, ch)
		return len(g) == 2 && g[1].Cause == recordingdb.CauseStreamError && g[1].End.IsZero()
	})
	g := e.gaps(t, ch)
	if !g[1].Start.Equal(started) || !strings.Contains(g[1].Detail, "404") {
		t.Errorf("gap %+v, want from %v with the server's refusal", g[1], started)
	}
	if g[0].Cause != recordingdb.CausePlanOff || !g[0].End.Equal(started) {
		t.Errorf("the plan_off gap %+v, want it to end at %v", g[0], started)
	}
	later := started.Add(time.Minute)
	clock.Store(&later)
	e.feed(t, "live/"+ch, mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	testsupport.Eventually(t, wait, "the gap closed at the first segment", func() bool {
		g, s := e.gaps(t, ch), e.segments(t, ch)
		return len(s) > 0 && len(g) == 2 && g[1].End.Equal(s[0].Start)
	})
	c.Close()
}

// TestTakesOverGaps: the recorder_down gap a cleanly stopped node left open
// (and any other gap open when the channel starts) ends exactly where the
// first segment starts, not when the channel was taken: no hole between.
func TestTakesOverGaps(t *testing.T) {
	e := newEnv(t)
	const ch = "34020000001320000006"
	stopped := time.Now().Add(-time.Minute)
	e.openGap(t, ch, stopped, recordingdb.CauseRecorderDown)
	e.openGap(t, ch, stopped.Add(-time.Hour), recordingdb.CauseCameraOffline) // left by a crash
	e.feed(t, "live/"+ch, mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2))
	c := e.channel(t, ch, nil)
	testsupport.Eventually(t, wait, "a segment", func() bool { return len(e.segments(t, ch)) > 0 })
	c.Close()
	first := e.segments(t, ch)[0]
	g := e.gaps(t, ch)
	if len(g) != 2 {
		t.Fatalf("gaps %+v", g)
	}
	for _, gap := range g {
		if !gap.End.Equal(first.Start) {
			t.Errorf("%s gap ends %v, the first segment starts %v", gap.Cause, gap.End, first.Start)
		}
	}
}

// TestStagger: a session's first segment lasts SegmentDuration + Stagger
// (cut at the first key frame after it), the next ones SegmentDuration.
func TestStagger(t *testing.T) {
	e := newEnv(t)
	const ch = "34020000001320000002"
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	e.feed(t, "live/"+ch, clip)
	const stagger = time.Second // the clip's key frame interval: the cut is exact
	c := e.channel(t, ch, func(c *capture.Channel) { c.Stagger = stagger })
	testsupport.Eventually(t, wait+stagger, "two closed segments", func() bool {
		return closedCount(e.segments(t, ch)) >= 2
	})
	c.Close()
	segs := e.segments(t, ch)
	const frame = 40 * time.Millisecond
	if d := segs[0].End.Sub(segs[0].Start); !near(d, segDur+stagger, frame) {
		t.Errorf("first segment lasts %v, want %v", d, segDur+stagger)
	}
	if d := segs[1].End.Sub(segs[1].Start); !near(d, segDur, frame) {
		t.Errorf("second segment lasts %v, want %v", d, segDur)
	}
}
