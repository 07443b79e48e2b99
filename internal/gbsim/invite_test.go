package gbsim

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// call is the platform side of one INVITE dialog.
type call struct {
	p      *platform
	target sip.Uri
	from   *sip.FromHeader
	to     *sip.ToHeader
	callID sip.CallIDHeader
	cseq   uint32
	answer *sdp.Session
}

func (p *platform) invite(t *testing.T, channelID string, offer *sdp.Session) *call {
	t.Helper()
	p.mu.Lock()
	addr := p.devices[p.firstDevice()]
	p.mu.Unlock()
	host, port, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(port)
	c := &call{p: p, target: sip.Uri{Scheme: "sip", User: channelID, Host: host, Port: pn}, callID: sip.CallIDHeader(newToken(8)), cseq: 1}
	c.from = &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: testServerID, Host: testRealm}, Params: sip.NewParams()}
	c.from.Params.Add("tag", newToken(4))
	c.to = &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: channelID, Host: testRealm}, Params: sip.NewParams()}
	req := c.request(sip.INVITE, offer.Marshal(), "APPLICATION/SDP")
	req.AppendHeader(sip.NewHeader("Subject", channelID+":0200000001,"+testServerID+":0"))
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INVITE: %d %s", res.StatusCode, res.Reason)
	}
	tag, _ := res.To().Params.Get("tag")
	c.to.Params.Add("tag", tag)
	c.answer, err = sdp.Parse(res.Body())
	if err != nil {
		t.Fatalf("answer SDP: %v\n%s", err, res.Body())
	}
	ack := c.request(sip.ACK, nil, "")
	ack.CSeq().SeqNo = 1
	if err := p.cli.WriteRequest(ack); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	return c
}

func (c *call) request(method sip.RequestMethod, body []byte, ct string) *sip.Request {
	req := sip.NewRequest(method, c.target)
	req.AppendHeader(c.from)
	req.AppendHeader(c.to)
	cid := c.callID
	req.AppendHeader(&cid)
	if method != sip.ACK {
		c.cseq++
	}
	seq := c.cseq
	if method == sip.INVITE {
		seq = 1
	}
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	if ct != "" {
		h := sip.ContentTypeHeader(ct)
		req.AppendHeader(&h)
	}
	req.SetBody(body)
	req.SetTransport(map[string]string{"udp": "UDP", "tcp": "TCP"}[c.p.network])
	return req
}

func (c *call) do(t *testing.T, method sip.RequestMethod, body []byte, ct string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventTimeout)
	defer cancel()
	res, err := c.p.cli.Do(ctx, c.request(method, body, ct))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res.StatusCode
}

// mediaTimeout bounds the wait for the next RTP packet of a stream of a
// simulator configured with cfg: before its first packet the device may
// wait cfg.ClipWait for its clip; after that a packet is due every frame,
// and ackTimeout, the longest the device itself waits on its peer, bounds
// a stall. It is only reached on failure.
func mediaTimeout(cfg Config) time.Duration { return cfg.ClipWait + ackTimeout }

// mediaStats demuxes the RTP packets of a stream.
type mediaStats struct {
	dmx      ps.Demuxer
	packets  int
	ssrc     uint32
	video    int
	audio    int
	keyframe bool
	codec    ps.Codec
}

func (m *mediaStats) add(t *testing.T, b []byte) {
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		t.Fatalf("RTP: %v", err)
	}
	m.packets++
	m.ssrc = pkt.SSRC
	if pkt.PayloadType != 96 {
		t.Fatalf("payload type %d", pkt.PayloadType)
	}
	frames, _ := m.dmx.WriteRTP(pkt.Payload, pkt.Timestamp, pkt.Marker)
	for _, f := range frames {
		if f.Codec.IsVideo() {
			m.video++
			m.codec = f.Codec
			m.keyframe = m.keyframe || f.Keyframe
		} else if f.Codec == ps.CodecG711A {
			m.audio++
		}
	}
}

