package whep_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/whep"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// firstAccessUnit reads video packets up to the first marker bit and
// returns the depacketized Annex-B access unit.
func firstAccessUnit(t *testing.T, c *client, timeout time.Duration) []byte {
	t.Helper()
	var depack codecs.H264Packet
	var au []byte
	deadline := time.After(timeout)
	for {
		select {
		case rp := <-c.video:
			b, err := depack.Unmarshal(rp.pkt.Payload)
			if err != nil {
				t.Fatalf("depacketize: %v", err)
			}
			au = append(au, b...)
			if rp.pkt.Marker {
				return au
			}
		case <-deadline:
			t.Fatalf("no complete video access unit within %v", timeout)
		}
	}
}

// naluTypes lists the H.264 NAL unit types of an Annex-B access unit.
func naluTypes(au []byte) []int {
	var out []int
	for i := 0; i+3 < len(au); i++ {
		if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
			out = append(out, int(au[i+3]&0x1F))
			i += 2
		}
	}
	return out
}

func TestWHEP(t *testing.T) {
	h := mediatest.NewHub(t, &hub.Hub{})
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	st := mediatest.Publish(t, h, "live/34020000001320000001", clip, true)
	e := newEnv(t, &access.HubSource{Hub: h})

	c := newClient(t)
	if code := c.post(t, e.url("/whep/live/34020000001320000001?token=abc")); code != http.StatusCreated {
		t.Fatalf("POST: %d, want 201", code)
	}
	if !regexp.MustCompile(`^/whep/live/34020000001320000001/sessions/[0-9a-f]{32}$`).MatchString(c.location) {
		t.Fatalf("Location %q", c.location)
	}
	if c.etag == "" {
		t.Fatal("no ETag")
	}
	for _, want := range []string{"H264/90000", "PCMA/8000", "packetization-mode=1", "a=end-of-candidates", "127.0.0.1"} {
		if !strings.Contains(c.answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, c.answer)
		}
	}

	// The first access unit is the GOP cache's keyframe: SPS, PPS, IDR.
	au := firstAccessUnit(t, c, 10*time.Second)
	types := naluTypes(au)
	if !containsInt(types, 5) || !containsInt(types, 7) || !containsInt(types, 8) {
		t.Fatalf("first access unit has NAL types %v, want SPS, PPS and IDR", types)
	}
	select {
	case rp := <-c.audio:
		if rp.pkt.PayloadType != 8 || len(rp.pkt.Payload) != 160 {
			t.Fatalf("audio packet PT %d, %d bytes; want PCMA, 160", rp.pkt.PayloadType, len(rp.pkt.Payload))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no audio packet")
	}

	// NACK a packet: the responder sends it again (same sequence number:
	// no RTX), and the session counts the request.
	var nacked *rtp.Packet
	select {
	case rp := <-c.video:
		nacked = rp.pkt
	case <-time.After(5 * time.Second):
		t.Fatal("no video packet after the first access unit")
	}
	err := c.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
		SenderSSRC: 1, MediaSSRC: nacked.SSRC, Nacks: []rtcp.NackPair{{PacketID: nacked.SequenceNumber}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	retransmitted := time.After(5 * time.Second)
	for again := false; !again; {
		select {
		case rp := <-c.video:
			again = rp.pkt.SequenceNumber == nacked.SequenceNumber && bytes.Equal(rp.pkt.Payload, nacked.Payload)
		case <-retransmitted:
			t.Fatalf("packet %d not retransmitted after NACK", nacked.SequenceNumber)
		}
	}
	testsupport.Eventually(t, 5*time.Second, "NACK counted", func() bool {
		ss := e.srv.Sessions()
		return len(ss) == 1 && ss[0].NACKs == 1
	})

	ss := e.srv.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	s := ss[0]
	if s.Path != "live/34020000001320000001" || s.State != "connected" || s.Packets == 0 || s.Units == 0 ||
		!strings.HasPrefix(s.VideoCodec, "H264/") || !strings.HasPrefix(s.AudioCodec, "PCMA/") ||
		!strings.HasSuffix(c.location, s.ID) || s.Reader == "" {
		t.Fatalf("session stats %+v", s)
	}
	if n := len(st.Stats().Readers); n != 1 {
		t.Fatalf("%d stream readers, want 1", n)
	}

	// Trickle: a candidate of the session's ICE generation is taken; new
	// credentials are an ICE restart; a stale ETag is refused.
	ufrag := regexp.MustCompile(`a=ice-ufrag:(\S+)`).FindStringSubmatch(c.offer)[1]
	cand := "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
	patches := []struct {
		name    string
		frag    string
		ifMatch string
		want    int
	}{
		{"candidate", "a=ice-ufrag:" + ufrag + "\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n" + cand, c.etag, http.StatusNoContent},
		{"end of candidates", "a=end-of-candidates\r\n", "", http.StatusNoContent},
		{"ICE restart", "a=ice-ufrag:new1\r\na=ice-pwd:newpasswordnewpassword12\r\n", "*", http.StatusUnprocessableEntity},
		{"stale ETag", cand, `"0000"`, http.StatusPreconditionFailed},
		{"bad line", "candidate without a=\r\n", "", http.StatusBadRequest},
		{"wrong content type", cand, "", http.StatusUnsupportedMediaType},
	}
	for _, p := range patches {
		ct := "application/trickle-ice-sdpfrag"
		if p.name == "wrong content type" {
			ct = "application/sdp"
		}
		var hdr []string
		if p.ifMatch != "" {
			hdr = []string{"If-Match", p.ifMatch}
		}
		res, body := do(t, http.MethodPatch, e.url(c.location), ct, []byte(p.frag), hdr...)
		if res.StatusCode != p.want {
			t.Errorf("PATCH %s: %d %s, want %d", p.name, res.StatusCode, body, p.want)
		}
	}

	res, body := do(t, http.MethodDelete, e.url(c.location), "", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d %s", res.StatusCode, body)
	}
	if n := len(st.Stats().Readers); n != 0 {
		t.Fatalf("%d stream readers after DELETE, want 0", n)
	}
	if n := len(e.srv.Sessions()); n != 0 {
		t.Fatalf("%d sessions after DELETE, want 0", n)
	}
	if !strings.Contains(e.log.String(), `reason="whep: session deleted"`) {
		t.Errorf("no session end logged with reason:\n%s", e.log.String())
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// denySource refuses every request.
type denySource struct{}

func (denySource) Authorize(access.Request) error { return access.ErrUnauthorized }

func (denySource) Read(context.Context, access.Request) (*hub.Reader, error) {
	return nil, fmt.Errorf("token: %w", access.ErrUnauthorized)
}

func (denySource) Opened(context.Context, access.Request) error { return access.ErrUnauthorized }

// publishFake publishes a stream of tiny fake H.264 units, ready at once.
func publishFake(t *testing.T, h *hub.Hub, path string) *hub.Stream {
	t.Helper()
	st, err := h.Publish(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		u := hub.Unit{Codec: ps.CodecH264, PTS: int64(i) * 3600, DTS: int64(i) * 3600, Payload: []byte{0, 0, 0, 1, 0x41, 1}}
		if i == 0 {
			u.Keyframe, u.Payload = true, []byte{0, 0, 0, 1, 0x67, 0x42, 0xe0, 0x1f, 0, 0, 0, 1, 0x68, 1, 0, 0, 0, 1, 0x65, 1}
		}
		if err := st.WriteUnit(u); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func TestErrors(t *testing.T) {
	h := mediatest.NewHub(t, &hub.Hub{})
	publishFake(t, h, "live/fake")
	open := newEnv(t, &access.HubSource{Hub: h})
	deny := newEnv(t, denySource{})
	offer := []byte(newClient(t).offer)

	vp8 := &webrtc.MediaEngine{}
	err := vp8.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	vp8Offer := []byte(newClientWith(t, vp8, webrtc.RTPCodecTypeVideo).offer)

	const session = "/whep/live/fake/sessions/00112233445566778899aabbccddeeff"
	tests := []struct {
		name       string
		env        *env
		method     string
		path       string
		ct         string
		body       []byte
		want       int
		wantHeader [2]string
	}{
		{"unknown path", open, "POST", "/whep/live/missing", "application/sdp", offer, 404, [2]string{}},
		{
			"unauthorized", deny, "POST", "/whep/live/fake?token=bad", "application/sdp", offer, 401,
			[2]string{"WWW-Authenticate", `Bearer realm="whep"`},
		},
		{"wrong content type", open, "POST", "/whep/live/fake", "text/plain", offer, 415, [2]string{}},
		{"garbage SDP", open, "POST", "/whep/live/fake", "application/sdp", []byte("hello, world"), 400, [2]string{}},
		{"no H.264 offered", open, "POST", "/whep/live/fake", "application/sdp", vp8Offer, 400, [2]string{}},
		{
			"body too large", open, "POST", "/whep/live/fake", "application/sdp",
			append(offer, make([]byte, whep.MaxBodyBytes)...), 413,
			[2]string{},
		},
		{"bad stream path", open, "POST", "/whep/live/", "application/sdp", offer, 400, [2]string{}},
		{"GET", open, "GET", "/whep/live/fake", "", nil, 405, [2]string{"Allow", "OPTIONS, POST"}},
		{
			"PATCH unknown session", open, "PATCH", session, "application/trickle-ice-sdpfrag",
			[]byte("a=end-of-candidates\r\n"), 404,
			[2]string{},
		},
		{"DELETE unknown session", open, "DELETE", session, "", nil, 404, [2]string{}},
		{"OPTIONS stream", open, "OPTIONS", "/whep/live/fake", "", nil, 204, [2]string{"Accept-Post", "application/sdp"}},
		{
			"OPTIONS session", open, "OPTIONS", session, "", nil, 204,
			[2]string{"Accept-Patch", "application/trickle-ice-sdpfrag"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, tc.method, tc.env.url(tc.path), tc.ct, tc.body)
			if res.StatusCode != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, res.StatusCode, body, tc.want)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin"); got != "*" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
			if got := res.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "Location") {
				t.Errorf("Access-Control-Expose-Headers %q", got)
			}
			if k := tc.wantHeader[0]; k != "" && res.Header.Get(k) != tc.wantHeader[1] {
				t.Errorf("%s: %q, want %q", k, res.Header.Get(k), tc.wantHeader[1])
			}
			if tc.want >= 400 {
				var e struct{ Code, Message string }
				if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
					t.Errorf("error body %q: %v", body, err)
				}
			}
		})
	}
	if n := readers(h, "live/fake"); n != 0 {
		t.Fatalf("%d readers left after failed requests", n)
	}
}

// TestSessionEnds checks that a session ends, and releases its reader,
// whichever side goes away first.
func TestSessionEnds(t *testing.T) {
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	tests := []struct {
		name    string
		queue   int // hub reader queue, 0 for the default
		timeout time.Duration
		connect bool
		end     func(st *hub.Stream, c *client)
		reason  string
	}{
		{
			name: "stream closed", connect: true,
			end:    func(st *hub.Stream, _ *client) { st.Close() },
			reason: "hub: stream closed",
		},
		{
			name: "player closed", connect: true,
			end:    func(_ *hub.Stream, c *client) { c.pc.Close() },
			reason: "whep: connection closed",
		},
		{
			name: "never connects", timeout: 500 * time.Millisecond,
			end:    func(_ *hub.Stream, c *client) { c.pc.Close() },
			reason: "whep: connect timeout",
		},
		{
			// The queue holds what arrives while ICE is pending; a player
			// that never connects overflows it and the hub lets go.
			name: "slow reader while connecting", queue: 8,
			timeout: time.Minute,
			end:     func(*hub.Stream, *client) {},
			reason:  "hub: reader too slow",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mediatest.NewHub(t, &hub.Hub{ReaderQueue: tc.queue, MaxOverflows: 1})
			st, err := h.Publish("live/test")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			played := make(chan struct{})
			go func() {
				defer close(played)
				_ = (&mediatest.Player{Clip: clip, Stream: st, Audio: true}).Run(ctx)
			}()
			t.Cleanup(func() {
				cancel()
				<-played
				st.Close()
			})
			e := newEnv(t, &access.HubSource{Hub: h}, func(s *whep.Server) { s.SessionTimeout = tc.timeout })
			c := newClient(t)
			if tc.connect {
				if code := c.post(t, e.url("/whep/live/test")); code != http.StatusCreated {
					t.Fatalf("POST: %d", code)
				}
				firstAccessUnit(t, c, 10*time.Second)
			} else {
				// Post the offer without applying the answer: ICE never starts.
				res, body := do(t, http.MethodPost, e.url("/whep/live/test"), "application/sdp", []byte(c.offer))
				if res.StatusCode != http.StatusCreated {
					t.Fatalf("POST: %d %s", res.StatusCode, body)
				}
			}
			if n := len(e.srv.Sessions()); n != 1 {
				t.Fatalf("%d sessions, want 1", n)
			}
			tc.end(st, c)
			testsupport.Eventually(t, 20*time.Second, "session end", func() bool { return len(e.srv.Sessions()) == 0 })
			if n := readers(h, "live/test"); n != 0 {
				t.Fatalf("%d readers after session end", n)
			}
			if !strings.Contains(e.log.String(), tc.reason) {
				t.Fatalf("session end reason %q not logged:\n%s", tc.reason, e.log.String())
			}
		})
	}
}
