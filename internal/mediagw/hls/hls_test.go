package hls_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hls"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// probeStream is the part of ffprobe's JSON the tests read.
type probeStream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

// ffprobe returns the streams ffprobe finds at u.
func ffprobe(t *testing.T, u string) []probeStream {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-v", "error", "-print_format", "json", "-show_streams", u)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v: %s", u, err, stderr.String())
	}
	var res struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	return res.Streams
}

func publishH264(t *testing.T, h *hub.Hub) *hub.Stream {
	t.Helper()
	return mediatest.Publish(t, h, "live/test", mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4), true)
}

// TestFFprobeVariants checks that ffprobe reads H.264 640x360, and no other
// stream (the G.711 track is not carried), from every variant.
func TestFFprobeVariants(t *testing.T) {
	for _, variant := range []string{"lowLatency", "fmp4", "mpegts"} {
		t.Run(variant, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			publishH264(t, h)
			_, base := startServer(t, &access.HubSource{Hub: h}, "", func(s *hls.Server) { s.Variant = variant })
			streams := ffprobe(t, base+"/hls/live/test/index.m3u8?token=x")
			if len(streams) != 1 {
				t.Fatalf("streams %+v, want one video stream", streams)
			}
			if s := streams[0]; s.CodecName != "h264" || s.Width != 640 || s.Height != 360 {
				t.Fatalf("stream %+v, want h264 640x360", s)
			}
		})
	}
}

// TestFFmpegDecodesTenSeconds decodes a 10 s window of the LL-HLS stream
// with ffmpeg: about 250 frames at 25 fps (only the window edges may lose
// a few) and nothing on stderr at -v error.
func TestFFmpegDecodesTenSeconds(t *testing.T) {
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	h := mediatest.NewHub(t, nil)
	publishH264(t, h)
	_, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-v", "error",
		"-i", base+"/hls/live/test/index.m3u8?token=x", "-t", "10", "-f", "null", "-progress", "pipe:1", "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Fatalf("ffmpeg reported errors:\n%s", s)
	}
	m := regexp.MustCompile(`(?m)^frame=(\d+)$`).FindAllStringSubmatch(stdout.String(), -1)
	if len(m) == 0 {
		t.Fatalf("no frame count in ffmpeg progress:\n%s", stdout.String())
	}
	frames, _ := strconv.Atoi(m[len(m)-1][1])
	if frames < 240 || frames > 252 {
		t.Fatalf("decoded %d frames in a 10 s window at 25 fps, want 240..252", frames)
	}
	t.Logf("decoded %d frames", frames)
}

// playlistURIs returns every URI of a playlist (multivariant or media),
// except EXT-X-GAP segments, which players do not fetch.
func playlistURIs(t *testing.T, b []byte) (uris []string, media bool) {
	t.Helper()
	pl, err := playlist.Unmarshal(b)
	if err != nil {
		t.Fatalf("parse playlist: %v\n%s", err, b)
	}
	switch pl := pl.(type) {
	case *playlist.Multivariant:
		for _, v := range pl.Variants {
			uris = append(uris, v.URI)
		}
		for _, r := range pl.Renditions {
			if r.URI != nil {
				uris = append(uris, *r.URI)
			}
		}
		return uris, false
	case *playlist.Media:
		if pl.Map != nil {
			uris = append(uris, pl.Map.URI)
		}
		for _, s := range pl.Segments {
			if s.Gap {
				continue
			}
			uris = append(uris, s.URI)
			for _, p := range s.Parts {
				uris = append(uris, p.URI)
			}
		}
		for _, p := range pl.Parts {
			uris = append(uris, p.URI)
		}
		if pl.PreloadHint != nil {
			uris = append(uris, pl.PreloadHint.URI)
		}
		return uris, true
	}
	t.Fatalf("unknown playlist type %T", pl)
	return nil, false
}

