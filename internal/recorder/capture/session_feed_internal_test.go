package capture

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// feedSession returns a session reading a feed of units written in memory.
func feedSession(t *testing.T, tracks []string, units []unitfeed.Unit) *session {
	t.Helper()
	var buf bytes.Buffer
	w := unitfeed.NewWriter(&buf, 1024)
	if err := w.WriteHeader(unitfeed.Header{Tracks: tracks}); err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if err := w.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	s := &session{body: io.NopCloser(&buf), feed: unitfeed.NewReader(&buf, 4096)}
	if err := s.describe(time.Now); err != nil {
		t.Fatal(err)
	}
	return s
}

func adts(t *testing.T, aus ...[]byte) []byte {
	t.Helper()
	var pkts mpeg4audio.ADTSPackets
	for _, au := range aus {
		pkts = append(pkts, &mpeg4audio.ADTSPacket{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 16000, ChannelConfig: 1, AU: au})
	}
	b, err := pkts.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSessionTracks: the header and, for AAC, the first ADTS header set up
// the tracks; the units read meanwhile are recorded, in order, with their
// times on one clock from the session's first unit.
func TestSessionTracks(t *testing.T) {
	key := []byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x65, 0x88}
	inter := []byte{0, 0, 0, 1, 0x41, 0x9a}
	t.Run("H264 and AAC", func(t *testing.T) {
		s := feedSession(t, []string{unitfeed.CodecH264, unitfeed.CodecAAC}, []unitfeed.Unit{
			{Track: 0, Key: true, PTS: 1000, Payload: key},
			{Track: 0, PTS: 4600, Payload: inter},
			{Track: 1, Key: true, PTS: 1000 + 9000, Payload: adts(t, []byte{1, 2, 3}, []byte{4, 5})},
			{Track: 0, PTS: 8200, Payload: inter},
		})
		if len(s.tracks) != 2 || s.tracks[0].Codec() != segment.CodecH264 || s.tracks[1].Codec() != segment.CodecAAC ||
			s.tracks[1].TimeScale() != 16000 {
			t.Fatalf("tracks %v", s.tracks)
		}
		want := []struct {
			codec string
			pts   int64
			au    [][]byte
		}{
			{segment.CodecH264, 0, [][]byte{{0x09, 0xf0}, {0x67, 0x42}, {0x65, 0x88}}},
			{segment.CodecH264, 3600, [][]byte{{0x41, 0x9a}}},
			{segment.CodecAAC, 1600, [][]byte{{1, 2, 3}, {4, 5}}}, // 100 ms at 16 kHz
			{segment.CodecH264, 7200, [][]byte{{0x41, 0x9a}}},
		}
		for i, w := range want {
			u, err := s.next()
			if err != nil {
				t.Fatalf("unit %d: %v", i, err)
			}
			if u.track.Codec() != w.codec || u.pts != w.pts || len(u.au) != len(w.au) {
				t.Fatalf("unit %d: %s pts %d %d NALUs, want %+v", i, u.track.Codec(), u.pts, len(u.au), w)
			}
			for j := range w.au {
				if !bytes.Equal(u.au[j], w.au[j]) {
					t.Fatalf("unit %d part %d: %x, want %x", i, j, u.au[j], w.au[j])
				}
			}
		}
		if _, err := s.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last unit: %v", err)
		}
	})
	t.Run("AAC that never comes", func(t *testing.T) {
		var units []unitfeed.Unit
		for i := range 30 {
			units = append(units, unitfeed.Unit{Track: 0, Key: i == 0, PTS: int64(i) * 3600, Payload: inter})
		}
		s := feedSession(t, []string{unitfeed.CodecH265, unitfeed.CodecAAC}, units)
		if len(s.tracks) != 1 || s.tracks[0].Codec() != segment.CodecH265 {
			t.Fatalf("tracks %v", s.tracks)
		}
		n := 0
		for {
			if _, err := s.next(); err != nil {
				break
			}
			n++
		}
		if n != 30 {
			t.Fatalf("%d units recorded of 30", n)
		}
	})
	t.Run("G711 and a track not recorded", func(t *testing.T) {
		s := feedSession(t, []string{unitfeed.CodecG711U, unitfeed.CodecH264, unitfeed.CodecG711A}, []unitfeed.Unit{
			{Track: 0, Key: true, PTS: -900, Payload: []byte{0xff}},
			{Track: 2, Key: true, PTS: 0, Payload: []byte{0xd5}},
			{Track: 1, Key: true, PTS: 0, Payload: key},
		})
		if len(s.tracks) != 2 || s.tracks[1].Codec() != segment.CodecG711U {
			t.Fatalf("tracks %v", s.tracks)
		}
		u, err := s.next()
		if err != nil || u.track.Codec() != segment.CodecG711U || u.pts != 0 {
			t.Fatalf("first unit %+v, %v", u, err)
		}
		// The A-law track is not recorded (one audio track): skipped.
		u, err = s.next()
		if err != nil || u.track.Codec() != segment.CodecH264 || u.pts != 900 {
			t.Fatalf("second unit %+v, %v", u, err)
		}
	})
}

