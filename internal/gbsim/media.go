package gbsim

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/sdp"
)

// connect opens the media transport and returns the packet writer.
func (s *session) connect() (func([]byte) error, io.Closer, error) {
	switch s.transport {
	case sdp.TransportUDP:
		conn := s.udp
		return func(p []byte) error { _, err := conn.Write(p); return err }, conn, nil
	case sdp.TransportTCPActive:
		// The platform connects to us; the session's end stops the wait.
		stop := context.AfterFunc(s.ctx, func() { s.listener.Close() })
		defer stop()
		conn, err := s.listener.Accept()
		s.listener.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("accept TCP media: %w", err)
		}
		w := rtptcp.NewWriter(conn)
		return w.WritePacket, conn, nil
	default:
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(s.dev.sim.cfg.LocalIP)}}
		conn, err := d.DialContext(s.ctx, "tcp", s.remote)
		if err != nil {
			return nil, nil, fmt.Errorf("dial TCP media %s: %w", s.remote, err)
		}
		w := rtptcp.NewWriter(conn)
		return w.WritePacket, conn, nil
	}
}

// packetSender applies the packet faults (loss, duplicates, reordering)
// between the packetizer and the wire.
type packetSender struct {
	write         func([]byte) error
	loss, dup, ro float64
	held          []byte
	rng           *rand.Rand
	sent          int
}

func (p *packetSender) send(pkt *rtp.Packet) error {
	b, err := pkt.Marshal()
	if err != nil {
		return err
	}
	if p.loss > 0 && p.rng.Float64()*100 < p.loss {
		return nil
	}
	if p.held == nil && p.ro > 0 && p.rng.Float64()*100 < p.ro {
		p.held = b // goes out after the next packet
		return nil
	}
	if err := p.out(b); err != nil {
		return err
	}
	if p.held != nil {
		h := p.held
		p.held = nil
		return p.out(h)
	}
	return nil
}

func (p *packetSender) out(b []byte) error {
	if err := p.write(b); err != nil {
		return err
	}
	p.sent++
	if p.dup > 0 && p.rng.Float64()*100 < p.dup {
		return p.write(b)
	}
	return nil
}

// stream sends the channel's video and audio as PS over RTP until the
// session ends, following pause, seek and scale requests of playback. Its
// pace comes from the simulator's clock: one frame every 40 ms divided by
// the scale.
func (s *session) stream() error {
	write, closer, err := s.connect()
	if err != nil {
		return err
	}
	defer closer.Close()
	cfg := s.dev.sim.cfg
	clk := s.dev.sim.clock()
	lib := s.dev.sim.media
	src := lib.wait(s.ctx, s.ch.codec, s.ch.id, cfg.ClipWait)

	mux := &ps.Muxer{VideoCodec: s.ch.codec, AudioCodec: ps.CodecG711A, OmitPSM: cfg.Faults.NoPSM}
	if cfg.Faults.LyingPSM {
		mux.PSMVideoStreamType = ps.StreamTypeH265
		if s.ch.codec == ps.CodecH265 {
			mux.PSMVideoStreamType = ps.StreamTypeH264
		}
	}
	pk := &ps.Packetizer{SSRC: s.ssrc, SequenceNumber: uint16(rand.Uint32())}
	out := &packetSender{
		write: write, loss: cfg.Faults.PacketLoss, dup: cfg.Faults.Duplicate, ro: cfg.Faults.Reorder,
		rng: rand.New(rand.NewPCG(uint64(s.ssrc), uint64(time.Now().UnixNano()))),
	}
	var disconnect <-chan time.Time
	if cfg.Faults.TCPDisconnect > 0 && s.transport.IsTCP() {
		t := clk.NewTimer(cfg.Faults.TCPDisconnect)
		defer t.Stop()
		disconnect = t.C()
	}
	playback := !s.start.IsZero()
	length := s.end.Sub(s.start)
	var pos time.Duration // position in the playback window
	paused, ended := false, false
	idx, n := 0, 0
	basePTS := int64(rand.Uint32() >> 4)
	var buf []byte
	next := clk.Now()
	s.dev.log.Info("streaming", "channel_id", s.ch.id, "synthetic", src.synthetic, "frames", len(src.frames))
	frame := clk.NewTimer(0)
	defer frame.Stop()
	for {
		// Paused or at the end of the range, nothing is due until a PLAY.
		var due <-chan time.Time
		if !paused && !ended {
			due = frame.C()
		}
		select {
		case <-s.ctx.Done():
			return nil
		case <-disconnect:
			s.dev.log.Info("fault: closing TCP media connection", "channel_id", s.ch.id)
			return nil
		case r := <-s.ctrl:
			idle := paused || ended
			switch r.Method {
			case mansrtsp.MethodPause:
				paused = true
			case mansrtsp.MethodPlay:
				paused = false
				if r.Scale != 0 {
					s.scale = max(r.Scale, 0.125)
					if r.Scale < 0 {
						s.scale = -r.Scale // reverse play runs forward here
					}
				}
				if r.Range != nil && !r.Range.Now && playback {
					pos = min(r.Range.Start, length)
					ended = false
					// Resume at a keyframe so the decoder recovers.
					idx = nextKey(src, idx)
				}
				next = clk.Now()
			}
			switch {
			case paused || ended:
				frame.Stop()
			case idle:
				frame.Reset(0)
			}
			continue
		case <-due:
		}
		if idx >= len(src.frames) {
			idx = 0
			src = lib.get(s.ch.codec, s.ch.id) // a better clip may be ready
		}
		au := src.frames[idx]
		var pts int64
		if playback {
			pts = basePTS + int64(pos/time.Millisecond)*90
		} else {
			pts = basePTS + int64(n)*frameTicks
		}
		buf, err = mux.AppendVideo(buf[:0], pts, pts, au.key, au.data)
		if err != nil {
			return fmt.Errorf("mux video: %w", err)
		}
		if a := src.audioFor(n); a != nil {
			buf, err = mux.AppendAudio(buf, pts, a)
			if err != nil {
				return fmt.Errorf("mux audio: %w", err)
			}
		}
		if err := pk.Visit(buf, uint32(pts), out.send); err != nil {
			if s.ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("send media: %w", err)
		}
		idx++
		n++
		if playback {
			pos += frameDuration
			if pos >= length {
				ended = true
				frame.Stop()
				s.dev.sim.spawn(s.endOfFile)
				continue
			}
		}
		now := clk.Now()
		next = next.Add(time.Duration(float64(frameDuration) / s.scale))
		if d := next.Sub(now); d > 0 {
			frame.Reset(d)
		} else {
			if d < -time.Second {
				next = now // fell behind (paused machine): do not burst
			}
			frame.Reset(0)
		}
	}
}

func nextKey(c *clip, from int) int {
	for i := range c.frames {
		j := (from + i) % len(c.frames)
		if c.frames[j].key {
			return j
		}
	}
	return 0
}

// endOfFile tells the platform the playback or download reached the end
// of its range (MediaStatus 121); the platform then sends BYE.
func (s *session) endOfFile() {
	s.dev.log.Info("playback finished", "channel_id", s.ch.id)
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	s.dev.send(ctx, &manscdp.MediaStatusNotify{
		Header:     manscdp.Header{SN: s.dev.nextSN(), DeviceID: s.ch.id},
		NotifyType: manscdp.NotifyTypeEndOfFile,
	})
}