// TestTokenPropagation follows every URL of the playlists, as a player
// resolving them relative to the playlist would: each carries the token
// and answers 200 with it, 401 without it or with a wrong one. The first
// playlist request comes right after publishing and waits for content
// instead of failing.
func TestTokenPropagation(t *testing.T) {
	for _, variant := range []string{"lowLatency", "mpegts"} {
		t.Run(variant, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			publishH264(t, h)
			_, base := startServer(t, &tokenSource{hub: h, token: "good"}, "", func(s *hls.Server) { s.Variant = variant })
			root, err := url.Parse(base + "/hls/live/test/index.m3u8?token=good")
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			queue := []*url.URL{root}
			seen := map[string]bool{}
			for len(queue) > 0 {
				u := queue[0]
				queue = queue[1:]
				if seen[u.String()] {
					continue
				}
				seen[u.String()] = true
				code, hdr, body := get(t, u.String())
				if code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", u, code, body)
				}
				if hdr.Get("Access-Control-Allow-Origin") != "*" || hdr.Get("Cache-Control") == "" {
					t.Fatalf("GET %s: CORS %q, Cache-Control %q", u, hdr.Get("Access-Control-Allow-Origin"), hdr.Get("Cache-Control"))
				}
				checked++
				if strings.HasSuffix(u.Path, ".m3u8") {
					uris, media := playlistURIs(t, body)
					if len(uris) == 0 {
						t.Fatalf("%s lists no URI:\n%s", u, body)
					}
					if media && strings.Count(string(body), "#EXTINF") < 3 {
						t.Fatalf("%s has fewer than 3 segments:\n%s", u, body)
					}
					for _, s := range uris {
						ref, err := url.Parse(s)
						if err != nil {
							t.Fatal(err)
						}
						if ref.Query().Get("token") != "good" {
							t.Fatalf("URI %q in %s does not carry the token", s, u)
						}
						queue = append(queue, u.ResolveReference(ref))
					}
				}
				// The same file without the token, and with a wrong one.
				for _, tok := range []string{"", "bad"} {
					v := *u
					q := v.Query()
					if tok == "" {
						q.Del("token")
					} else {
						q.Set("token", tok)
					}
					v.RawQuery = q.Encode()
					if code, hdr, _ := get(t, v.String()); code != http.StatusUnauthorized || hdr.Get("Access-Control-Allow-Origin") != "*" {
						t.Fatalf("GET %s: %d (CORS %q), want 401", &v, code, hdr.Get("Access-Control-Allow-Origin"))
					}
				}
			}
			if checked < 4 {
				t.Fatalf("only %d URLs checked", checked)
			}
			t.Logf("%d URLs answered 200 with the token and 401 without", checked)
			for _, p := range []string{"/hls/live/unknown/index.m3u8", "/hls/live/unknown/video1_stream.m3u8"} {
				if code, _, body := get(t, base+p+"?token=good"); code != http.StatusNotFound {
					t.Fatalf("GET %s: %d %s, want 404", p, code, body)
				}
			}
		})
	}
}

// TestRoutes checks the answers that need no stream: bad paths, methods,
// the CORS preflight, segments of a path without a muxer.
func TestRoutes(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	_, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/hls/index.m3u8", http.StatusNotFound},
		{"GET", "/hls/live/test/", http.StatusNotFound},
		{"GET", "/hls/live//test/index.m3u8", http.StatusNotFound},
		{"GET", "/hls/live/test/abc_video1_seg1.mp4", http.StatusNotFound},
		{"GET", "/hls/live/missing/index.m3u8", http.StatusNotFound},
		{"POST", "/hls/live/test/index.m3u8", http.StatusMethodNotAllowed},
		{"OPTIONS", "/hls/live/test/index.m3u8", http.StatusNoContent},
	}
	c := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range cases {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatal("no CORS header")
			}
			if tc.method == "OPTIONS" && !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") {
				t.Fatalf("preflight allows %q", resp.Header.Get("Access-Control-Allow-Methods"))
			}
		})
	}
}

