package hls

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestSplitPath(t *testing.T) {
	cases := []struct {
		in, path, file string
		ok             bool
	}{
		{"/hls/live/34020000001320000001/index.m3u8", "live/34020000001320000001", "index.m3u8", true},
		{"/hls/a/b/c/x_video1_part3.mp4", "a/b/c", "x_video1_part3.mp4", true},
		{"/hls/test/index.m3u8", "test", "index.m3u8", true},
		{"/hls/index.m3u8", "", "", false},
		{"/hls/live/test/", "", "", false},
		{"/hls//index.m3u8", "", "", false},
		{"/hls/live//test/index.m3u8", "", "", false},
		{"/hls/live/../test/index.m3u8", "", "", false},
		{"/hls/./test/index.m3u8", "", "", false},
		{"/hls/live/test/..", "", "", false},
		{"/other/live/test/index.m3u8", "", "", false},
		{"/hls", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range cases {
		path, file, ok := splitPath(tc.in)
		if path != tc.path || file != tc.file || ok != tc.ok {
			t.Errorf("splitPath(%q) = %q, %q, %v; want %q, %q, %v", tc.in, path, file, ok, tc.path, tc.file, tc.ok)
		}
	}
}

func FuzzSplitPath(f *testing.F) {
	for _, s := range []string{"/hls/live/test/index.m3u8", "/hls/a/../b/c", "/hls//x", "/hls/", "/hls/a/b/c/d_seg1.mp4", "/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		path, file, ok := splitPath(in)
		if !ok {
			return
		}
		if mountPrefix+path+"/"+file != in {
			t.Fatalf("%q split into %q + %q", in, path, file)
		}
		if file == "" || strings.Contains(file, "/") || file == "." || file == ".." {
			t.Fatalf("bad file %q", file)
		}
		for _, e := range strings.Split(path, "/") {
			if e == "" || e == "." || e == ".." {
				t.Fatalf("bad path %q", path)
			}
		}
	})
}

// The splitting itself is ps.NALUnits'; here only what HLS leaves out.
func TestSplitAnnexB(t *testing.T) {
	cases := []struct {
		name  string
		codec ps.Codec
		in    []byte
		want  [][]byte
	}{
		{"parameter sets and slice kept", ps.CodecH264, []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65, 3}, [][]byte{{0x67, 1}, {0x68, 2}, {0x65, 3}}},
		{"h264 AUD and filler dropped", ps.CodecH264, []byte{0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x0C, 0xFF, 0, 0, 1, 0x65, 3}, [][]byte{{0x65, 3}}},
		{"h265 AUD dropped, RASL kept", ps.CodecH265, []byte{0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, 0x0C, 0x01, 5}, [][]byte{{0x0C, 0x01, 5}}},
		{"h265 filler dropped", ps.CodecH265, []byte{0, 0, 1, 0x4C, 0x01, 0xFF, 0, 0, 1, 0x26, 0x01, 7}, [][]byte{{0x26, 0x01, 7}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := splitAnnexB(tc.codec, tc.in, nil); !slices.EqualFunc(got, tc.want, bytes.Equal) {
				t.Fatalf("got %x, want %x", got, tc.want)
			}
		})
	}
}

