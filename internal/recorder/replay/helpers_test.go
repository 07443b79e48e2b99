package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/recbench"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// t0 is a fixed instant: recordings are placed by it.
var t0 = time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)

const (
	chA  = "34020000001320000001"
	node = "n1"
	// 25 fps, a key frame each second (recbench's clip).
	frameDur = time.Second / recbench.FrameRate
)

var (
	clipOnce sync.Once
	clip     *recbench.Clip
	clipErr  error
)

// frames returns n frames of a small ffmpeg-made H.264 clip.
func frames(t testing.TB, n int) []recbench.Frame {
	t.Helper()
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	clipOnce.Do(func() {
		dir, err := os.MkdirTemp("", "replay-clip")
		if err != nil {
			clipErr = err
			return
		}
		defer os.RemoveAll(dir)
		v, a, err := recbench.MakeClip(context.Background(), ffmpeg, dir,
			recbench.ClipSpec{Size: "320x180", Bitrate: 200_000, Seconds: 10})
		if err != nil {
			clipErr = err
			return
		}
		clip, clipErr = recbench.LoadClip(v, a)
	})
	if clipErr != nil {
		t.Fatal(clipErr)
	}
	if n > len(clip.Frames) {
		t.Fatalf("clip has %d frames, want %d", len(clip.Frames), n)
	}
	return clip.Frames[:n]
}

// segmentOf writes fs (25 fps) as a segment, video only.
func segmentOf(t testing.TB, fs []recbench.Frame) []byte {
	t.Helper()
	tracks, err := segment.NewTracks(&description.Session{Medias: []*description.Media{{
		Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &segment.Writer{W: &buf, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if err := w.WriteVideo(tracks[0], int64(i)*90000/recbench.FrameRate, f.NALUs); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fixture is a recordings index and store with a replayer over them.
type fixture struct {
	db    *recordingdb.DB
	store objstore.Store
	r     *Replayer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := objstore.New(context.Background(), objstore.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{db: recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4)), store: st}
	f.r = &Replayer{DB: f.db, Store: st, Token: "0123456789abcdef0123"}
	if err := f.r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.r.Close)
	return f
}

// add stores n frames as a segment of chA starting at start.
func (f *fixture) add(t *testing.T, start time.Time, n int) {
	t.Helper()
	data := segmentOf(t, frames(t, n))
	key := fmt.Sprintf("%s/%s.mp4", chA, start.UTC().Format("2006/01/02/150405.000"))
	p, err := f.store.WritePath(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := f.store.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	end := start.Add(time.Duration(n) * frameDur)
	if _, err := f.db.Pool.Exec(ctx, `
INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, store, video_codec, retention_days, expires_at, node)
VALUES ($1, $2, $3::timestamptz, false, $4, $5, $6, 'h264', 30, $3::timestamptz + interval '30 days', $7)`,
		chA, start, end, len(data), key, f.store.Name(), node); err != nil {
		t.Fatal(err)
	}
}

// got is a frame the receiver read.
type got struct{ ps.Frame }

// receiver is a TCP receiver of PS over RTP, as mediagw's tcp-passive.
type receiver struct {
	ln      net.Listener
	mu      sync.Mutex
	frames  []got
	packets int
	ssrc    uint32
	done    chan error
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{ln: ln, done: make(chan error, 1)}
	go rc.run()
	t.Cleanup(func() {
		_ = ln.Close()
		if err := <-rc.done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("receiver: %v", err)
		}
	})
	return rc
}

func (rc *receiver) addr() string { return rc.ln.Addr().String() }

func (rc *receiver) run() {
	conn, err := rc.ln.Accept()
	if err != nil {
		rc.done <- err
		return
	}
	defer conn.Close()
	rd := rtptcp.NewReader(conn)
	var d ps.Demuxer
	for {
		b, err := rd.ReadPacket()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			rc.mu.Lock()
			for _, f := range d.Flush() {
				rc.frames = append(rc.frames, got{f})
			}
			rc.mu.Unlock()
			rc.done <- err
			return
		}
		var p rtp.Packet
		if err := p.Unmarshal(b); err != nil {
			rc.done <- err
			return
		}
		fs, _ := d.WriteRTP(p.Payload, p.Timestamp, p.Marker)
		rc.mu.Lock()
		rc.ssrc = p.SSRC
		rc.packets++
		for _, f := range fs {
			f.Payload = bytes.Clone(f.Payload) // the demuxer reuses its buffer
			rc.frames = append(rc.frames, got{f})
		}
		rc.mu.Unlock()
	}
}

// wait returns the frames once the replay closed the connection.
func (rc *receiver) wait(t *testing.T, within time.Duration) []got {
	t.Helper()
	select {
	case err := <-rc.done:
		rc.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("receiver: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("the replay did not end within %s", within)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]got(nil), rc.frames...)
}

// count is the number of frames read so far.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.frames)
}

// packetCount is the number of RTP packets read so far.
func (rc *receiver) packetCount() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.packets
}