// TestIdleClose: without requests for IdleTimeout the muxer and its hub
// reader go away; the next request makes a new muxer that works.
func TestIdleClose(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st := publishH264(t, h)
	s, base := startServer(t, &access.HubSource{Hub: h}, "", func(s *hls.Server) { s.IdleTimeout = time.Second })
	u := base + "/hls/live/test/index.m3u8?token=x"
	if code, _, body := get(t, u); code != http.StatusOK {
		t.Fatalf("first GET: %d %s", code, body)
	}
	ms := s.Muxers()
	if len(ms) != 1 || ms[0].Path != "live/test" || !ms[0].Started || ms[0].Reader.Units == 0 ||
		ms[0].Segments < 3 || ms[0].Requests != 1 || ms[0].Reader.Skipped == 0 || !strings.HasPrefix(ms[0].Reader.Name, "hls") {
		t.Fatalf("muxers %+v", ms)
	}
	first := ms[0].Since
	if !hasPrefixAny(readerNames(st), "hls") {
		t.Fatalf("no hls reader on the stream: %v", readerNames(st))
	}
	testsupport.Eventually(t, 10*time.Second, "the idle muxer and its reader to go", func() bool {
		return len(s.Muxers()) == 0 && !hasPrefixAny(readerNames(st), "hls")
	})
	if code, _, body := get(t, u); code != http.StatusOK {
		t.Fatalf("GET after idle close: %d %s", code, body)
	}
	ms = s.Muxers()
	if len(ms) != 1 || !ms[0].Since.After(first) {
		t.Fatalf("no new muxer after idle close: %+v", ms)
	}
	if code, _, body := get(t, base+"/hls/live/test/video1_stream.m3u8?token=x"); code != http.StatusOK {
		t.Fatalf("media playlist of the new muxer: %d %s", code, body)
	}
}

