package segment_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// writeClip writes a whole clip as one segment and returns the file's path,
// the writer (closed) and the bytes fed.
func writeClip(t *testing.T, c *clip, paramsInSDP bool, audio string, frag time.Duration) (string, *segment.Writer, int64) {
	t.Helper()
	tracks, err := segment.NewTracks(c.session(paramsInSDP, audio))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := &segment.Writer{W: &buf, Tracks: tracks, FragmentDuration: frag}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	g711 := ""
	if audio == "g711a" || audio == "g711u" {
		g711 = audio
	}
	received, err := feed(t, w, tracks, c, g711)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Bytes() != int64(buf.Len()) {
		t.Fatalf("Bytes() = %d, wrote %d", w.Bytes(), buf.Len())
	}
	path := filepath.Join(t.TempDir(), "segment.mp4")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, w, received
}

// TestWrite writes real H.264 and H.265 streams, with and without B-frames
// and audio, and checks them with ffprobe (every frame decoded) and Scan.
func TestWrite(t *testing.T) {
	h264 := clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4}
	h264B := h264
	h264B.bframes = true
	h265 := clipSpec{codec: "h265", w: 352, h: 288, fps: 15, seconds: 4}
	h265B := h265
	h265B.bframes = true
	h264AAC := h264
	h264AAC.aac = true
	for _, tc := range []struct {
		name        string
		spec        clipSpec
		paramsInSDP bool
		audio       string // as in clip.session
		probeAudio  string // ffprobe's codec name
		strip       bool   // parameter sets only in the SDP
	}{
		{name: "h264 params only in the SDP", spec: h264, paramsInSDP: true, strip: true},
		{name: "h265 b-frames params only in the SDP", spec: h265B, paramsInSDP: true, strip: true},
		{name: "h264", spec: h264, paramsInSDP: true},
		{name: "h264 params from stream", spec: h264},
		{name: "h264 b-frames", spec: h264B, paramsInSDP: true},
		{name: "h265", spec: h265, paramsInSDP: true},
		{name: "h265 params from stream b-frames", spec: h265B},
		{name: "h264 g711a", spec: h264, paramsInSDP: true, audio: "g711a", probeAudio: "flac"},
		{name: "h265 g711u", spec: h265, paramsInSDP: true, audio: "g711u", probeAudio: "flac"},
		{name: "h264 aac", spec: h264AAC, paramsInSDP: true, audio: "aac", probeAudio: "aac"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClip(t, tc.spec)
			if tc.strip {
				c = c.stripped()
			}
			path, w, received := writeClip(t, c, tc.paramsInSDP, tc.audio, time.Second)
			frame := time.Second / time.Duration(tc.spec.fps)
			want := time.Duration(c.frames) * time.Second / time.Duration(tc.spec.fps)

			// Constant frame rate: every frame, the last one too, lasts
			// 1/fps; with B-frames the decode timeline starts one
			// reorder delay late (H.264's DTS extractor gives the first
			// frame DTS = PTS).
			got := w.Duration()
			reorderShort := tc.spec.bframes && got < want && want-got <= 2*frame
			if got != want && !reorderShort {
				t.Errorf("Duration() = %v, want %v", got, want)
			}
			if gw, gh := w.Resolution(); gw != tc.spec.w || gh != tc.spec.h {
				t.Errorf("Resolution() = %dx%d, want %dx%d", gw, gh, tc.spec.w, tc.spec.h)
			}
			if w.VideoCodec() != tc.spec.codec || w.AudioCodec() != tc.audio {
				t.Errorf("codecs %q %q, want %q %q", w.VideoCodec(), w.AudioCodec(), tc.spec.codec, tc.audio)
			}
			t.Logf("%s: %d bytes received, %d written: overhead %.2f%%", tc.name, received, w.Bytes(),
				100*(float64(w.Bytes())/float64(received)-1))

			p := ffprobe(t, path)
			var video, audio bool
			for _, s := range p.Streams {
				switch s.CodecType {
				case "video":
					video = true
					name := map[string]string{"h264": "h264", "h265": "hevc"}[tc.spec.codec]
					if s.CodecName != name {
						t.Errorf("ffprobe video codec %q, want %s", s.CodecName, tc.spec.codec)
					}
					if s.Width != tc.spec.w || s.Height != tc.spec.h {
						t.Errorf("ffprobe %dx%d, want %dx%d", s.Width, s.Height, tc.spec.w, tc.spec.h)
					}
					if s.NbReadFrames != itoa(c.frames) {
						t.Errorf("ffprobe decoded %s frames, want %d", s.NbReadFrames, c.frames)
					}
					d := time.Duration(atof(t, s.Duration) * float64(time.Second))
					if absDur(d-want) > frame {
						t.Errorf("ffprobe video duration %v, want %v ± one frame", d, want)
					}
					// 0, or the reorder delay with B-frames (a few frames).
					if start := atof(t, s.StartTime); start != 0 && (!tc.spec.bframes || start > 3/float64(tc.spec.fps)) {
						t.Errorf("ffprobe video start time %v, want 0", start)
					}
				case "audio":
					audio = true
					if s.CodecName != tc.probeAudio {
						t.Errorf("ffprobe audio codec %q, want %q", s.CodecName, tc.probeAudio)
					}
					if n := atof(t, s.NbReadFrames); n == 0 {
						t.Errorf("ffprobe decoded no audio frames")
					}
					d := time.Duration(atof(t, s.Duration) * float64(time.Second))
					if absDur(d-want) > 100*time.Millisecond {
						t.Errorf("ffprobe audio duration %v, want about %v", d, want)
					}
				}
			}
			if !video || audio != (tc.audio != "") {
				t.Fatalf("ffprobe streams: video %v audio %v, want audio %v", video, audio, tc.audio != "")
			}

			info := scanFile(t, path)
			if info.Complete != w.Bytes() || info.Duration != w.Duration() {
				t.Errorf("Scan: complete %d duration %v, want %d %v", info.Complete, info.Duration, w.Bytes(), w.Duration())
			}
			wantTracks := tc.spec.codec
			switch tc.audio {
			case "g711a", "g711u":
				wantTracks += " flac"
			case "aac":
				wantTracks += " aac"
			}
			if info.Width != tc.spec.w || info.Height != tc.spec.h || strings.Join(info.Tracks, " ") != wantTracks {
				t.Errorf("Scan: %+v, want %dx%d %s", info, tc.spec.w, tc.spec.h, wantTracks)
			}
			// 4 s in 1 s fragments: the last one holds the frames after the 4th second.
			if info.Fragments < tc.spec.seconds || info.Fragments > tc.spec.seconds+1 {
				t.Errorf("Scan: %d fragments for %d s", info.Fragments, tc.spec.seconds)
			}
		})
	}
}

func scanFile(t testing.TB, path string) segment.Info {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	info, err := segment.Scan(f, st.Size())
	if err != nil {
		t.Fatalf("Scan %s: %v", path, err)
	}
	return info
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}