// llMuxer returns a gohlslib LL-HLS muxer fed with segments seconds of a
// 25 fps clip with one keyframe per second, written as fast as possible.
func llMuxer(t testing.TB, clip *mediatest.Clip, seconds int) *gohlslib.Muxer {
	t.Helper()
	track := &gohlslib.Track{Codec: &codecs.H264{}, ClockRate: clockRate}
	m := &gohlslib.Muxer{Tracks: []*gohlslib.Track{track}, Variant: gohlslib.MuxerVariantLowLatency}
	var cfg config
	nalus := splitAnnexB(ps.CodecH264, clip.Units[0].Payload, nil)
	for _, n := range nalus {
		setParamSet(&cfg, ps.CodecH264, n)
	}
	track.Codec = &codecs.H264{SPS: cfg.sps, PPS: cfg.pps}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	start := time.Now()
	for i := 0; i <= seconds*clip.FPS; i++ {
		u := clip.Units[i%len(clip.Units)]
		pts := int64(i) * clockRate / int64(clip.FPS)
		nalus := splitAnnexB(ps.CodecH264, u.Payload, nil)
		if err := m.WriteH264(track, start.Add(time.Duration(pts)*time.Second/clockRate), pts, nalus); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func mediaPlaylist(t testing.TB, m *gohlslib.Muxer, query string) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handle(rec, httptest.NewRequest(http.MethodGet, "/video1_stream.m3u8?"+query, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("media playlist: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// nextMSN is the media sequence number after the playlist's last segment.
func nextMSN(pl *playlist.Media) int {
	n := pl.MediaSequence + len(pl.Segments)
	if pl.Skip != nil {
		n += pl.Skip.SkippedSegments
	}
	return n
}

// TestDropGaps checks the rewrite against real gohlslib playlists of every
// age from the first segment to the last gap gone, full and delta updates:
// no gap is left, every real segment keeps its number, and the delta update
// is the tail of the full playlist.
func TestDropGaps(t *testing.T) {
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	for seconds := 2; seconds <= 10; seconds++ {
		m := llMuxer(t, clip, seconds)
		full := mediaPlaylist(t, m, "token=x")
		delta := mediaPlaylist(t, m, "token=x&_HLS_skip=YES")
		var fullPL, deltaPL, origPL playlist.Media
		for _, c := range []struct {
			in  []byte
			out *playlist.Media
		}{{full, &fullPL}, {delta, &deltaPL}} {
			got, err := dropGaps(c.in)
			if err != nil {
				t.Fatalf("%d s: %v\n%s", seconds, err, c.in)
			}
			if bytes.Contains(got, []byte("GAP")) || bytes.Contains(got, []byte("gap.mp4")) {
				t.Fatalf("%d s: gap left:\n%s", seconds, got)
			}
			if err := c.out.Unmarshal(got); err != nil {
				t.Fatalf("%d s: rewritten playlist: %v\n%s", seconds, err, got)
			}
		}
		if err := origPL.Unmarshal(full); err != nil {
			t.Fatal(err)
		}
		if nextMSN(&fullPL) != nextMSN(&origPL) || nextMSN(&deltaPL) != nextMSN(&origPL) {
			t.Fatalf("%d s: next MSN %d (full) %d (delta), want %d", seconds, nextMSN(&fullPL), nextMSN(&deltaPL), nextMSN(&origPL))
		}
		var real []string
		for _, s := range origPL.Segments {
			if !s.Gap {
				real = append(real, s.URI)
			}
		}
		var got []string
		for _, s := range fullPL.Segments {
			got = append(got, s.URI)
		}
		if !slices.Equal(got, real) || fullPL.MediaSequence+len(got) != nextMSN(&origPL) {
			t.Fatalf("%d s: segments %v from %d, want %v", seconds, got, fullPL.MediaSequence, real)
		}
		if deltaPL.Skip != nil {
			if deltaPL.Skip.SkippedSegments+len(deltaPL.Segments) != len(fullPL.Segments) {
				t.Fatalf("%d s: delta skips %d and shows %d of %d", seconds, deltaPL.Skip.SkippedSegments, len(deltaPL.Segments), len(fullPL.Segments))
			}
			tail := fullPL.Segments[deltaPL.Skip.SkippedSegments:]
			for i, s := range deltaPL.Segments {
				if s.URI != tail[i].URI {
					t.Fatalf("%d s: delta segment %d is %s, want %s", seconds, i, s.URI, tail[i].URI)
				}
			}
		}
	}
}

func TestDropGapsCaptured(t *testing.T) {
	b, err := os.ReadFile("testdata/ll_gaps.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	got, err := dropGaps(b)
	if err != nil {
		t.Fatal(err)
	}
	var pl playlist.Media
	if err := pl.Unmarshal(got); err != nil {
		t.Fatal(err)
	}
	if pl.MediaSequence != 7 || len(pl.Segments) != 4 || !strings.Contains(pl.Segments[0].URI, "_seg7.mp4?token=x") {
		t.Fatalf("rewritten:\n%s", got)
	}
	if pl.PreloadHint == nil || len(pl.Segments[3].Parts) == 0 || pl.Map == nil {
		t.Fatalf("LL-HLS tags lost:\n%s", got)
	}
}

func FuzzDropGaps(f *testing.F) {
	if b, err := os.ReadFile("testdata/ll_gaps.m3u8"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("#EXTM3U\n#EXT-X-VERSION:10\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:2\n" +
		"#EXT-X-SKIP:SKIPPED-SEGMENTS=2\n#EXT-X-GAP\n#EXTINF:1.00000,\ngap.mp4\n#EXTINF:1.00000,\na_seg7.mp4\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2,\nx.ts\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-GAP\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := dropGaps(b)
		if err != nil {
			return
		}
		var in, out playlist.Media
		if in.Unmarshal(b) != nil {
			t.Fatal("dropGaps accepted what the parser refuses")
		}
		if err := out.Unmarshal(got); err != nil {
			t.Fatalf("rewritten playlist does not parse: %v\n%s", err, got)
		}
		for _, s := range out.Segments {
			if s.Gap {
				t.Fatal("gap left")
			}
		}
		if nextMSN(&in) != nextMSN(&out) {
			t.Fatalf("next MSN %d, want %d", nextMSN(&out), nextMSN(&in))
		}
	})
}

func TestMuxerRequestQuery(t *testing.T) {
	cases := []struct{ in, want string }{
		{"token=abc", "token=abc"},
		{"token=abc&x=1&_HLS_msn=5&_HLS_part=2", "_HLS_msn=5&_HLS_part=2&token=abc"},
		{"token=a%22b&token=second", "token=a%22b"},
		{"", ""},
		{"_HLS_skip=YES", "_HLS_skip=YES"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest(http.MethodGet, "/hls/live/test/index.m3u8?"+tc.in, nil)
		got := muxerRequest(r)
		if got.URL.RawQuery != tc.want || r.URL.RawQuery != tc.in {
			t.Errorf("query %q -> %q (original now %q), want %q", tc.in, got.URL.RawQuery, r.URL.RawQuery, tc.want)
		}
	}
}