// TestStreamEnd: when the hub stream closes, a blocked LL-HLS request
// returns 404 at once, the muxer goes away, and new requests get 404
// instead of hanging.
func TestStreamEnd(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st := publishH264(t, h)
	s, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
	code, _, body := get(t, base+"/hls/live/test/video1_stream.m3u8?token=x")
	if code != http.StatusOK {
		t.Fatalf("media playlist: %d %s", code, body)
	}
	var pl playlist.Media
	if err := pl.Unmarshal(body); err != nil {
		t.Fatal(err)
	}
	// A blocking reload for the segment after the next one waits about
	// two segment durations: the stream closes meanwhile.
	next := pl.MediaSequence + len(pl.Segments)
	before := s.Muxers()[0].Requests
	type result struct {
		code int
		err  error
	}
	res := make(chan result, 1)
	go func() {
		c := &http.Client{Timeout: 20 * time.Second}
		resp, err := c.Get(fmt.Sprintf("%s/hls/live/test/video1_stream.m3u8?token=x&_HLS_msn=%d&_HLS_part=0", base, next+1))
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{code: resp.StatusCode}
	}()
	testsupport.Eventually(t, 5*time.Second, "the blocking request to arrive", func() bool {
		ms := s.Muxers()
		return len(ms) == 1 && ms[0].Requests > before
	})
	st.Close()
	select {
	case r := <-res:
		if r.err != nil || r.code != http.StatusNotFound {
			t.Fatalf("blocked request: %d %v, want 404", r.code, r.err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("blocked request still pending after the stream closed")
	}
	testsupport.Eventually(t, 5*time.Second, "the muxer to go", func() bool { return len(s.Muxers()) == 0 })
	for _, p := range []string{"index.m3u8", "video1_stream.m3u8"} {
		if code, _, body := get(t, base+"/hls/live/test/"+p+"?token=x"); code != http.StatusNotFound && code != http.StatusServiceUnavailable {
			t.Fatalf("GET %s after stream end: %d %s, want 404 or 503", p, code, body)
		}
	}
}

// TestStalledStreamAnswers503: a stream that is ready but sends nothing
// more gives the first playlist request a 503 after the bounded wait, not
// a hang.
func TestStalledStreamAnswers503(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	st, err := h.Publish("live/test")
	if err != nil {
		t.Fatal(err)
	}
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	for _, u := range clip.Units[:5] {
		if err := st.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	_, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
	code, hdr, body := get(t, base+"/hls/live/test/index.m3u8?token=x")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("stalled stream: %d %v %s, want 503 with Retry-After, no-store", code, hdr, body)
	}
}

// TestH265RefusedForBrowsers: the gateway's rule (H264Only readers never
// get H.265 without a transcode) surfaces as 503 through HubSource.
func TestH265RefusedForBrowsers(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	mediatest.Publish(t, h, "live/test", mediatest.NewClip(t, ps.CodecH265, 640, 360, 25, 4), false)
	_, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
	if code, _, body := get(t, base+"/hls/live/test/index.m3u8?token=x"); code != http.StatusServiceUnavailable {
		t.Fatalf("H.265 for an H264Only reader: %d %s, want 503", code, body)
	}
}

// TestH265PassThrough: a Source that hands out H.265 anyway gets it
// carried as H.265 in fMP4, and refused (503) in MPEG-TS.
func TestH265PassThrough(t *testing.T) {
	for _, tc := range []struct {
		variant string
		want    int
	}{{"lowLatency", http.StatusOK}, {"mpegts", http.StatusServiceUnavailable}} {
		t.Run(tc.variant, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			mediatest.Publish(t, h, "live/test", mediatest.NewClip(t, ps.CodecH265, 640, 360, 25, 4), false)
			_, base := startServer(t, &tokenSource{hub: h, allowH265: true}, "", func(s *hls.Server) { s.Variant = tc.variant })
			u := base + "/hls/live/test/index.m3u8?token=x"
			code, _, body := get(t, u)
			if code != tc.want {
				t.Fatalf("GET: %d %s, want %d", code, body, tc.want)
			}
			if code != http.StatusOK {
				return
			}
			streams := ffprobe(t, u)
			if len(streams) != 1 || streams[0].CodecName != "hevc" || streams[0].Width != 640 {
				t.Fatalf("streams %+v, want one hevc 640x360", streams)
			}
		})
	}
}

// aacFrames encodes seconds of a 440 Hz tone to AAC-LC 48 kHz mono with
// ffmpeg and returns the ADTS frames, each with its header.
func aacFrames(t *testing.T, seconds int) [][]byte {
	t.Helper()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	out := filepath.Join(t.TempDir(), "tone.aac")
	cmd := exec.Command(bin, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", strconv.Itoa(seconds),
		"-ac", "1", "-c:a", "aac", "-b:a", "64k", "-f", "adts", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg aac: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, 0, len(pkts))
	for _, p := range pkts {
		f, err := mpeg4audio.ADTSPackets{p}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	return frames
}

// publishAAC plays clip with AAC audio (48 kHz frames) into path in real
// time until the test ends.
func publishAAC(t *testing.T, h *hub.Hub, path string, clip *mediatest.Clip, frames [][]byte) {
	t.Helper()
	st, err := h.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		step := int64(90000 / clip.FPS)
		start := time.Now()
		var pts, apts int64
		ai, n := 0, 0
		for {
			for _, u := range clip.Units {
				u.PTS, u.DTS = pts, pts
				if st.WriteUnit(u) != nil {
					return
				}
				for apts <= pts {
					a := hub.Unit{Codec: ps.CodecAAC, PTS: apts, DTS: apts, Keyframe: true, Payload: frames[ai%len(frames)]}
					if st.WriteUnit(a) != nil {
						return
					}
					ai++
					apts = int64(ai) * 1024 * 90000 / 48000
				}
				pts += step
				n++
				select {
				case <-time.After(time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(clip.FPS)))):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
}

// TestAACCarried: AAC audio goes into HLS next to H.264 in every variant.
func TestAACCarried(t *testing.T) {
	frames := aacFrames(t, 4)
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	for _, variant := range []string{"lowLatency", "mpegts"} {
		t.Run(variant, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			publishAAC(t, h, "live/test", clip, frames)
			s, base := startServer(t, &access.HubSource{Hub: h}, "", func(s *hls.Server) { s.Variant = variant })
			streams := ffprobe(t, base+"/hls/live/test/index.m3u8?token=x")
			var video, audio bool
			for _, st := range streams {
				video = video || st.CodecName == "h264" && st.Width == 640
				audio = audio || st.CodecType == "audio" && st.CodecName == "aac"
			}
			if !video || !audio {
				t.Fatalf("streams %+v, want h264 and aac", streams)
			}
			ms := s.Muxers()
			if len(ms) != 1 || len(ms[0].Tracks) != 2 || ms[0].Tracks[1] != ps.CodecAAC || ms[0].Reader.WriteErrors != 0 {
				t.Fatalf("muxer stats %+v", ms)
			}
		})
	}
}

// TestInitializeValidates names the bad field.
func TestInitializeValidates(t *testing.T) {
	h := mediatest.NewHub(t, nil)
	src := &access.HubSource{Hub: h}
	cases := []struct {
		name  string
		s     *hls.Server
		field string
	}{
		{"no source", &hls.Server{}, "Source"},
		{"variant", &hls.Server{Source: src, Variant: "dash"}, "Variant"},
		{"segments low latency", &hls.Server{Source: src, SegmentCount: 5}, "SegmentCount"},
		{"segments mpegts", &hls.Server{Source: src, Variant: "mpegts", SegmentCount: 2}, "SegmentCount"},
		{"idle", &hls.Server{Source: src, IdleTimeout: -time.Second}, "IdleTimeout"},
		{"part", &hls.Server{Source: src, PartMinDuration: -1}, "PartMinDuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Initialize()
			if !errors.Is(err, hls.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Initialize: %v, want ErrInvalidConfig naming %s", err, tc.field)
			}
		})
	}
	ok := hls.Server{Source: src, Variant: "mpegts", SegmentCount: 3}
	if err := ok.Initialize(); err != nil {
		t.Fatal(err)
	}
	ok.Close()
}

// publishSwap plays first into live/test in real time and, once swap is
// closed, second from the end of the running loop; with reset the
// timestamps start again from 0 then (an encoder restart).
func publishSwap(t *testing.T, h *hub.Hub, first, second *mediatest.Clip, reset bool) chan<- struct{} {
	t.Helper()
	st, err := h.Publish("live/test")
	if err != nil {
		t.Fatal(err)
	}
	swapCh := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		swap := (<-chan struct{})(swapCh)
		clip, start, n, pts := first, time.Now(), 0, int64(0)
		for {
			for _, u := range clip.Units {
				u.PTS, u.DTS = pts, pts
				if st.WriteUnit(u) != nil {
					return
				}
				n++
				pts += 90000 / 25
				select {
				case <-time.After(time.Until(start.Add(time.Duration(n) * 40 * time.Millisecond))):
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-swap:
				if reset {
					pts = 0
				}
				clip, swap = second, nil // a nil channel never fires again
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return swapCh
}

// TestMuxerRestarts: a change the running muxer cannot follow ends it, and
// the next request gets a new muxer that serves the stream as it is now.
// A new SPS (the camera changed resolution) cannot go into the existing
// init segment; timestamps that restart from 0 make the muxer refuse every
// unit.
func TestMuxerRestarts(t *testing.T) {
	big := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	small := mediatest.NewClip(t, ps.CodecH264, 320, 180, 25, 4)
	for _, tc := range []struct {
		name   string
		second *mediatest.Clip
		reset  bool
		width  int
	}{{"new SPS", small, false, 320}, {"timestamps reset", big, true, 640}} {
		t.Run(tc.name, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			swap := publishSwap(t, h, big, tc.second, tc.reset)
			s, base := startServer(t, &access.HubSource{Hub: h}, "", nil)
			u := base + "/hls/live/test/index.m3u8?token=x"
			if code, _, body := get(t, u); code != http.StatusOK || !bytes.Contains(body, []byte("RESOLUTION=640x360")) {
				t.Fatalf("first playlist: %d\n%s", code, body)
			}
			first := s.Muxers()[0].Since
			close(swap)
			// The swap happens at the end of the running 4 s loop.
			testsupport.Eventually(t, 15*time.Second, "the muxer to end", func() bool {
				ms := s.Muxers()
				return len(ms) == 0 || !ms[0].Since.Equal(first)
			})
			streams := ffprobe(t, u)
			if len(streams) != 1 || streams[0].Width != tc.width {
				t.Fatalf("after the change: %+v, want width %d", streams, tc.width)
			}
		})
	}
}