func TestInviteStreams(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport sdp.Transport
		media     string
		codec     ps.Codec
		ffmpeg    bool
	}{
		{"udp-h264", sdp.TransportUDP, MediaH264, ps.CodecH264, false},
		{"udp-h265-ffmpeg", sdp.TransportUDP, MediaH265, ps.CodecH265, true},
		{"tcp-passive-h265", sdp.TransportTCPPassive, MediaH265, ps.CodecH265, false},
		{"tcp-active-h264", sdp.TransportTCPActive, MediaH264, ps.CodecH264, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ffmpeg {
				testsupport.Tool(t, "ffmpeg", "ffmpeg")
			}
			p := newPlatform(t, "udp")
			s, _ := startSim(t, p, func(c *Config) {
				c.Media = tc.media
				if tc.ffmpeg {
					c.FFmpeg = "ffmpeg"
					c.ClipSize = "320x240"
					// Wait for the clip however busy the machine is (a
					// clip takes up to three ffmpeg runs), so that the
					// stream is the real one.
					c.ClipWait = 3 * c.FFmpegTimeout
				}
			})
			wait := mediaTimeout(s.cfg)
			p.waitReg(t, false)
			ch := "34020000001310000001"
			const ssrc = 200000001

			var read func() []byte
			port := 9
			switch tc.transport {
			case sdp.TransportUDP:
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pc.Close() })
				port = pc.LocalAddr().(*net.UDPAddr).Port
				buf := make([]byte, 2048)
				read = func() []byte {
					_ = pc.SetReadDeadline(time.Now().Add(wait))
					n, _, err := pc.ReadFrom(buf)
					if err != nil {
						t.Fatalf("read RTP: %v", err)
					}
					return buf[:n]
				}
			case sdp.TransportTCPPassive:
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				port = ln.Addr().(*net.TCPAddr).Port
				var conn net.Conn
				var r *rtptcp.Reader
				read = func() []byte {
					if r == nil {
						_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(wait))
						c, err := ln.Accept()
						if err != nil {
							t.Fatalf("accept TCP media: %v", err)
						}
						t.Cleanup(func() { c.Close() })
						conn, r = c, rtptcp.NewReader(c)
					}
					_ = conn.SetReadDeadline(time.Now().Add(wait))
					b, err := r.ReadPacket()
					if err != nil {
						t.Fatalf("read RTP/TCP: %v", err)
					}
					return b
				}
			}
			offer, err := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: port}, ssrc, sdp.WithTransport(tc.transport))
			if err != nil {
				t.Fatal(err)
			}
			c := p.invite(t, ch, offer)
			a := c.answer
			if a.Origin.Username != ch || a.SSRC != ssrc || len(a.Medias) != 1 || a.Medias[0].Direction != sdp.DirectionSendOnly {
				t.Fatalf("answer %+v", a)
			}
			if plan, err := sdp.ResolvePlan(offer, a); err != nil || len(plan.Warnings) > 0 {
				t.Fatalf("plan %+v err %v", plan, err)
			}
			if tc.transport == sdp.TransportTCPActive {
				if a.Medias[0].Setup != sdp.SetupPassive {
					t.Fatalf("setup %q", a.Medias[0].Setup)
				}
				conn, err := net.Dial("tcp", net.JoinHostPort(a.Connection.Address, strconv.Itoa(a.Medias[0].Port)))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { conn.Close() })
				r := rtptcp.NewReader(conn)
				read = func() []byte {
					_ = conn.SetReadDeadline(time.Now().Add(wait))
					b, err := r.ReadPacket()
					if err != nil {
						t.Fatalf("read RTP/TCP: %v", err)
					}
					return b
				}
			}
			var m mediaStats
			for m.video < 30 {
				m.add(t, read())
			}
			if m.ssrc != ssrc || m.codec != tc.codec || !m.keyframe || m.audio < 20 {
				t.Fatalf("media: ssrc %d codec %v keyframe %v video %d audio %d", m.ssrc, m.codec, m.keyframe, m.video, m.audio)
			}
			if tc.ffmpeg {
				if clip := s.media.get(tc.codec, ch); clip.synthetic {
					t.Fatal("streamed the synthetic clip although ffmpeg is installed")
				}
			}
			if code := c.do(t, sip.BYE, nil, ""); code != 200 {
				t.Fatalf("BYE: %d", code)
			}
		})
	}
}

// TestPlaybackEndsWithMediaStatus plays 4 s of recording at scale 4 on a
// virtual clock: the stream covers the range in 1 s of its own time, then
// sends MediaStatus 121 and stops pacing until the platform's BYE.
func TestPlaybackEndsWithMediaStatus(t *testing.T) {
	p := newPlatform(t, "udp")
	s := newSim(t, p, nil)
	clk := newVirtualClock()
	s.clk = clk
	runSim(t, s)
	p.waitReg(t, false)
	ch := "34020000001310000003"
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	drained := make(chan struct{})
	go func() { // drain
		defer close(drained)
		b := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(b); err != nil {
				return
			}
		}
	}()
	defer func() { pc.Close(); <-drained }()
	end := time.Now().Add(-time.Hour).Truncate(time.Second)
	offer, err := sdp.NewPlaybackOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port},
		1200000002, ch, end.Add(-4*time.Second), end)
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	c := p.invite(t, ch, offer)
	if c.answer.Name != sdp.SessionPlayback || c.answer.Time != offer.Time {
		t.Fatalf("answer %+v", c.answer)
	}
	clk.waitTimers(t, 1, mediaTimeout(s.cfg)) // streaming: the first frame is due now
	body := (&mansrtsp.Request{Method: mansrtsp.MethodPlay, Version: mansrtsp.VersionRTSP, CSeq: 1, Scale: 4}).Marshal()
	if code := c.do(t, sip.INFO, body, "Application/MANSRTSP"); code != 200 {
		t.Fatalf("INFO: %d", code)
	}
	stop := clk.drive()
	defer stop()
	ms := waitMsg[*manscdp.MediaStatusNotify](t, p.msgs, nil)
	if ms.DeviceID != ch || ms.NotifyType != "121" {
		t.Fatalf("MediaStatus %+v", ms)
	}
	clk.waitIdle(t, eventTimeout) // at the end of the range nothing is paced
	stop()
	// 100 frames of 40 ms at scale 4: the last one goes out 990 ms after
	// the first; at scale 1 it would be 3960 ms.
	if took := clk.Now().Sub(start); took < 900*time.Millisecond || took > 1100*time.Millisecond {
		t.Fatalf("4 s of recording at scale 4 took %v of the stream's time, want about 1 s", took)
	}
	if code := c.do(t, sip.BYE, nil, ""); code != 200 {
		t.Fatalf("BYE: %d", code)
	}
}

func TestMediaOffRefusesInvite(t *testing.T) {
	p := newPlatform(t, "udp")
	startSim(t, p, func(c *Config) { c.MediaOff = true })
	p.waitReg(t, false)
	offer, _ := sdp.NewPlayOffer(sdp.Endpoint{ID: testServerID, IP: "127.0.0.1", Port: 30000}, 200000001)
	res := p.request(t, sip.INVITE, "34020000001310000001", offer.Marshal(), "APPLICATION/SDP")
	if res.StatusCode != 503 {
		t.Fatalf("INVITE with media off: %d", res.StatusCode)
	}
}