// FuzzSession: any feed gives tracks and units or an error, never a panic,
// and every unit recorded belongs to a recorded track.
func FuzzSession(f *testing.F) {
	var buf bytes.Buffer
	w := unitfeed.NewWriter(&buf, 1024)
	_ = w.WriteHeader(unitfeed.Header{Tracks: []string{unitfeed.CodecH264, unitfeed.CodecAAC, unitfeed.CodecG711A}})
	_ = w.WriteUnit(unitfeed.Unit{Track: 0, Key: true, Payload: []byte{0, 0, 0, 1, 0x65, 0x88}})
	_ = w.WriteUnit(unitfeed.Unit{Track: 1, Key: true, PTS: 900, Payload: []byte{0xff, 0xf1, 0x50, 0x80, 0x00, 0xff, 0xfc, 1}})
	_ = w.WriteUnit(unitfeed.Unit{Track: 2, Key: true, PTS: 900, Payload: []byte{0xd5}})
	_ = w.Flush()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &session{body: io.NopCloser(bytes.NewReader(nil)), feed: unitfeed.NewReader(bytes.NewReader(data), 4096)}
		if err := s.describe(time.Now); err != nil {
			return
		}
		for range 1000 {
			u, err := s.next()
			if err != nil {
				return
			}
			if u.track == nil || (u.track != s.tracks[0] && (len(s.tracks) < 2 || u.track != s.tracks[1])) {
				t.Fatalf("unit of a track not recorded: %+v", u)
			}
		}
	})
}

// TestSessionDates: a unit's receive time on mediagw's clock is mapped onto
// the recorder's with the offset the header gives, whatever the skew.
func TestSessionDates(t *testing.T) {
	mediagwNow := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	skew := 5*time.Second + 300*time.Millisecond // the recorder's clock is ahead
	var buf bytes.Buffer
	w := unitfeed.NewWriter(&buf, 1024)
	if err := w.WriteHeader(unitfeed.Header{Tracks: []string{unitfeed.CodecH264}, Now: mediagwNow}); err != nil {
		t.Fatal(err)
	}
	key := []byte{0, 0, 0, 1, 0x65, 0x88}
	for _, rx := range []time.Time{mediagwNow.Add(-2 * time.Second), {}} {
		if err := w.WriteUnit(unitfeed.Unit{Key: true, Received: rx, Payload: key}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	s := &session{body: io.NopCloser(&buf), feed: unitfeed.NewReader(&buf, 4096)}
	if err := s.describe(func() time.Time { return mediagwNow.Add(skew) }); err != nil {
		t.Fatal(err)
	}
	u, err := s.next()
	if want := mediagwNow.Add(-2 * time.Second).Add(skew); err != nil || !u.wall.Equal(want) {
		t.Fatalf("wall %v, %v; want %v", u.wall, err, want)
	}
	if u, err = s.next(); err != nil || !u.wall.IsZero() {
		t.Fatalf("a unit without a receive time: wall %v, %v", u.wall, err)
	}
}
