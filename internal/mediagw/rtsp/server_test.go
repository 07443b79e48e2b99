package rtsp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

type probeStream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
	Rate      string `json:"sample_rate"`
	Channels  int    `json:"channels"`
}

// ffprobe returns the streams ffprobe finds at u over transport.
func ffprobe(t *testing.T, u, transport string) []probeStream {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-v", "error", "-rtsp_transport", transport,
		"-show_streams", "-of", "json", u)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffprobe %s: %v: %s", u, err, stderr.String())
	}
	var out struct {
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, stdout.String())
	}
	return out.Streams
}

func TestFFprobe(t *testing.T) {
	tests := []struct {
		name      string
		codec     ps.Codec
		transport string
		video     string
	}{
		{"h264 tcp", ps.CodecH264, "tcp", "h264"},
		{"h264 udp", ps.CodecH264, "udp", "h264"},
		{"h265 tcp", ps.CodecH265, "tcp", "hevc"},
		{"h265 udp", ps.CodecH265, "udp", "hevc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clip := mediatest.NewClip(t, tc.codec, 640, 360, 25, 4)
			h := mediatest.NewHub(t, nil)
			mediatest.Publish(t, h, "live/test", clip, true)
			s := startServer(t, &access.HubSource{Hub: h}, tc.transport == "udp")

			streams := ffprobe(t, url(s, "live/test"), tc.transport)
			var gotVideo, gotAudio bool
			for _, st := range streams {
				switch st.CodecType {
				case "video":
					gotVideo = true
					if st.CodecName != tc.video || st.Width != 640 || st.Height != 360 {
						t.Errorf("video stream %+v, want %s 640x360", st, tc.video)
					}
				case "audio":
					gotAudio = true
					if st.CodecName != "pcm_alaw" || st.Rate != "8000" || st.Channels != 1 {
						t.Errorf("audio stream %+v, want pcm_alaw 8000 Hz mono", st)
					}
				}
			}
			if !gotVideo || !gotAudio {
				t.Fatalf("streams %+v: want video and audio", streams)
			}
			// ffprobe's session ended: the shared stream and its hub
			// reader must go with it.
			testsupport.Eventually(t, 5*time.Second, "hub reader gone", func() bool {
				st, ok := h.Stream("live/test")
				return ok && len(st.Stats().Readers) == 0
			})
		})
	}
}

// TestFFmpegDecode decodes a 10 s window with ffmpeg: every frame must
// decode, without one error line, which needs the session to start on a
// keyframe.
func TestFFmpegDecode(t *testing.T) {
	t.Parallel()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	mediatest.Publish(t, h, "live/34020000001320000001", clip, true)
	s := startServer(t, &access.HubSource{Hub: h}, false)

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	// framecrc prints one line per decoded frame, per stream.
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-v", "error", "-rtsp_transport", "tcp",
		"-i", url(s, "live/34020000001320000001"), "-t", "10", "-map", "0", "-f", "framecrc", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("ffmpeg reported errors:\n%s", stderr.String())
	}
	frames := map[string]int{}
	for line := range strings.Lines(stdout.String()) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		idx, _, ok := strings.Cut(line, ",")
		if ok {
			frames[strings.TrimSpace(idx)]++
		}
	}
	// Stream 0 is video (first in the SDP), 1 is audio; 25 fps for 10 s.
	if frames["0"] < 240 || frames["0"] > 260 {
		t.Errorf("decoded %d video frames in 10 s, want ≈250", frames["0"])
	}
	if frames["1"] == 0 {
		t.Errorf("no audio frame decoded")
	}
	t.Logf("decoded frames per stream: %v", frames)
}

// player is a gortsplib client reading a path, recording what it gets.
type player struct {
	c          *gortsplib.Client
	videoAUs   atomic.Int64
	audioPkts  atomic.Int64
	firstIsKey chan bool
}

