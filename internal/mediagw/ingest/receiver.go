package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtpin"
)

// DefaultTimeout is the Receiver timeout used when Timeout is 0.
const DefaultTimeout = 10 * time.Second

// DefaultRelatchAfter is the Receiver's RelatchAfter used when it is 0.
const DefaultRelatchAfter = 2 * time.Second

// Sink receives the access units of a stream. WriteFrame is called
// synchronously from the goroutine feeding the Receiver, one frame at a
// time; f.Payload is valid only during the call. WriteFrame must not call
// Receiver.WritePacket or Receiver.Stats (Close, Done and Err are fine).
type Sink interface {
	WriteFrame(f ps.Frame)
}

// Stats are the counters of a Receiver.
type Stats struct {
	// SSRC is the accepted synchronisation source (0 until locked).
	SSRC uint32
	// Packets is the number of RTP packets of the stream received.
	Packets uint64
	// Bytes is their size, RTP headers included.
	Bytes uint64
	// Lost is the number of sequence numbers given up on.
	Lost uint64
	// Duplicates is the number of packets received twice.
	Duplicates uint64
	// Late is the number of packets that came after their gap was given up.
	Late uint64
	// Reordered is the number of packets that arrived after a later one and
	// were put back in order.
	Reordered uint64
	// Restarts is the number of sequence number restarts.
	Restarts uint64
	// ForeignSSRC is the number of packets of another SSRC, dropped.
	ForeignSSRC uint64
	// ForeignSource is the number of packets of the stream's SSRC (and of
	// TCP connections) from a source the receiver does not accept, dropped
	// before sequence tracking: they never count as lost or reordered.
	ForeignSource uint64
	// HeldConnections is the number of TCP connections from an IP not yet
	// allowed that a TCPPassive held, unread, until the first SetAllowIPs
	// decided on them (accepted, or closed and counted in ForeignSource).
	HeldConnections uint64
	// Source is the latched ip:port the stream is accepted from; invalid
	// until the first accepted packet (and for TCP transports).
	Source netip.AddrPort
	// Relatches is how many times the latched source moved (see
	// Receiver.RelatchAfter).
	Relatches uint64
	// Invalid is the number of datagrams that were not RTP, dropped.
	Invalid uint64
	// SkippedBytes is the number of bytes a TCP transport discarded while
	// resynchronising on garbage or truncated frames.
	SkippedBytes uint64
	// DemuxErrors is the number of PS errors (damaged data dropped).
	DemuxErrors uint64
	// Frames is the number of access units handed to the Sink.
	Frames uint64
	// Keyframes is how many of them were video keyframes.
	Keyframes uint64
	// LastPacket is when the last packet of the stream arrived.
	LastPacket time.Time
	// VideoCodec and AudioCodec are the codecs seen in the stream.
	VideoCodec ps.Codec
	AudioCodec ps.Codec
}

