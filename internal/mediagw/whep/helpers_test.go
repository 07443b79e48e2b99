package whep_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/whep"
)

// env is a WHEP server behind an HTTP server, both on 127.0.0.1.
type env struct {
	srv  *whep.Server
	http *httptest.Server
	log  *mediatest.LogBuffer
}

func (e *env) url(p string) string { return e.http.URL + p }

func newEnv(t testing.TB, src access.Source, configure ...func(*whep.Server)) *env {
	t.Helper()
	logs := &mediatest.LogBuffer{}
	srv := &whep.Server{
		Source:        src,
		ICEUDPAddress: "127.0.0.1:0",
		ICEHosts:      []string{"127.0.0.1"},
		Log:           slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, c := range configure {
		c(srv)
	}
	if err := srv.Initialize(); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/whep/", srv)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &env{srv: srv, http: ts, log: logs}
}

// receivedPacket is an RTP packet with its arrival time.
type receivedPacket struct {
	pkt *rtp.Packet
	at  time.Time
}

// client is a Go WHEP player on 127.0.0.1.
type client struct {
	pc    *webrtc.PeerConnection
	offer string
	video chan receivedPacket
	audio chan receivedPacket

	// Set by post on 201.
	location, etag, answer string
}

// newClient makes a player offering recvonly video and audio with pion's
// default codecs (several H.264 profiles, PCMU, PCMA).
func newClient(t testing.TB) *client {
	t.Helper()
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	return newClientWith(t, me, webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio)
}

func newClientWith(t testing.TB, me *webrtc.MediaEngine, kinds ...webrtc.RTPCodecType) *client {
	t.Helper()
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Tests NACK packets they did receive: the retransmission would be a
	// replay for SRTP.
	se.DisableSRTPReplayProtection(true)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	c := &client{
		pc:    pc,
		video: make(chan receivedPacket, 4096),
		audio: make(chan receivedPacket, 4096),
	}
	for _, k := range kinds {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		ch := c.audio
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			ch = c.video
		}
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			select {
			case ch <- receivedPacket{pkt: p, at: time.Now()}:
			default: // the test stopped reading
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		t.Fatal("client ICE gathering timed out")
	}
	c.offer = pc.LocalDescription().SDP
	return c
}

// post sends the offer; on 201 it applies the answer. It returns the
// status.
func (c *client) post(t testing.TB, url string) int {
	t.Helper()
	res, err := http.Post(url, "application/sdp", strings.NewReader(c.offer))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusCreated {
		t.Logf("POST %s: %d %s", url, res.StatusCode, body)
		return res.StatusCode
	}
	c.location, c.etag, c.answer = res.Header.Get("Location"), res.Header.Get("ETag"), string(body)
	err = c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: c.answer})
	if err != nil {
		t.Fatalf("set answer: %v\n%s", err, c.answer)
	}
	return res.StatusCode
}

// do sends a request and returns the response with its body read.
// reply is what tests need of a response; do has closed the body already.
type reply struct {
	StatusCode int
	Header     http.Header
}

func do(t testing.TB, method, url, contentType string, body []byte, header ...string) (*reply, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &reply{StatusCode: res.StatusCode, Header: res.Header}, b
}

// readers returns the number of readers of the stream at path (0 if the
// stream is gone).
func readers(h *hub.Hub, path string) int {
	st, ok := h.Stream(path)
	if !ok {
		return 0
	}
	return len(st.Stats().Readers)
}
