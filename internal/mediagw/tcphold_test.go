package mediagw

import (
	"encoding/binary"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// TestTCPPassiveMediaIP is the camera whose media IP is not its signalling
// IP, over tcp-passive, through the control API: sipserver opens the
// receiver with the signalling IP, the device connects from its media IP
// (on the 200, before sipserver's PATCH adds the c= IP of its answer) and
// sends at once. Its connection is held, and the PATCH lets it in with
// nothing lost. rtp.connect_timeout (the hold) and rtp.timeout outlast the
// test, so the PATCH decides however slow the machine is.
func TestTCPPassiveMediaIP(t *testing.T) {
	g := startGW(t, func(c *config.Mediagw) {
		c.RTP.ConnectTimeout = config.Duration(time.Hour)
		c.RTP.Timeout = config.Duration(time.Hour)
	})
	const ssrc = 100000001
	var ri mediaapi.Receiver
	if code := g.call("POST", "/internal/v1/receivers", mediaapi.OpenRequest{
		Path: "live/media-ip", SSRC: strconv.Itoa(ssrc), Transport: mediaapi.TransportTCPPassive, AllowIPs: []string{"127.0.0.3"},
	}, &ri); code != 201 {
		t.Fatalf("open = %d", code)
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	c, err := d.Dial("tcp", net.JoinHostPort(ri.IP, strconv.Itoa(ri.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitReceiver(t, g, ri.ID, "connection held", func(in *mediaapi.IngestStats) bool { return in.HeldConnections == 1 })

	// The device sends before the PATCH: a few small packets, which the
	// socket buffers keep while nothing reads them.
	const n = 20
	w := rtptcp.NewWriter(c)
	pkt := make([]byte, 12+188)
	pkt[0], pkt[1] = 0x80, 96
	binary.BigEndian.PutUint32(pkt[8:], ssrc)
	for i := range n {
		binary.BigEndian.PutUint16(pkt[2:], uint16(i))
		if err := w.WritePacket(pkt); err != nil {
			t.Fatal(err)
		}
	}
	if code := g.call("PATCH", "/internal/v1/receivers/"+ri.ID, map[string]any{"allow_ips": []string{"127.0.0.3", "127.0.0.2"}}, nil); code != 200 {
		t.Fatalf("PATCH = %d", code)
	}
	in := waitReceiver(t, g, ri.ID, "held connection's packets", func(in *mediaapi.IngestStats) bool { return in.Packets == n })
	if in.ForeignSource != 0 || in.Lost != 0 {
		t.Fatalf("ingest %+v", *in)
	}
}

// waitReceiver polls a receiver's ingest counters until ok. A device's
// connection and packets reach the receiver on loopback; the bound is the
// gateway's own for a stream to come up, reached only on failure.
func waitReceiver(t *testing.T, g *testGW, id, what string, ok func(*mediaapi.IngestStats) bool) *mediaapi.IngestStats {
	t.Helper()
	var ri mediaapi.Receiver
	testsupport.Eventually(t, g.cfg.OnDemand.Wait.Std(), what, func() bool {
		if code := g.call("GET", "/internal/v1/receivers/"+id, nil, &ri); code != 200 || ri.Ingest == nil {
			t.Fatalf("GET receiver = %d", code)
		}
		return ok(ri.Ingest)
	})
	return ri.Ingest
}
