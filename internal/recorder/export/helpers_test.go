package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/exportdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// t0 is a fixed instant: every recording time is injected.
var t0 = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

const (
	chA   = "34020000001320000001"
	node  = "n1"
	fps   = 25
	gop   = 25 // one key frame a second
	frame = time.Second / fps
)

// namedStore is a directory store under its index name, as the recorder
// runs it ("dir://<node>").
type namedStore struct {
	objstore.Store
	name string
}

func (s namedStore) Name() string { return s.name }

func newStore(t testing.TB) objstore.Store {
	t.Helper()
	st, err := objstore.New(context.Background(), objstore.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return namedStore{st, "dir://" + node}
}

func openDB(t testing.TB) *exportdb.DB {
	t.Helper()
	return exportdb.New(storetest.Open(t, pgtest.NewDB(t), 8))
}

var (
	frameMu    sync.Mutex
	frameCache = map[string][][][]byte{}
)

// frames returns n access units of ffmpeg-made H.264 (320x180, 25 fps, a
// key frame each second, no B-frames), made once per test binary.
func frames(t testing.TB, n int) [][][]byte {
	t.Helper()
	return clipFrames(t, n, "320x180", "")
}

// clipFrames returns n access units of ffmpeg-made H.264 of the given size
// and bitrate ("" for the encoder's default quality), 25 fps, a key frame
// each second, no B-frames; made once per test binary.
func clipFrames(t testing.TB, n int, size, bitrate string) [][][]byte {
	t.Helper()
	frameMu.Lock()
	defer frameMu.Unlock()
	id := fmt.Sprintf("%d-%s-%s", n, size, bitrate)
	if f, ok := frameCache[id]; ok {
		return f
	}
	rate := []string{}
	if bitrate != "" {
		rate = []string{"-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate}
	}
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	out := filepath.Join(t.TempDir(), "clip.h264")
	args := []string{
		"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", size, fps),
		"-frames:v", strconv.Itoa(n), "-c:v", "libx264", "-preset", "ultrafast",
	}
	args = append(args, rate...)
	args = append(args, "-g", strconv.Itoa(gop), "-keyint_min", strconv.Itoa(gop),
		"-sc_threshold", "0", "-bf", "0", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264", out)
	cmd := exec.Command(ffmpeg, args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	nalus := splitAnnexB(raw)
	var aus [][][]byte
	for _, nalu := range nalus {
		if h264.NALUType(nalu[0]&0x1F) == h264.NALUTypeAccessUnitDelimiter {
			aus = append(aus, nil)
			continue
		}
		if len(aus) == 0 {
			aus = append(aus, nil)
		}
		aus[len(aus)-1] = append(aus[len(aus)-1], nalu)
	}
	if len(aus) != n {
		t.Fatalf("%d access units, want %d", len(aus), n)
	}
	frameCache[id] = aus
	return aus
}

// segmentBytes writes a segment of the given length with segment.Writer,
// video only.
func segmentBytes(t testing.TB, length time.Duration) []byte {
	t.Helper()
	return segmentWith(t, length, false)
}

// segmentWith writes a segment of the given length with segment.Writer,
// with G.711 A-law audio (a 20 ms packet after each 20 ms) when audio is set.
func segmentWith(t testing.TB, length time.Duration, audio bool) []byte {
	t.Helper()
	return writeSegment(t, frames(t, int(length/frame)), audio)
}

// writeSegment writes aus (25 fps) as a segment.
func writeSegment(t testing.TB, aus [][][]byte, audio bool) []byte {
	t.Helper()
	medias := []*description.Media{{
		Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}},
	}}
	if audio {
		medias = append(medias, &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{
			&format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1},
		}})
	}
	tracks, err := segment.NewTracks(&description.Session{Medias: medias})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &segment.Writer{W: &buf, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	packet := make([]byte, 160) // 20 ms at 8 kHz
	for i := range packet {
		packet[i] = byte(0xd5 + i%8) // near silence, not constant
	}
	sent := 0 // audio packets written
	for i, au := range aus {
		if err := w.WriteVideo(tracks[0], int64(i)*90000/fps, au); err != nil {
			t.Fatal(err)
		}
		for audio && time.Duration(sent)*20*time.Millisecond <= time.Duration(i)*frame {
			if err := w.WriteAudio(tracks[1], int64(sent)*160, packet); err != nil {
				t.Fatal(err)
			}
			sent++
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// addSegment stores data as a segment of ch starting at start and indexes it.
func addSegment(t testing.TB, db *exportdb.DB, st objstore.Store, ch string, start time.Time, length time.Duration, data []byte) {
	t.Helper()
	ctx := context.Background()
	key := fmt.Sprintf("%s/%s.mp4", ch, start.UTC().Format("2006/01/02/150405.000"))
	p, err := st.WritePath(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, key); err != nil {
		t.Fatal(err)
	}
	_, err = db.Pool.Exec(ctx, `
INSERT INTO recordings (channel_id, start_at, end_at, open, bytes, object_key, store, video_codec, retention_days, expires_at, node)
VALUES ($1, $2, $3::timestamptz, false, $4, $5, $6, 'h264', 30, $3::timestamptz + interval '30 days', $7)`,
		ch, start, start.Add(length), len(data), key, st.Name(), node)
	if err != nil {
		t.Fatal(err)
	}
}

// clock is an injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// newRunner starts a runner over db and st; closed when the test ends.
func newRunner(t testing.TB, db *exportdb.DB, st objstore.Store, c *clock) *Runner {
	t.Helper()
	r := &Runner{
		DB: db, Store: st, Node: node, Token: "service-token", Now: c.Now,
		Log: slog.New(slog.DiscardHandler),
	}
	if err := r.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// jobDeadline bounds the wait for a job: far above what any job of these
// tests takes on a loaded machine; it only keeps a broken test from hanging.
const jobDeadline = 5 * time.Minute

// waitJob waits until job id is no longer queued or running.
func waitJob(t testing.TB, db *exportdb.DB, r *Runner, id string) exportdb.Job {
	t.Helper()
	var j exportdb.Job
	testsupport.Eventually(t, jobDeadline, "export "+id+" finished", func() bool {
		var err error
		j, err = db.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		r.Wake()
		return j.State != "queued" && j.State != "running"
	})
	return j
}

// decodeErrors decodes the export's file with ffmpeg and returns what it
// complained about ("" for a clean file) and the number of streams.
func decodeErrors(t testing.TB, st objstore.Store, key string) (string, int) {
	t.Helper()
	path := localCopy(t, st, key)
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	streams, err := exec.Command(bin, "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	return strings.TrimSpace(string(out)), len(strings.Fields(string(streams)))
}

// localCopy copies an object to a file of the test.
func localCopy(t testing.TB, st objstore.Store, key string) string {
	t.Helper()
	obj, err := st.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	buf := make([]byte, obj.Size())
	if _, err := obj.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.mp4")
	if err := os.WriteFile(path, buf, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

// probe returns ffprobe's duration of the export's file and its frame count.
func probe(t testing.TB, st objstore.Store, key string) (time.Duration, int) {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	path := localCopy(t, st, key)
	out, err := exec.Command(bin, "-v", "error", "-count_packets", "-show_entries", "format=duration:stream=nb_read_packets",
		"-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var p struct {
		Format  struct{ Duration string } `json:"format"`
		Streams []struct {
			Packets string `json:"nb_read_packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &p); err != nil || len(p.Streams) == 0 {
		t.Fatalf("ffprobe: %s: %v", out, err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(p.Format.Duration), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q", p.Format.Duration)
	}
	n, _ := strconv.Atoi(p.Streams[0].Packets)
	return time.Duration(sec * float64(time.Second)), n
}

// splitAnnexB splits an Annex-B stream at its start codes.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = append(out, bytes.TrimRight(b[start:i], "\x00"))
			}
			i += 3
			start = i
			continue
		}
		i++
	}
	if start >= 0 {
		out = append(out, b[start:])
	}
	return out
}

// waitFor waits for cond, bounded like waitJob.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testsupport.Eventually(t, jobDeadline, what, cond)
}
