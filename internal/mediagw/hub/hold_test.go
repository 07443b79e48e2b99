package hub_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
)

func publishHold(t *testing.T, h *hub.Hub, path string, maxBytes int) *hub.Stream {
	t.Helper()
	s, err := h.PublishHold(path, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads r until its queue ends and returns the pattern of the
// units ("KPPA…") and the reader's error. The limit only keeps a broken
// test from hanging.
func readAll(t *testing.T, r *hub.Reader) (string, []hub.Unit, error) {
	t.Helper()
	var b []byte
	var units []hub.Unit
	limit := time.After(20 * time.Second)
	for {
		select {
		case u, ok := <-r.Units():
			if !ok {
				return string(b), units, r.Err()
			}
			units = append(units, u)
			b = append(b, kindOf(u))
		case <-limit:
			t.Fatalf("reader queue did not end; read %q", b)
		}
	}
}

func waitDone(t *testing.T, s *hub.Stream) {
	t.Helper()
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("stream not closed")
	}
}

// TestHoldShortDownload is the short download: the device sends a clip and
// finishes before anybody reads; the reader that attaches afterwards gets
// every unit from the first, in order, then the end of the stream.
func TestHoldShortDownload(t *testing.T) {
	h := newHub(t, &hub.Hub{ReaderQueue: 4}) // a queue much shorter than the clip
	s := publishHold(t, h, "download/1", 1<<20)
	pattern := "AKPPAPPKPPAPPKPPPA"
	sent := write(t, s, pattern)
	s.End()
	select {
	case <-s.Done():
		t.Fatal("a held stream closed before its reader came")
	default:
	}
	if err := s.WriteUnit(unit('P')); !errors.Is(err, hub.ErrStreamClosed) {
		t.Fatalf("write after End: %v", err)
	}
	if st := s.Stats().Hold; st == nil || st.Units != len(pattern) || st.Attached || !st.Ended {
		t.Fatalf("hold %+v", st)
	}
	r := addReader(t, s, "rtsp")
	if !r.Held() {
		t.Fatal("first reader is not held")
	}
	if st := s.Stats().Hold; st == nil || !st.Attached {
		t.Fatalf("hold after the reader attached %+v", st)
	}
	got, units, err := readAll(t, r)
	if got != pattern || !errors.Is(err, hub.ErrStreamEnded) || !errors.Is(err, hub.ErrStreamClosed) {
		t.Fatalf("read %q, %v; want %q, ErrStreamEnded", got, err, pattern)
	}
	for i := range units {
		if units[i].PTS != sent[i].PTS {
			t.Fatalf("unit %d has PTS %d, want %d", i, units[i].PTS, sent[i].PTS)
		}
	}
	waitDone(t, s)
	if _, ok := h.Stream("download/1"); ok {
		t.Fatal("stream still published")
	}
}

// TestHoldReaderFirstThenEnd: the reader attaches while the device sends,
// reads the backlog and the rest without loss, and the stream ends after
// the reader got the last unit.
func TestHoldReaderFirstThenEnd(t *testing.T) {
	h := newHub(t, &hub.Hub{ReaderQueue: 2})
	s := publishHold(t, h, "download/2", 1<<20)
	write(t, s, "KPPP")
	r := addReader(t, s, "rtsp")
	late := addReader(t, s, "whep") // a later reader is a live one
	if late.Held() {
		t.Fatal("second reader held")
	}
	write(t, s, "PPKPPPPKPP")
	s.End()
	got, _, err := readAll(t, r)
	if got != "KPPPPPKPPPPKPP" || !errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("read %q, %v", got, err)
	}
	waitDone(t, s)
	if _, _, err := readAll(t, late); !errors.Is(err, hub.ErrStreamClosed) || errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("live reader ended with %v", err)
	}
}

