package rtsp_test

import (
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/rtsp"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// finishedDownload publishes a held stream (a download), writes a whole
// clip into it at once, with audio, and ends it: the device has finished
// before anybody reads. It returns the number of video units written.
func finishedDownload(t *testing.T, h *hub.Hub, path string, clip *mediatest.Clip) int {
	t.Helper()
	st, err := h.PublishHold(path, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	step := int64(90000 / clip.FPS)
	var pts, audioPTS int64
	for _, u := range clip.Units {
		u.PTS, u.DTS = pts, pts
		if err := st.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
		for audioPTS <= pts {
			a := hub.Unit{Codec: ps.CodecG711A, PTS: audioPTS, DTS: audioPTS, Keyframe: true, Payload: mediatest.G711Frame}
			if err := st.WriteUnit(a); err != nil {
				t.Fatal(err)
			}
			audioPTS += 1800
		}
		pts += step
	}
	st.End()
	return len(clip.Units)
}

// TestHeldStreamGortsplib: a download finished before its reader came; a
// gortsplib client attaching afterwards gets every video frame from the
// first keyframe, in order, and then BYE on every track (the end), even
// with write queues far smaller than the clip.
func TestHeldStreamGortsplib(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, &hub.Hub{ReaderQueue: 16})
	want := finishedDownload(t, h, "download/d1", clip)
	s := startServer(t, &access.HubSource{Hub: h}, false)

	pu, err := base.ParseURL(url(s, "download/d1"))
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	c := &gortsplib.Client{Scheme: pu.Scheme, Host: pu.Host, Protocol: &tcp}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(pu)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		t.Fatal(err)
	}
	var h264f *format.H264
	vm := desc.FindFormat(&h264f)
	if vm == nil {
		t.Fatalf("no H.264 in %v", desc.Medias)
	}
	dec, err := h264f.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var frames, firstKey int
	firstKey = -1
	byes := map[*description.Media]bool{}
	ended := make(chan struct{})
	c.OnPacketRTP(vm, h264f, func(pkt *rtp.Packet) {
		au, err := dec.Decode(pkt)
		if err != nil {
			return // a fragment: the access unit is not complete yet
		}
		mu.Lock()
		defer mu.Unlock()
		if frames == 0 && h264.IsRandomAccess(au) {
			firstKey = 0
		}
		frames++
	})
	c.OnPacketRTCPAny(func(m *description.Media, pkt rtcp.Packet) {
		if _, ok := pkt.(*rtcp.Goodbye); !ok {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		byes[m] = true
		if len(byes) == len(desc.Medias) {
			close(ended)
		}
	})
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("no BYE on every track: %d frames, byes %v", frames, byes)
	}
	mu.Lock()
	got, key := frames, firstKey
	mu.Unlock()
	if got != want || key != 0 {
		t.Fatalf("got %d frames (first is a keyframe: %v), want %d from the first keyframe", got, key == 0, want)
	}
	c.Close()
	testsupport.Eventually(t, 10*time.Second, "download stream closed", func() bool {
		_, ok := h.Stream("download/d1")
		return !ok
	})
}

// TestHeldStreamFFmpeg is the console's download: ffmpeg attaches after the
// device finished, copies every frame from the first keyframe, sees the
// end of the stream and exits cleanly.
func TestHeldStreamFFmpeg(t *testing.T) {
	t.Parallel()
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	h := mediatest.NewHub(t, nil)
	want := finishedDownload(t, h, "download/d2", clip)
	// After the BYE the server waits WriteTimeout for the reader to leave
	// before it closes the session itself: far longer than ffmpeg's own
	// deadline here, so ffmpeg can only succeed by ending at the BYE.
	s := &rtsp.Server{Source: &access.HubSource{Hub: h}, Address: "127.0.0.1:0", WriteTimeout: 10 * time.Minute, Log: mediatest.Log(t)}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if frames := mediatest.CopyFrames(t, url(s, "download/d2"), 2*time.Minute); frames != want {
		t.Fatalf("ffmpeg copied %d frames, want %d", frames, want)
	}
	testsupport.Eventually(t, 10*time.Second, "download stream closed", func() bool {
		_, ok := h.Stream("download/d2")
		return !ok
	})
}
