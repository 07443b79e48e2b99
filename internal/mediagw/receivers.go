package mediagw

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// discardPort is the port put in an offer whose media we will dial for
// (RFC 4145: the active side's port is irrelevant, 9 by convention).
const discardPort = 9

// maxAllowIPs bounds a receiver's allowed set: a device has one or two.
const maxAllowIPs = 16

func ingestStats(s ingest.Stats) *mediaapi.IngestStats {
	out := &mediaapi.IngestStats{
		SSRC: s.SSRC, Packets: s.Packets, Bytes: s.Bytes, Lost: s.Lost, Duplicates: s.Duplicates, Late: s.Late,
		Reordered: s.Reordered, Restarts: s.Restarts, ForeignSSRC: s.ForeignSSRC, ForeignSource: s.ForeignSource,
		HeldConnections: s.HeldConnections, SourceMoves: s.Relatches, Invalid: s.Invalid,
		Skipped: s.SkippedBytes, DemuxErrors: s.DemuxErrors, Frames: s.Frames, Keyframes: s.Keyframes,
	}
	if s.VideoCodec != ps.CodecUnknown {
		out.VideoCodec = s.VideoCodec.String()
	}
	if s.AudioCodec != ps.CodecUnknown {
		out.AudioCodec = s.AudioCodec.String()
	}
	if !s.LastPacket.IsZero() {
		t := s.LastPacket
		out.LastPacket = &t
	}
	if s.Source.IsValid() {
		out.Source = s.Source.String()
	}
	return out
}

// receiver is one open ingest: an ingest.Receiver, its transport and the
// hub stream it publishes.
type receiver struct {
	id        string
	path      string
	transport string
	shared    bool
	ip        string
	port      int
	created   time.Time

	rcv    *ingest.Receiver
	stream *hub.Stream
	// closer stops the transport; nil until a tcp-active receiver connects.
	closer func()
	remote string
	// ssrc is the SSRC the receiver accepts (0: the first seen).
	ssrc uint32
	// byAPI is set when the receiver was closed through the API, so that
	// sipserver, which asked for it, is not told again.
	byAPI bool
	// ended is closed when the receiver has ended and its stream was ended
	// (a live one closed; a download's one left to its reader).
	ended chan struct{}
	// held: the stream is a download's, published held (hub.PublishHold),
	// and its DownloadHoldBytes count against the gateway's
	// DownloadHoldTotal until it closes. Set by Open, never changed.
	held bool
	// endReason says why the receiver ended (reasonOf), for the path's
	// stream.closed event; set by its path.
	endReason string
}

func (r *receiver) info() mediaapi.Receiver {
	return mediaapi.Receiver{
		ID: r.id, Path: r.path, SSRC: formatSSRC(r.ssrc), Transport: r.transport, Shared: r.shared,
		IP: r.ip, Port: r.port, Remote: r.remote, Created: r.created, Ingest: ingestStats(r.rcv.Stats()),
		AllowIPs: formatIPs(r.rcv.Allowed()),
	}
}

// parseAllowIPs parses the allowed source addresses of a receiver.
func parseAllowIPs(list []string) ([]netip.Addr, error) {
	if len(list) > maxAllowIPs {
		return nil, fmt.Errorf("%w: allow_ips has %d entries, at most %d", ErrInvalid, len(list), maxAllowIPs)
	}
	out := make([]netip.Addr, 0, len(list))
	for _, s := range list {
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return nil, fmt.Errorf("%w: allow_ips: %q is not an IP address", ErrInvalid, s)
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}

func formatIPs(ips []netip.Addr) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// streamSink writes the receiver's frames to its hub stream.
type streamSink struct{ stream *hub.Stream }

func (s streamSink) WriteFrame(f ps.Frame) {
	// The only error is a closed stream, which ends the receiver anyway.
	_ = s.stream.WriteUnit(hub.UnitFromFrame(&f))
}

// parseSSRC parses a decimal SSRC ("0100000001"); empty means 0.
func parseSSRC(s string) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: ssrc %q is not a decimal number below 2^32", ErrInvalid, s)
	}
	return uint32(n), nil
}

// formatSSRC writes an SSRC the GB/T 28181 way: ten decimal digits.
func formatSSRC(n uint32) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%010d", n)
}

func newReceiverID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// reasonOf names why a receiver ended, for events and sipserver.
func reasonOf(err error) string {
	switch {
	case errors.Is(err, ingest.ErrTimeout):
		return "rtp_timeout"
	case errors.Is(err, ingest.ErrDisconnected):
		return "disconnected"
	case errors.Is(err, ingest.ErrClosed):
		return "closed"
	case errors.Is(err, ingest.ErrTransportClosed):
		return "shutdown"
	}
	return "error"
}

// dialAddress joins a device's ip and port for tcp-active.
func dialAddress(ip string, port int) (string, error) {
	if net.ParseIP(ip) == nil || port <= 0 || port > 65535 {
		return "", fmt.Errorf("%w: connect needs the device's ip and port, got %q:%d", ErrInvalid, ip, port)
	}
	return net.JoinHostPort(ip, strconv.Itoa(port)), nil
}