// Receiver is the receive pipeline of one stream. Set the exported fields,
// call Initialize, feed it with WritePacket (a transport does that) and
// Close it when done. It ends by itself on Timeout or when its transport
// fails; Done and Err tell when and why.
type Receiver struct {
	// Path names the stream in logs.
	Path string
	// SSRC is the synchronisation source to accept (the y= of the session);
	// 0 accepts the first SSRC seen and locks to it.
	SSRC uint32
	// Sink receives the frames.
	Sink Sink
	// Timeout ends the receiver with ErrTimeout when no packet of the stream
	// arrives for this long; 0 means DefaultTimeout.
	Timeout time.Duration
	// ReorderPackets bounds the reorder window in packets; 0 means
	// rtpin.DefaultMaxPackets.
	ReorderPackets int
	// ReorderDelay is how long a gap in the sequence is waited for; 0 means
	// rtpin.DefaultMaxDelay.
	ReorderDelay time.Duration
	// AllowIPs are the device's addresses (its registered signalling IP and
	// the c= IP of its SDP answer): UDP packets of the stream and TCP
	// connections are accepted only from them. Empty accepts any address
	// (callers that do not say). SetAllowIPs replaces the set later.
	AllowIPs []netip.Addr
	// RelatchAfter is how long the latched UDP source must have been
	// silent before another source may take its place; 0 means
	// DefaultRelatchAfter. See WritePacketFrom.
	RelatchAfter time.Duration
	// Log receives warnings; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock of the timeout, the source latch and the rate limit
	// of warnings; nil means time.Now. Tests inject theirs.
	Now func() time.Time

	// mu serialises the pipeline: transports and timers feed it.
	mu        sync.Mutex
	filter    rtpin.SSRCFilter
	reorder   rtpin.ReorderBuffer
	demux     ps.Demuxer
	free      []*rtp.Packet
	maxSeq    uint16
	seqInit   bool
	pollArmed bool
	stats     Stats
	warns     warnLimiter
	// foreignWarns limits the foreign-source warnings on their own, so that
	// an attack cannot hide the other warnings or the other way round.
	foreignWarns warnLimiter
	allow        []netip.Addr
	// allowGiven: AllowIPs was not empty at Initialize. allowSet is closed
	// by the first SetAllowIPs (allowReplaced): until then the set is the
	// caller's first guess (the device's signalling IP), which the SDP
	// answer may widen.
	allowGiven    bool
	allowReplaced bool
	allowSet      chan struct{}
	// source is the latched ip:port and sourceSeen when it last sent an
	// accepted packet.
	source     netip.AddrPort
	sourceSeen time.Time

	pollTimer    *time.Timer
	timeoutTimer *time.Timer

	closed   atomic.Bool
	endOnce  sync.Once
	ctx      context.Context // cancelled when the receiver ends
	cancel   context.CancelFunc
	err      error
	timeout  time.Duration
	log      *slog.Logger
	lastSeen time.Time
	// paused suspends the timeout (SetPaused).
	paused bool
}

// Initialize checks the configuration and starts the timers.
func (r *Receiver) Initialize() error {
	if r.Sink == nil {
		return fmt.Errorf("initialize receiver %s: %w", r.Path, ErrNoSink)
	}
	r.log = r.Log
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = r.log.With("path", r.Path)
	if r.Now == nil {
		r.Now = time.Now
	}
	r.timeout = r.Timeout
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	r.filter = rtpin.SSRCFilter{SSRC: r.SSRC, AcceptAny: r.SSRC == 0}
	r.allow = normalizeIPs(r.AllowIPs)
	r.allowGiven = len(r.allow) > 0
	r.allowSet = make(chan struct{})
	if r.RelatchAfter <= 0 {
		r.RelatchAfter = DefaultRelatchAfter
	}
	r.reorder = rtpin.ReorderBuffer{MaxPackets: r.ReorderPackets, MaxDelay: r.ReorderDelay, Now: r.Now}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	// The timers read their fields under mu.
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastSeen = r.Now()
	r.pollTimer = time.AfterFunc(time.Hour, r.poll)
	r.pollTimer.Stop()
	r.timeoutTimer = time.AfterFunc(r.timeout, r.checkTimeout)
	return nil
}

// SetSSRC makes the receiver accept ssrc from now on (0: the next SSRC
// seen): the device answered the session with another SSRC than offered.
func (r *Receiver) SetSSRC(ssrc uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.SSRC = ssrc
	r.filter.Set(ssrc)
}

// SetAllowIPs replaces the addresses the stream is accepted from (empty:
// any). A latched source whose IP is no longer allowed is dropped, so the
// next packet from an allowed address latches again.
func (r *Receiver) SetAllowIPs(ips []netip.Addr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.allow = normalizeIPs(ips)
	if !r.allowReplaced {
		r.allowReplaced = true
		close(r.allowSet) // a held TCP connection is decided now
	}
	if r.source.IsValid() && !r.allowedLocked(r.source.Addr()) {
		r.log.Info("latched media source no longer allowed", "source", r.source.String(), "allow_ips", r.allow)
		r.source = netip.AddrPort{}
	}
}

// Allowed returns the addresses the stream is accepted from (empty: any).
func (r *Receiver) Allowed() []netip.Addr {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.allow)
}

