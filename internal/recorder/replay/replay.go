package replay

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// maxHole is the longest step between two recorded frames a replay waits
// out; a longer one is a hole in the recordings, skipped at once.
const maxHole = 2 * time.Second

// writeTimeout bounds one frame's write: a receiver that takes nothing
// for that long is gone.
const writeTimeout = 10 * time.Second

// pausedKeepalive is how often a paused replay sends an empty pack: the
// receiver (mediagw's RTP timeout, 10 s) sees the stream alive, and a
// receiver gone meanwhile ends the replay.
const pausedKeepalive = 2 * time.Second

// replay is one running (or ended) replay.
type replay struct {
	id       string
	req      recorderapi.ReplayRequest
	ssrc     uint32
	segs     []recordingdb.Segment
	created  time.Time
	controls chan control
	done     chan struct{}
	cancel   context.CancelFunc

	mu       sync.Mutex
	state    string
	speed    float64
	position time.Time
	frames   int64
	err      string
	endAt    time.Time
	stopped  bool
}

// control is a control on its way to the replay's loop.
type control struct {
	recorderapi.ReplayControl
	reply chan error
}

func (rp *replay) view() recorderapi.Replay {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return recorderapi.Replay{
		ID: rp.id, ChannelID: rp.req.ChannelID, Start: rp.req.Start, End: rp.req.End, Dest: rp.req.Dest,
		SSRC: rp.req.SSRC, Subject: rp.req.Subject, State: rp.state, Speed: rp.speed, Position: rp.position,
		Frames: rp.frames, Error: rp.err, CreatedAt: rp.created,
	}
}

func (rp *replay) ended() bool {
	_, ok := rp.endedAt()
	return ok
}

func (rp *replay) endedAt() (time.Time, bool) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.endAt, !rp.endAt.IsZero()
}

func (rp *replay) set(f func(rp *replay)) {
	rp.mu.Lock()
	f(rp)
	rp.mu.Unlock()
}

// player is the state of one replay's loop: where it reads, its pacing
// and its output clock.
type player struct {
	r  *Replayer
	rp *replay

	src    *source
	speed  float64
	paused bool
	// keepalive sends an empty pack at the last DTS, while paused.
	keepalive func() error
	// The pacing: the unit of recorded time anchorWall is due at
	// anchorReal; anchored is false until the next unit sets them.
	anchored   bool
	anchorWall time.Time
	anchorReal time.Time
	lastWall   time.Time
	// The output clock (90 kHz): a unit's DTS is outBase plus its
	// recorded time after baseWall; rebase restarts it after the last
	// DTS sent (at a hole, a seek, the start).
	rebase   bool
	baseWall time.Time
	outBase  int64
	lastDTS  int64
}

