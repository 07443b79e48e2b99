// Package access is the narrow interface between mediagw's outputs (WHEP,
// LL-HLS, RTSP, the unit feed) and the gateway that owns the streams: an
// output asks for a reader on a path with the viewer's play token, and the
// gateway checks the token, starts the stream on demand and picks the H.264
// transcode for viewers that cannot decode H.265.
package access

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Protocols of Request.Protocol.
const (
	ProtocolWHEP = "whep"
	ProtocolHLS  = "hls"
	ProtocolRTSP = "rtsp"
	// ProtocolFeed is the unit feed the recorder reads (package feed).
	ProtocolFeed = "feed"
)

// Sentinel errors a Source returns; outputs map them to their protocol's
// status codes (HTTP 401/404/503, RTSP 401/404/503).
var (
	// ErrUnauthorized: the play token is missing, invalid, expired or not
	// valid for the path.
	ErrUnauthorized = errors.New("access: unauthorized")
	// ErrNotFound: no stream at the path and none could be started.
	ErrNotFound = errors.New("access: stream not found")
	// ErrUnavailable: the stream exists or was requested but did not become
	// ready in time, or the service is shutting down.
	ErrUnavailable = errors.New("access: stream unavailable")
)

// Request describes one viewer asking for a path.
type Request struct {
	// Path is the stream path, e.g. live/34020000001320000001.
	Path string
	// Token is the signed play token the viewer presented (may be empty).
	Token string
	// Protocol is one of the Protocol constants.
	Protocol string
	// Remote is the viewer's address, for logs, reader names and the audit.
	Remote string
	// H264Only is set by outputs whose viewers cannot decode H.265 (browsers):
	// the reader is then attached to the shared H.264 transcode of an H.265
	// stream.
	H264Only bool
}

// Source gives outputs access to streams. It is implemented by the gateway.
type Source interface {
	// Authorize checks req.Token for req.Path without starting anything; an
	// output that serves several requests per viewer (HLS playlist and
	// segments) calls it for each one.
	Authorize(req Request) error
	// Read authorizes req and returns a reader on the stream of req.Path,
	// starting the stream on demand and waiting, bounded by ctx and the
	// gateway's own limit, until it is ready (hub.Stream.Ready). The caller
	// closes the reader. Outputs that share one reader between viewers
	// (RTSP, HLS) call it once per path, so Read is not the audit point.
	Read(ctx context.Context, req Request) (*hub.Reader, error)
	// Opened records that req's viewer is about to receive media: the audit
	// row of a media open (WHEP session, HLS session start, RTSP PLAY). An
	// error means the access must be refused (the row could not be stored
	// and the audit fails closed, or the token is no longer valid); outputs
	// answer it like a Read error. Each output calls it once per viewer
	// session, before the first media is sent.
	Opened(ctx context.Context, req Request) error
}

// HubSource is the simplest Source: streams already published in a hub, no
// token check, no on-demand start, no transcode (H264Only readers of an
// H.265 stream get ErrUnavailable). Tests and tools use it.
type HubSource struct {
	// Hub holds the streams.
	Hub *hub.Hub
	// Wait bounds how long Read waits for a published stream to become
	// ready; 0 means 5 s.
	Wait time.Duration
}

// Authorize accepts every request.
func (s *HubSource) Authorize(Request) error { return nil }

// Opened audits nothing.
func (s *HubSource) Opened(context.Context, Request) error { return nil }

// Read returns a reader on the published stream of req.Path.
func (s *HubSource) Read(ctx context.Context, req Request) (*hub.Reader, error) {
	st, ok := s.Hub.Stream(req.Path)
	if !ok {
		return nil, fmt.Errorf("read %s: %w", req.Path, ErrNotFound)
	}
	wait := s.Wait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := WaitReady(ctx, st); err != nil {
		return nil, fmt.Errorf("read %s: %w", req.Path, err)
	}
	if req.H264Only && VideoCodec(st.Tracks()) == ps.CodecH265 {
		return nil, fmt.Errorf("read %s: H.265 needs a transcode: %w", req.Path, ErrUnavailable)
	}
	r, err := st.AddReader(ReaderName(req))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w: %w", req.Path, ErrUnavailable, err)
	}
	return r, nil
}

// WaitReady waits until st is ready, closed or ctx is done.
func WaitReady(ctx context.Context, st *hub.Stream) error {
	select {
	case <-st.Ready():
		return nil
	case <-st.Done():
		return fmt.Errorf("stream closed: %w", ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("not ready: %w: %w", ErrUnavailable, ctx.Err())
	}
}

// VideoCodec returns the first video codec of tracks, CodecUnknown if none.
func VideoCodec(tracks []ps.Codec) ps.Codec {
	for _, c := range tracks {
		if c.IsVideo() {
			return c
		}
	}
	return ps.CodecUnknown
}

// ReaderName names the hub reader of req: protocol and remote address.
func ReaderName(req Request) string {
	if req.Remote == "" {
		return req.Protocol
	}
	return req.Protocol + " " + req.Remote
}

// Viewer is one viewer session of an output (a WHEP session, an RTSP
// session, an HLS viewer session), named by the play token it was admitted
// with, so that the viewers of a revoked token can be found and ended
// (revocation.Watch).
type Viewer struct {
	// Token is the viewer's play token.
	Token string
	// End ends the session; safe to call more than once and after the
	// session ended by itself.
	End func()
}