// connVerdict is what becomes of a new TCP connection (admitConn).
type connVerdict int

const (
	// connRefused: close it; it was counted as a foreign source.
	connRefused connVerdict = iota
	// connAccepted: its IP is allowed, it feeds the stream.
	connAccepted
	// connHeld: hold it unread until the channel admitConn returned is
	// closed, then ask admitConn again (without a hold).
	connHeld
)

// admitConn decides on a new TCP connection from remote in one step, so
// that an update of the allowed set cannot fall between the checks. A
// connection from an IP not allowed now may be held (mayHold: the caller
// holds no other) while the set given at Initialize is still in force:
// sipserver adds the c= IP of the SDP answer after it, and a device whose
// media IP is not its signalling IP may connect before that. The channel
// returned with connHeld is closed by the first SetAllowIPs.
func (r *Receiver) admitConn(remote netip.AddrPort, mayHold bool) (connVerdict, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.allowedLocked(remote.Addr()):
		return connAccepted, nil
	case mayHold && r.allowGiven && !r.allowReplaced:
		r.stats.HeldConnections++
		r.log.Info("holding a media connection from an IP not allowed yet, until the allowed set is updated",
			"remote", remote.String(), "allow_ips", r.allow)
		return connHeld, r.allowSet
	}
	why := "not an allowed IP"
	if !mayHold && r.allowGiven && !r.allowReplaced {
		why = "another connection from an IP not allowed yet is already held"
	}
	r.refuseConnLocked(remote, why)
	return connRefused, nil
}

// refuseConn counts a refused TCP connection as a foreign source and logs
// it (rate limited). The caller closes it.
func (r *Receiver) refuseConn(remote netip.AddrPort, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuseConnLocked(remote, why)
}

func (r *Receiver) refuseConnLocked(remote netip.AddrPort, why string) {
	r.stats.ForeignSource++
	if r.foreignWarns.due(r.Now()) {
		r.foreignWarns.warn(r.log, "refusing a media connection from a foreign source", "remote", remote.String(),
			"why", why, "allow_ips", r.allow, "foreign_source", r.stats.ForeignSource)
	}
}

// allowedLocked reports whether ip is in the allowed set (any ip when the
// set is empty).
func (r *Receiver) allowedLocked(ip netip.Addr) bool {
	return len(r.allow) == 0 || slices.Contains(r.allow, ip.Unmap())
}

// acceptSourceLocked decides whether a packet of the stream's SSRC from
// from is the stream's, latching the first accepted source. A latched
// source is replaced only by one that may send (an allowed IP, or, when no
// set is known, the latched IP with another port: a NAT rebinding) and only
// after the latched one was silent for RelatchAfter, so that a second
// sender cannot take the stream over while the device sends, nor make it
// flap between two sources.
func (r *Receiver) acceptSourceLocked(from netip.AddrPort, now time.Time) bool {
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	switch {
	case !r.allowedLocked(from.Addr()):
		return false
	case !r.source.IsValid():
		r.source = from
	case from == r.source:
	case len(r.allow) == 0 && from.Addr() != r.source.Addr():
		return false
	case now.Sub(r.sourceSeen) < r.RelatchAfter:
		return false
	default:
		r.log.Info("media source moved", "from", r.source.String(), "to", from.String(),
			"silent", now.Sub(r.sourceSeen).Round(time.Millisecond))
		r.source = from
		r.stats.Relatches++
	}
	r.sourceSeen = now
	return true
}

// normalizeIPs returns ips unmapped (IPv4-mapped IPv6 as IPv4), valid
// ones only, without duplicates.
func normalizeIPs(ips []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if ip = ip.Unmap(); ip.IsValid() && !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	return out
}

// reconnected notes that a TCP transport got a new connection: what was
// buffered belongs to the old one.
func (r *Receiver) reconnected() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.demux.Loss()
}

// Close ends the receiver with ErrClosed. It is safe to call more than once
// and from the Sink.
func (r *Receiver) Close() {
	r.end(ErrClosed)
}

// Done is closed when the receiver has ended.
func (r *Receiver) Done() <-chan struct{} {
	return r.ctx.Done()
}