// send connects to the receiver and sends the range until its end
// (io.EOF), a failure or ctx's end.
func (r *Replayer) send(ctx context.Context, rp *replay) error {
	d := net.Dialer{Timeout: r.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", rp.req.Dest)
	if err != nil {
		return fmt.Errorf("connect to the receiver %s: %w", rp.req.Dest, err)
	}
	defer conn.Close()
	// A write blocked on a stalled receiver ends with the replay.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	bw := bufio.NewWriterSize(conn, 64<<10)
	w := rtptcp.NewWriter(bw)
	p := &player{r: r, rp: rp, speed: rp.req.Speed, rebase: true, lastDTS: -1}
	p.src = newSource(r.Store, rp.segs, rp.req.Start)
	defer func() { p.src.close() }()
	mux := &ps.Muxer{}
	pk := &ps.Packetizer{SSRC: rp.ssrc}
	var buf, pkt []byte
	out := func(pt *rtp.Packet) error {
		n := pt.MarshalSize()
		if cap(pkt) < n {
			pkt = make([]byte, n)
		}
		pkt = pkt[:n]
		if _, err := pt.MarshalTo(pkt); err != nil {
			return err
		}
		return w.WritePacket(pkt)
	}
	p.keepalive = func() error {
		buf = ps.AppendEmptyPack(buf[:0], max(p.lastDTS, 0))
		_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := pk.Visit(buf, uint32(max(p.lastDTS, 0)), out); err != nil {
			return fmt.Errorf("send to the receiver: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("send to the receiver: %w", err)
		}
		return nil
	}
	for {
		u, early, err := p.src.read(ctx)
		if err != nil {
			return err
		}
		if !u.wall.Before(rp.req.End) {
			return io.EOF
		}
		if !early {
			skip, err := p.wait(ctx, u)
			if err != nil {
				return err
			}
			if skip {
				continue // a seek: the next unit is the new source's
			}
		}
		dts := p.dts(u)
		mux.VideoCodec = u.codec
		if buf, err = mux.AppendVideo(buf[:0], dts+u.ptsOff, dts, u.key, u.au); err != nil {
			continue
		}
		_ = conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := pk.Visit(buf, uint32(dts+u.ptsOff), out); err != nil {
			return fmt.Errorf("send to the receiver: %w", err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("send to the receiver: %w", err)
		}
		rp.set(func(rp *replay) {
			rp.position = u.wall
			rp.frames++
		})
	}
}

// dts is u's output DTS: the output clock runs on with recorded time and
// restarts just after the last DTS sent where the recorded time jumps.
func (p *player) dts(u unit) int64 {
	if p.rebase || u.wall.Before(p.lastWall) || u.wall.Sub(p.lastWall) > maxHole {
		p.baseWall, p.rebase = u.wall, false
		p.outBase = p.lastDTS + 3600 // a frame at 25 fps after the last
		if p.lastDTS < 0 {
			p.outBase = 90000
		}
	}
	p.lastWall = u.wall
	d := u.wall.Sub(p.baseWall)
	p.lastDTS = p.outBase + segment.DurationTicks(d, 90000)
	return p.lastDTS
}

// wait waits until u is due at the replay's speed, taking controls
// meanwhile; skip says a seek replaced the source (u is dropped).
func (p *player) wait(ctx context.Context, u unit) (skip bool, err error) {
	if !p.anchored || u.wall.Before(p.lastWall) || u.wall.Sub(p.lastWall) > maxHole {
		p.anchorWall, p.anchorReal, p.anchored = u.wall, time.Now(), true
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due := p.anchorReal.Add(time.Duration(float64(u.wall.Sub(p.anchorWall)) / p.speed))
		wait := time.Until(due)
		if !p.paused && wait <= 0 {
			return false, nil
		}
		if p.paused {
			wait = pausedKeepalive
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
			if !p.paused {
				return false, nil
			}
			if err := p.keepalive(); err != nil {
				return false, err
			}
		case c := <-p.rp.controls:
			skip, err := p.apply(c.ReplayControl, u)
			c.reply <- err
			if skip {
				return true, nil
			}
		case <-ctx.Done():
			return false, ctx.Err()
		}
		timer.Stop()
	}
}

// apply takes one control while u waits to be sent.
func (p *player) apply(c recorderapi.ReplayControl, u unit) (skip bool, err error) {
	reanchor := func() { p.anchorWall, p.anchorReal = u.wall, time.Now() }
	switch c.Action {
	case recorderapi.ControlPause:
		p.paused = true
		p.rp.set(func(rp *replay) { rp.state = recorderapi.ReplayPaused })
	case recorderapi.ControlResume:
		if p.paused {
			p.paused = false
			reanchor()
		}
		p.rp.set(func(rp *replay) { rp.state = recorderapi.ReplayRunning })
	case recorderapi.ControlScale:
		p.speed = c.Scale
		reanchor()
		p.rp.set(func(rp *replay) { rp.speed = c.Scale })
	case recorderapi.ControlSeek:
		to := p.rp.req.Start.Add(time.Duration(c.OffsetMS) * time.Millisecond)
		if !to.Before(p.rp.req.End) {
			return false, svcapi.BadRequest("offset_ms %d is past the range's end", c.OffsetMS)
		}
		p.src.close()
		p.src = newSource(p.r.Store, p.rp.segs, to)
		// A seek plays from there, as a device's PLAY with a Range does.
		p.paused, p.anchored, p.rebase = false, false, true
		p.rp.set(func(rp *replay) {
			rp.state = recorderapi.ReplayRunning
			rp.position = to
		})
		return true, nil
	}
	return false, nil
}