func play(t *testing.T, u string, transport gortsplib.Protocol) *player {
	t.Helper()
	p, err := startPlayer(t, u, transport)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startPlayer may run outside the test goroutine: it reports by error.
func startPlayer(t *testing.T, u string, transport gortsplib.Protocol) (*player, error) {
	pu, err := base.ParseURL(u)
	if err != nil {
		return nil, err
	}
	p := &player{
		c:          &gortsplib.Client{Scheme: pu.Scheme, Host: pu.Host, Protocol: &transport},
		firstIsKey: make(chan bool, 1),
	}
	if err := p.c.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(p.c.Close)
	desc, _, err := p.c.Describe(pu)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	if err := p.c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	var h264f *format.H264
	vm := desc.FindFormat(&h264f)
	if vm == nil {
		return nil, fmt.Errorf("no H.264 media in %v", desc.Medias)
	}
	if len(h264f.SPS) == 0 || len(h264f.PPS) == 0 {
		return nil, errors.New("SDP without SPS/PPS")
	}
	dec, err := h264f.CreateDecoder()
	if err != nil {
		return nil, err
	}
	var once sync.Once
	p.c.OnPacketRTP(vm, h264f, func(pkt *rtp.Packet) {
		au, err := dec.Decode(pkt)
		if err != nil {
			return
		}
		once.Do(func() {
			key := false
			for _, n := range au {
				key = key || n[0]&0x1F == 5
			}
			p.firstIsKey <- key
		})
		p.videoAUs.Add(1)
	})
	for _, m := range desc.Medias {
		if m.Type == description.MediaTypeAudio {
			p.c.OnPacketRTP(m, m.Formats[0], func(*rtp.Packet) { p.audioPkts.Add(1) })
		}
	}
	if _, err := p.c.Play(nil); err != nil {
		return nil, fmt.Errorf("play: %w", err)
	}
	return p, nil
}

func (p *player) waitKeyframeFirst(t *testing.T) {
	t.Helper()
	select {
	case key := <-p.firstIsKey:
		if !key {
			t.Error("the first access unit received is not an IDR")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no video received")
	}
}

// TestSharedReader: two clients of a path share one hub reader, each
// starts on a keyframe, and the reader goes when both leave.
func TestSharedReader(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	hs := mediatest.Publish(t, h, "live/shared", clip, true)
	src := &recordingSource{Source: &access.HubSource{Hub: h}, reqs: make(chan access.Request, 4)}
	s := startServer(t, src, true)

	p1 := play(t, url(s, "live/shared"), gortsplib.ProtocolTCP)
	p1.waitKeyframeFirst(t)
	// Join in the middle of a GOP: the second client must still start on
	// a keyframe.
	time.Sleep(420 * time.Millisecond)
	p2 := play(t, url(s, "live/shared"), gortsplib.ProtocolUDP)
	p2.waitKeyframeFirst(t)

	if n := len(hs.Stats().Readers); n != 1 {
		t.Fatalf("hub readers = %d, want 1 shared", n)
	}
	req := <-src.reqs
	if req.Path != "live/shared" || req.Token != "x" || req.Protocol != access.ProtocolRTSP ||
		req.H264Only || req.Remote == "" {
		t.Errorf("source request %+v", req)
	}
	select {
	case req := <-src.reqs:
		t.Errorf("second Source.Read %+v: the reader should be shared", req)
	default:
	}

	sessions := s.Sessions()
	if len(sessions) != 2 {
		t.Fatalf("sessions %+v, want 2", sessions)
	}
	transports := map[string]bool{}
	for _, ss := range sessions {
		transports[ss.Transport] = true
		if ss.Path != "live/shared" || ss.PathSessions != 2 || !ss.Playing || ss.Reader == "" {
			t.Errorf("session %+v", ss)
		}
	}
	if !transports["TCP"] || !transports["UDP"] {
		t.Errorf("transports %v, want TCP and UDP", transports)
	}
	testsupport.Eventually(t, 5*time.Second, "audio and sent bytes", func() bool {
		for _, ss := range s.Sessions() {
			if ss.BytesSent == 0 {
				return false
			}
		}
		return p1.audioPkts.Load() > 0 && p2.audioPkts.Load() > 0
	})

	p1.c.Close()
	if n := len(hs.Stats().Readers); n != 1 {
		t.Errorf("hub readers after the first client left = %d, want 1", n)
	}
	p2.c.Close()
	testsupport.Eventually(t, 5*time.Second, "hub reader gone", func() bool {
		return len(hs.Stats().Readers) == 0 && len(s.Sessions()) == 0
	})
}

func TestErrors(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	mediatest.Publish(t, h, "live/test", clip, false)
	open := startServer(t, &access.HubSource{Hub: h}, false)
	denied := startServer(t, denySource{err: access.ErrUnauthorized}, false)
	unavailable := startServer(t, denySource{err: access.ErrUnavailable}, false)

	tests := []struct {
		name string
		url  string
		want base.StatusCode
	}{
		{"unknown path", url(open, "live/nope"), base.StatusNotFound},
		{"unauthorized", url(denied, "live/test"), base.StatusUnauthorized},
		{"unavailable", url(unavailable, "live/test"), base.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := base.ParseURL(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _, err = c.Describe(u)
			var bad liberrors.ErrClientBadStatusCode
			if !errors.As(err, &bad) || bad.Code != tc.want {
				t.Fatalf("describe error %v, want status %d", err, tc.want)
			}
		})
	}

	t.Run("announce refused", func(t *testing.T) {
		u, err := base.ParseURL(url(open, "live/pushed"))
		if err != nil {
			t.Fatal(err)
		}
		c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
		desc := &description.Session{Medias: []*description.Media{{
			Type:    description.MediaTypeVideo,
			Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}},
		}}}
		err = c.StartRecording(u.String(), desc)
		if err == nil {
			c.Close()
			t.Fatal("recording was accepted")
		}
		var bad liberrors.ErrClientBadStatusCode
		if !errors.As(err, &bad) || bad.Code < 400 {
			t.Fatalf("announce error %v, want a 4xx/5xx status", err)
		}
		if _, ok := h.Stream("live/pushed"); ok {
			t.Fatal("a stream was published")
		}
	})

	t.Run("record setup refused", func(t *testing.T) {
		// A client skipping ANNOUNCE and asking for mode=record in SETUP.
		u, err := base.ParseURL(url(open, "live/test"))
		if err != nil {
			t.Fatal(err)
		}
		c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		res, err := c.Options(u)
		if err != nil {
			t.Fatal(err)
		}
		public := strings.Join(res.Header["Public"], ",")
		if strings.Contains(public, "ANNOUNCE") || strings.Contains(public, "RECORD") {
			t.Errorf("Public %q offers publishing", public)
		}
		if !strings.Contains(public, "DESCRIBE") || !strings.Contains(public, "PLAY") {
			t.Errorf("Public %q lacks DESCRIBE/PLAY", public)
		}
	})
}

