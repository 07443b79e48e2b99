package mediatest

import (
	"sync/atomic"
	"testing"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// RTSPViewer is an RTSP client playing a URL over TCP, as a viewer would.
type RTSPViewer struct {
	// Ended receives the client's end (nil never: the server closed it, or
	// the test did) once.
	Ended <-chan error

	c       *gortsplib.Client
	packets atomic.Uint64
}

// Packets returns the RTP packets received so far.
func (v *RTSPViewer) Packets() uint64 { return v.packets.Load() }

// DescribeRTSP sends one DESCRIBE of rawURL and returns its error: nil, or
// a liberrors.ErrClientBadStatusCode carrying the server's refusal.
func DescribeRTSP(t testing.TB, rawURL string) error {
	t.Helper()
	u, err := base.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _, err = c.Describe(u)
	return err
}

// WatchRTSP plays rawURL (DESCRIBE, SETUP of every media, PLAY) until the
// test ends or the server ends the session; it fails the test when the
// server refuses.
func WatchRTSP(t testing.TB, rawURL string) *RTSPViewer {
	t.Helper()
	u, err := base.ParseURL(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	v := &RTSPViewer{c: &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}}
	if err := v.c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.c.Close)
	desc, _, err := v.c.Describe(u)
	if err != nil {
		t.Fatalf("describe %s: %v", rawURL, err)
	}
	if err := v.c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		t.Fatal(err)
	}
	v.c.OnPacketRTPAny(func(*description.Media, format.Format, *rtp.Packet) { v.packets.Add(1) })
	if _, err := v.c.Play(nil); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- v.c.Wait() }()
	v.Ended = ended
	return v
}
