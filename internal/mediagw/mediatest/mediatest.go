// Package mediatest feeds hub streams with real encoded video for the tests
// of mediagw's outputs: clips made by ffmpeg (so that ffprobe and Chromium
// decode them), paced in real time, with G.711 audio interleaved.
package mediatest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/gbsim"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Clip is an encoded video clip split into access units.
type Clip struct {
	// Codec is CodecH264 or CodecH265.
	Codec ps.Codec
	// Width, Height and FPS are what ffmpeg was asked for.
	Width, Height, FPS int
	// Units are the access units (Annex-B), PTS from 0 at 90 kHz; the first
	// is a keyframe. They are shared: never modify a payload.
	Units []hub.Unit
}

var clipMu sync.Mutex

// NewClip returns a clip of seconds of testsrc2 at w×h and fps, one keyframe
// per second and no B-frames, encoded with libx264 or libx265. Clips are
// cached under the user cache directory, so only the first test pays for
// ffmpeg. It skips the test (fails it under CI) when ffmpeg is missing.
func NewClip(t testing.TB, codec ps.Codec, w, h, fps, seconds int) *Clip {
	t.Helper()
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	dir := cacheDir("mediatest")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("%s-%dx%d-%d-%ds.es", codec, w, h, fps, seconds)
	path := filepath.Join(dir, name)
	clipMu.Lock()
	defer clipMu.Unlock()
	if _, err := os.Stat(path); err != nil {
		enc := []string{
			"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0",
			"-g", fmt.Sprint(fps), "-pix_fmt", "yuv420p", "-bsf:v", "h264_metadata=aud=insert", "-f", "h264",
		}
		if codec == ps.CodecH265 {
			enc = []string{
				"-c:v", "libx265", "-preset", "ultrafast",
				"-x265-params", fmt.Sprintf("bframes=0:keyint=%d:min-keyint=%d:log-level=error", fps, fps),
				"-pix_fmt", "yuv420p", "-bsf:v", "hevc_metadata=aud=insert", "-f", "hevc",
			}
		}
		args := append([]string{
			"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", w, h, fps), "-t", fmt.Sprint(seconds),
		}, enc...)
		tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
		cmd := exec.Command(ffmpeg, append(args, tmp)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			os.Remove(tmp)
			t.Fatalf("ffmpeg clip %s: %v: %s", name, err, stderr.String())
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	units := SplitAUD(codec, b)
	if len(units) == 0 || !units[0].Keyframe {
		t.Fatalf("clip %s: no access units starting with a keyframe", name)
	}
	for i := range units {
		units[i].PTS = int64(i) * 90000 / int64(fps)
		units[i].DTS = units[i].PTS
	}
	return &Clip{Codec: codec, Width: w, Height: h, FPS: fps, Units: units}
}

// SplitAUD cuts an Annex-B stream with access unit delimiters into units
// (timestamps unset), marking H.264 IDR and H.265 IRAP units as keyframes.
func SplitAUD(codec ps.Codec, b []byte) []hub.Unit {
	var out []hub.Unit
	start := -1
	key := false
	flush := func(end int) {
		if start >= 0 {
			out = append(out, hub.Unit{Codec: codec, Keyframe: key, Payload: b[start:end]})
		}
	}
	for i := 0; i+3 < len(b); i++ {
		if b[i] != 0 || b[i+1] != 0 || b[i+2] != 1 {
			continue
		}
		sc := i // start code begins here (3 or 4 bytes)
		if sc > 0 && b[sc-1] == 0 {
			sc--
		}
		h := b[i+3]
		var aud, irap bool
		if codec == ps.CodecH265 {
			t := h >> 1 & 0x3F
			aud, irap = t == 35, t >= 16 && t <= 21
		} else {
			t := h & 0x1F
			aud, irap = t == 9, t == 5
		}
		if aud {
			flush(sc)
			start, key = sc, false
		}
		key = key || irap
		i += 2
	}
	flush(len(b))
	return out
}

// G711Frame is 20 ms of G.711 A-law silence-free tone (160 bytes at 8 kHz).
var G711Frame = func() []byte {
	b := make([]byte, 160)
	for i := range b {
		b[i] = byte(0xD5 ^ (i % 16)) // a low buzz; what matters is that it is valid A-law
	}
	return b
}()

// Player writes a clip to a stream in real time.
type Player struct {
	// Clip is what is played, in a loop.
	Clip *Clip
	// Stream receives the units.
	Stream *hub.Stream
	// Audio interleaves 20 ms G.711 A-law frames.
	Audio bool
}

// Run plays until ctx is done or the stream is closed, then returns.
// Timestamps keep growing across loops.
func (p *Player) Run(ctx context.Context) error {
	frame := time.Second / time.Duration(p.Clip.FPS)
	step := int64(90000 / p.Clip.FPS)
	start := time.Now()
	var pts, audioPTS int64
	n := 0
	for {
		for _, u := range p.Clip.Units {
			u.PTS, u.DTS = pts, pts
			if err := p.Stream.WriteUnit(u); err != nil {
				return err
			}
			for p.Audio && audioPTS <= pts {
				a := hub.Unit{Codec: ps.CodecG711A, PTS: audioPTS, DTS: audioPTS, Keyframe: true, Payload: G711Frame}
				if err := p.Stream.WriteUnit(a); err != nil {
					return err
				}
				audioPTS += 1800 // 20 ms
			}
			pts += step
			n++
			select {
			case <-time.After(time.Until(start.Add(time.Duration(n) * frame))):
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// Log returns a logger for a component under test: to stderr with -v,
// else nowhere (goroutines may log after the test ended, when t.Log would
// panic).
func Log(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).
			With("test", t.Name())
	}
	return slog.New(slog.DiscardHandler)
}

// LogBuffer collects the log lines of a component under test (a writer for
// slog.NewTextHandler); tests print it when they fail and look for lines
// in it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// NewHub initializes h (a zero Hub when nil; Log defaults to Log(t)) and
// closes it when the test ends.
func NewHub(t testing.TB, h *hub.Hub) *hub.Hub {
	t.Helper()
	if h == nil {
		h = &hub.Hub{}
	}
	if h.Log == nil {
		h.Log = Log(t)
	}
	if err := h.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// Publish publishes path in h and plays clip into it until the test ends.
func Publish(t testing.TB, h *hub.Hub, path string, clip *Clip, audio bool) *hub.Stream {
	t.Helper()
	st, err := h.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = (&Player{Clip: clip, Stream: st, Audio: audio}).Run(ctx) // ends with the test
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return st
}

// SimConfig returns gbsim's defaults with real video: one device on
// 127.0.0.1 whose channels alternate H.264 and H.265 at 640x360, from clips
// cached across runs. It skips the test (fails it under CI) when ffmpeg is
// missing.
func SimConfig(t testing.TB) gbsim.Config {
	t.Helper()
	cfg := gbsim.DefaultConfig()
	cfg.LocalIP = "127.0.0.1"
	cfg.Media = gbsim.MediaMixed
	cfg.FFmpeg = testsupport.Tool(t, "ffmpeg", "ffmpeg")
	cfg.ClipSize = "640x360"
	cfg.CacheDir = cacheDir("gbsim-test")
	return cfg
}

// cacheDir is where test media is kept between runs.
func cacheDir(sub string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "sharpeyes", sub)
}
