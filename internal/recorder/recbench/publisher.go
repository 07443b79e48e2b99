package recbench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// Publisher sends the clip to an RTSP server (mediamtx) as one publisher
// per stream, H.264 and G.711 A-law over RTP, paced in real time like
// gbsim: one frame every 40 ms, its packets in one burst. One process
// cheaper than N ffmpeg; its own CPU is measured and left out of the
// servers' figures.
type Publisher struct {
	// Clip is what every stream sends, looped.
	Clip *Clip
	// URLs are the publish URLs, one per stream.
	URLs []string
	// TCP sends RTP interleaved in the RTSP connection instead of UDP.
	TCP bool
	// Log receives a line per stream that fails. Nil: slog.Default().
	Log *slog.Logger

	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	sent    atomic.Int64 // RTP payload bytes
	dropped atomic.Int64 // packets refused by a full write queue
	failed  atomic.Int64
}

// Initialize starts every stream (each announces and starts recording in
// its own goroutine).
func (p *Publisher) Initialize() error {
	if p.Clip == nil || len(p.URLs) == 0 {
		return fmt.Errorf("recbench: publisher: no clip or no URL")
	}
	if p.Log == nil {
		p.Log = slog.Default()
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	for i, u := range p.URLs {
		p.wg.Add(1)
		go p.run(i, u)
	}
	return nil
}

// Close stops every stream and waits for them.
func (p *Publisher) Close() {
	p.cancel()
	p.wg.Wait()
}

// SentBytes is the RTP payload bytes sent so far by every stream.
func (p *Publisher) SentBytes() int64 { return p.sent.Load() }

// Dropped is how many packets were not sent because a stream's write
// queue was full (the publisher fell behind: the machine is saturated).
func (p *Publisher) Dropped() int64 { return p.dropped.Load() }

// Failed is how many streams ended with an error.
func (p *Publisher) Failed() int64 { return p.failed.Load() }

func (p *Publisher) run(i int, url string) {
	defer p.wg.Done()
	if err := p.stream(i, url); err != nil && p.ctx.Err() == nil {
		p.failed.Add(1)
		p.Log.Warn("publisher stream ended", "url", url, "err", err)
	}
}

func (p *Publisher) stream(i int, url string) error {
	h264 := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	g711 := &format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}
	video := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{h264}}
	audio := &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{g711}}
	desc := &description.Session{Medias: []*description.Media{video, audio}}
	// A 1080p key frame is about 50 packets: room for a few frames when
	// the writer goroutine waits for a busy core.
	c := gortsplib.Client{WriteQueueSize: 1024}
	if p.TCP {
		tcp := gortsplib.ProtocolTCP
		c.Protocol = &tcp
	} else {
		udp := gortsplib.ProtocolUDP
		c.Protocol = &udp
	}
	if err := c.StartRecording(url, desc); err != nil {
		return fmt.Errorf("start recording: %w", err)
	}
	defer c.Close()
	venc, err := h264.CreateEncoder()
	if err != nil {
		return fmt.Errorf("h264 encoder: %w", err)
	}
	aenc, err := g711.CreateEncoder()
	if err != nil {
		return fmt.Errorf("g711 encoder: %w", err)
	}
	vbase, abase := rand.Uint32(), rand.Uint32()
	// Streams start spread over one frame interval, as cameras do.
	next := time.Now().Add(time.Duration(i%FrameRate) * time.Second / FrameRate / FrameRate)
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for n := 0; ; n++ {
		select {
		case <-p.ctx.Done():
			return nil
		case <-timer.C:
		}
		f := p.Clip.Frames[n%len(p.Clip.Frames)]
		pkts, err := venc.Encode(f.NALUs)
		if err != nil {
			return fmt.Errorf("encode video: %w", err)
		}
		for _, pkt := range pkts {
			pkt.Timestamp += vbase + uint32(n*90000/FrameRate)
			if err := p.write(&c, video, pkt); err != nil {
				return fmt.Errorf("write video: %w", err)
			}
		}
		apkts, err := aenc.Encode(p.Clip.AudioFor(n))
		if err != nil {
			return fmt.Errorf("encode audio: %w", err)
		}
		for _, pkt := range apkts {
			pkt.Timestamp += abase + uint32(n*AudioPerFrame)
			if err := p.write(&c, audio, pkt); err != nil {
				return fmt.Errorf("write audio: %w", err)
			}
		}
		next = next.Add(time.Second / FrameRate)
		d := time.Until(next)
		if d < -time.Second {
			next = time.Now() // fell behind: do not burst
			d = 0
		}
		timer.Reset(max(d, 0))
	}
}

// write sends one packet; a full write queue drops it and is counted, the
// stream goes on.
func (p *Publisher) write(c *gortsplib.Client, m *description.Media, pkt *rtp.Packet) error {
	err := c.WritePacketRTP(m, pkt)
	var full liberrors.ErrClientWriteQueueFull
	switch {
	case errors.As(err, &full):
		p.dropped.Add(1)
		return nil
	case err != nil:
		return err
	}
	p.sent.Add(int64(len(pkt.Payload)))
	return nil
}