// Err tells why the receiver ended, nil while it runs.
func (r *Receiver) Err() error {
	select {
	case <-r.ctx.Done():
		return r.err
	default:
		return nil
	}
}

// Stats returns a snapshot of the counters.
func (r *Receiver) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.SSRC, _ = r.filter.Locked()
	s.ForeignSSRC = r.filter.Foreign()
	s.Source = r.source
	rs := r.reorder.Stats()
	s.Lost, s.Duplicates, s.Late, s.Restarts = rs.Lost, rs.Duplicates, rs.Late, rs.Resets
	return s
}

// end stops the receiver once; the first reason wins. It does not take mu
// so that the Sink may close the receiver.
func (r *Receiver) end(err error) {
	r.endOnce.Do(func() {
		r.closed.Store(true)
		r.err = err
		r.cancel()
		// The timers find the receiver closed and stop by themselves.
	})
}

// WritePacket feeds one raw RTP packet from a transport whose source was
// already checked (a TCP connection that admitConn accepted). raw is
// copied; it may be reused after the call. Anything that is not an RTP
// packet of the stream is counted and dropped.
func (r *Receiver) WritePacket(raw []byte) {
	r.writePacket(raw, netip.AddrPort{})
}

// WritePacketFrom feeds one UDP datagram received from from. A packet of
// the stream's SSRC is accepted only from an allowed IP (AllowIPs; any
// when empty); the first accepted packet latches its exact ip:port and
// later ones must come from it (see acceptSourceLocked for when the
// latched source may move). Others are counted as ForeignSource and
// dropped before they can touch sequence tracking or the loss count.
func (r *Receiver) WritePacketFrom(raw []byte, from netip.AddrPort) {
	if !from.IsValid() {
		// An unknown sender cannot be told from a spoofer.
		from = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
	}
	r.writePacket(raw, from)
}

func (r *Receiver) writePacket(raw []byte, from netip.AddrPort) {
	if r.closed.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()

	// Every drop below counts and returns: its warning is built only when
	// the limiter lets it through, never per packet of a flood.
	now := r.Now()
	pkt := r.packet()
	if err := unmarshalInto(pkt, raw); err != nil {
		r.release(pkt)
		r.stats.Invalid++
		if r.warns.due(now) {
			r.warns.warn(r.log, "dropping invalid RTP packets", "error", err, "size", len(raw))
		}
		return
	}
	// The SSRC is checked before the source (another SSRC stays a foreign
	// SSRC), but a receiver still waiting for its first SSRC must not lock
	// onto one sent from a foreign source: hence the peek.
	if want, known := r.filter.Locked(); known && pkt.SSRC != want {
		r.filter.Accept(pkt.SSRC) // counts it
		ssrc := pkt.SSRC
		r.release(pkt)
		if r.warns.due(now) {
			r.warns.warn(r.log, "dropping packets of a foreign SSRC", "ssrc", ssrc, "want", want)
		}
		return
	}
	if from.IsValid() && !r.acceptSourceLocked(from, now) {
		ssrc := pkt.SSRC
		r.release(pkt)
		r.stats.ForeignSource++
		if r.foreignWarns.due(now) {
			r.foreignWarns.warn(r.log, "dropping media from a foreign source", "remote", from.String(),
				"source", r.source.String(), "allow_ips", r.allow, "ssrc", ssrc, "foreign_source", r.stats.ForeignSource)
		}
		return
	}
	// The peek passed, so Accept takes the packet; a receiver still waiting
	// for its first SSRC locks onto it only now, from an accepted source.
	r.filter.Accept(pkt.SSRC)
	r.stats.Packets++
	r.stats.Bytes += uint64(len(raw))
	r.lastSeen = now
	r.stats.LastPacket = r.lastSeen

	behind := r.seqInit && int16(pkt.SequenceNumber-r.maxSeq) < 0
	if !r.seqInit || !behind {
		r.maxSeq = pkt.SequenceNumber
		r.seqInit = true
	}
	before := r.reorder.Stats()
	outs, _ := r.reorder.Push(pkt) // the only error is a nil packet
	after := r.reorder.Stats()
	dropped := after.Duplicates != before.Duplicates || after.Late != before.Late
	if dropped {
		// The buffer keeps only the packets it will output.
		r.release(pkt)
	} else if behind && after.Resets == before.Resets {
		r.stats.Reordered++
	}
	r.deliver(outs)
	r.armPoll()
}