// TestStreamEnd: when the published stream ends, the sessions are closed
// and the path is gone.
func TestStreamEnd(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	hs := mediatest.Publish(t, h, "live/end", clip, true)
	s := startServer(t, &access.HubSource{Hub: h}, false)

	p := play(t, url(s, "live/end"), gortsplib.ProtocolTCP)
	p.waitKeyframeFirst(t)
	done := make(chan error, 1)
	go func() { done <- p.c.Wait() }()

	hs.Close()
	select {
	case err := <-done:
		t.Logf("client ended: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("client still connected 5 s after the stream ended")
	}
	testsupport.Eventually(t, 5*time.Second, "no session", func() bool { return len(s.Sessions()) == 0 })

	u, err := base.ParseURL(url(s, "live/end"))
	if err != nil {
		t.Fatal(err)
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) || bad.Code != base.StatusNotFound {
		t.Fatalf("describe after the end: %v, want 404", err)
	}
}

// TestDescribeOnly: a client that describes and leaves without SETUP
// does not keep the hub reader.
func TestDescribeOnly(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	hs := mediatest.Publish(t, h, "live/d", clip, false)
	s := startServer(t, &access.HubSource{Hub: h}, false)

	u, err := base.ParseURL(url(s, "live/d"))
	if err != nil {
		t.Fatal(err)
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Medias) != 1 {
		t.Errorf("medias %v, want video only", desc.Medias)
	}
	if n := len(hs.Stats().Readers); n != 1 {
		t.Fatalf("hub readers after DESCRIBE = %d, want 1", n)
	}
	c.Close()
	testsupport.Eventually(t, 5*time.Second, "hub reader gone", func() bool { return len(hs.Stats().Readers) == 0 })
}

// TestConcurrentDescribe: clients arriving together on a path that has no
// RTSP stream yet still get one shared hub reader.
func TestConcurrentDescribe(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	hs := mediatest.Publish(t, h, "live/burst", clip, false)
	src := &recordingSource{Source: &access.HubSource{Hub: h}, reqs: make(chan access.Request, 8)}
	s := startServer(t, src, false)

	const clients = 4
	var wg sync.WaitGroup
	players := make([]*player, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() { players[i], errs[i] = startPlayer(t, url(s, "live/burst"), gortsplib.ProtocolTCP) })
	}
	wg.Wait()
	for i, p := range players {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		p.waitKeyframeFirst(t)
	}
	if n := len(src.reqs); n != 1 {
		t.Errorf("Source.Read called %d times, want 1", n)
	}
	if n := len(hs.Stats().Readers); n != 1 {
		t.Errorf("hub readers = %d, want 1", n)
	}
	if n := len(s.Sessions()); n != clients {
		t.Errorf("sessions = %d, want %d", n, clients)
	}
}