// TestHoldFullBeforeReader: a hold that fills before the reader comes gives
// up its oldest GOPs, so the reader still starts on a keyframe.
func TestHoldFullBeforeReader(t *testing.T) {
	h := newHub(t, &hub.Hub{})
	// Each video unit is 6 bytes: the hold fits two GOPs of "KPPP".
	s := publishHold(t, h, "download/3", 2*4*6)
	write(t, s, "KPPPKPPPKPP")
	st := s.Stats().Hold
	if st == nil || st.Units != 7 || st.Dropped != 4 || st.Bytes > st.MaxBytes {
		t.Fatalf("hold %+v", st)
	}
	s.End()
	if got, _, err := readAll(t, addReader(t, s, "rtsp")); got != "KPPPKPP" || !errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestHoldReaderTooFarBehind: a held reader that does not read is cut off
// when the hold is full, rather than given a stream with holes.
func TestHoldReaderTooFarBehind(t *testing.T) {
	h := newHub(t, &hub.Hub{ReaderQueue: 1})
	s := publishHold(t, h, "download/4", 10*6)
	r := addReader(t, s, "rtsp")
	for range 30 {
		if err := s.WriteUnit(unit('P')); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := readAll(t, r); !errors.Is(err, hub.ErrSlowReader) {
		t.Fatalf("reader ended with %v", err)
	}
	// The stream goes on live; the device is still sending.
	write(t, s, "K")
	select {
	case <-s.Done():
		t.Fatal("stream closed")
	default:
	}
}

// TestHoldEndWithoutMedia and a reader that leaves: nothing is kept open
// for nobody.
func TestHoldEnds(t *testing.T) {
	h := newHub(t, &hub.Hub{})
	empty := publishHold(t, h, "download/empty", 1<<20)
	empty.End()
	waitDone(t, empty)

	left := publishHold(t, h, "download/left", 1<<20)
	write(t, left, "KPPPKPPP")
	r := addReader(t, left, "rtsp")
	left.End()
	r.Close()
	waitDone(t, left)
	// Closed, or (when the hub had handed it every unit before the end
	// came, which a busy machine may or may not do first) ended cleanly.
	if _, _, err := readAll(t, r); !errors.Is(err, hub.ErrReaderClosed) && !errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("reader error %v", err)
	}

	// A clip too short to be ready becomes ready when it ends.
	short := publishHold(t, h, "download/short", 1<<20)
	write(t, short, "K")
	select {
	case <-short.Ready():
		t.Fatal("ready after one unit")
	default:
	}
	short.End()
	<-short.Ready()
	if got, _, err := readAll(t, addReader(t, short, "rtsp")); got != "K" || !errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("read %q, %v", got, err)
	}

	// Closing (shutdown, or nobody came within the hold time) ends it now.
	closed := publishHold(t, h, "download/closed", 1<<20)
	write(t, closed, "KPPPKPPP")
	cr := addReader(t, closed, "rtsp")
	closed.Close()
	if _, _, err := readAll(t, cr); !errors.Is(err, hub.ErrStreamClosed) || errors.Is(err, hub.ErrStreamEnded) {
		t.Fatalf("reader error %v", err)
	}
	if _, err := h.PublishHold("download/zero", 0); err == nil {
		t.Fatal("hold of 0 bytes accepted")
	}
}

// TestHoldNotIdleBeforeReader: a held stream is not idle before its first
// reader came (the download has not started), only after it left.
func TestHoldNotIdleBeforeReader(t *testing.T) {
	clock := newFakeClock()
	idle := make(chan string, 4)
	h := newHub(t, &hub.Hub{IdleTimeout: time.Second, Now: clock.Now, OnIdle: func(s *hub.Stream) { idle <- s.Path() }})
	s := publishHold(t, h, "download/5", 1<<20)
	live := publish(t, h, "live/1")
	write(t, s, "KPP")
	clock.Advance(time.Hour)
	// The live stream is reported; the held one never is until read.
	if p := <-idle; p != "live/1" {
		t.Fatalf("idle %s", p)
	}
	r := addReader(t, s, "rtsp")
	r.Close()
	clock.Advance(time.Hour)
	if p := <-idle; p != "download/5" {
		t.Fatalf("idle %s", p)
	}
	_ = live
}