// poll releases the packets whose gap has waited long enough.
func (r *Receiver) poll() {
	if r.closed.Load() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pollArmed = false
	r.deliver(r.reorder.Poll())
	r.armPoll()
}

func (r *Receiver) armPoll() {
	if r.pollArmed || r.reorder.Len() == 0 {
		return
	}
	r.pollArmed = true
	delay := r.ReorderDelay
	if delay <= 0 {
		delay = rtpin.DefaultMaxDelay
	}
	r.pollTimer.Reset(delay)
}

// SetPaused suspends (on) or restarts the timeout: a device whose
// playback is paused sends nothing, and is not gone for it.
func (r *Receiver) SetPaused(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.paused = on
	if !on {
		r.lastSeen = r.Now() // a full timeout from the resume
	}
}

// checkTimeout runs from a timer instead of resetting one per packet.
func (r *Receiver) checkTimeout() {
	if r.closed.Load() {
		return
	}
	r.mu.Lock()
	idle := r.Now().Sub(r.lastSeen)
	if r.paused {
		r.timeoutTimer.Reset(r.timeout)
		r.mu.Unlock()
		return
	}
	if idle < r.timeout {
		r.timeoutTimer.Reset(r.timeout - idle)
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	r.log.Info("stream timed out", "idle", idle)
	r.end(fmt.Errorf("receiver %s: %w for %s", r.Path, ErrTimeout, idle.Round(time.Millisecond)))
}

// deliver demuxes packets released in order and returns them to the pool.
func (r *Receiver) deliver(outs []rtpin.Output) {
	for _, o := range outs {
		if o.Discontinuity() {
			r.demux.Loss()
		}
		p := o.Packet
		frames, err := r.demux.WriteRTP(p.Payload, p.Timestamp, p.Marker)
		r.release(p)
		if err != nil {
			r.stats.DemuxErrors++
			if r.warns.due(r.Now()) {
				r.warns.warn(r.log, "dropping damaged PS data", "error", err)
			}
		}
		for i := range frames {
			r.frame(&frames[i])
		}
	}
}

func (r *Receiver) frame(f *ps.Frame) {
	r.stats.Frames++
	switch {
	case f.Codec.IsVideo():
		r.stats.VideoCodec = f.Codec
		if f.Keyframe {
			r.stats.Keyframes++
		}
	case f.Codec.IsAudio():
		r.stats.AudioCodec = f.Codec
	}
	r.Sink.WriteFrame(*f)
}

// addSkipped counts bytes a TCP transport discarded.
func (r *Receiver) addSkipped(n uint64, remote string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.SkippedBytes += n
	if r.warns.due(r.Now()) {
		r.warns.warn(r.log, "skipping garbage in TCP stream", "bytes", n, "remote", remote)
	}
}

// packet returns a pooled packet; the pool holds at most the reorder
// window plus one, so steady-state reception does not allocate.
func (r *Receiver) packet() *rtp.Packet {
	if n := len(r.free); n > 0 {
		p := r.free[n-1]
		r.free = r.free[:n-1]
		return p
	}
	return &rtp.Packet{}
}

func (r *Receiver) release(p *rtp.Packet) {
	r.free = append(r.free, p)
}

// unmarshalInto parses raw into p and copies the payload into p's own
// buffer, kept from its previous use.
func unmarshalInto(p *rtp.Packet, raw []byte) error {
	if len(raw) < 12 || raw[0]>>6 != 2 {
		return ErrNotRTP
	}
	buf := p.Payload[:0]
	if err := p.Unmarshal(raw); err != nil {
		p.Payload = buf
		return fmt.Errorf("%w: %w", ErrNotRTP, err)
	}
	p.Payload = append(buf, p.Payload...)
	return nil
}
