package rtsp_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/rtsp"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// udpPair returns a free even UDP port and the next one on 127.0.0.1, as
// the RTP/RTCP server addresses.
func udpPair(t testing.TB) (rtpAddr, rtcpAddr string) {
	t.Helper()
	for range 100 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 || port >= 65535 {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

// startServer starts an RTSP server on 127.0.0.1 with TCP and, if udp,
// the UDP transport.
func startServer(t testing.TB, src access.Source, udp bool) *rtsp.Server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := &rtsp.Server{Source: src, Address: "127.0.0.1:0", Log: mediatest.Log(t)}
		if udp {
			s.UDPRTPAddress, s.UDPRTCPAddress = udpPair(t)
		}
		err := s.Initialize()
		if err == nil {
			t.Cleanup(s.Close)
			return s
		}
		// The UDP pair was free when picked; another test binary may
		// have taken it since.
		if !testsupport.AddrInUse(err) || attempt == testsupport.PortAttempts {
			t.Fatal(err)
		}
		t.Logf("ports taken in between, again (%d): %v", attempt, err)
	}
}

// url returns the RTSP URL of path with a token.
func url(s *rtsp.Server, path string) string {
	return fmt.Sprintf("rtsp://%s/%s?token=x", s.Addr().String(), path)
}

// denySource refuses every request with err.
type denySource struct{ err error }

func (d denySource) Authorize(access.Request) error { return d.err }

func (d denySource) Read(context.Context, access.Request) (*hub.Reader, error) { return nil, d.err }

func (d denySource) Opened(context.Context, access.Request) error { return d.err }

// recordingSource wraps a Source and keeps the requests it saw.
type recordingSource struct {
	access.Source
	reqs chan access.Request
}

func (r *recordingSource) Read(ctx context.Context, req access.Request) (*hub.Reader, error) {
	select {
	case r.reqs <- req:
	default:
	}
	return r.Source.Read(ctx, req)
}
