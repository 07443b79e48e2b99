package mediagw

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMediaInjection is the media-plane injection test of the trust
// boundary: while a camera plays (on its own port and on the shared port),
// a second and a third socket send packets of the stream's SSRC, from
// another IP and from the camera's IP with another port, with sequence
// numbers all over the 16-bit space. The viewer decodes without an error,
// nothing of the injected packets reaches the sequence tracking (no loss
// jump, duplicate, late packet or restart), and they are counted as
// foreign sources.
func TestMediaInjection(t *testing.T) {
	g := startGW(t, nil)
	sim := newSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	paths := map[string]ReceiverInfo{}
	for _, shared := range []bool{false, true} {
		path := "live/inj-own"
		if shared {
			path = "live/inj-shared"
		}
		ri := startCamera(ctx, t, g, sim, chanH264, path, TransportUDP, shared)
		// After the SDP answer sipserver narrows the sources to the device's.
		if code := g.call("PATCH", "/internal/v1/receivers/"+ri.ID, map[string]any{"allow_ips": []string{"127.0.0.1"}}, &ri); code != 200 ||
			len(ri.AllowIPs) != 1 || ri.AllowIPs[0] != "127.0.0.1" {
			t.Fatalf("PATCH allow_ips = %d %+v", code, ri)
		}
		g.waitStream(path, 20*time.Second, func(s StreamInfo) bool {
			return s.VideoCodec == "H264" && s.Ingest != nil && s.Ingest.Source != ""
		})
		paths[path] = ri
	}

	// The injectors run while a viewer decodes.
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, ri := range paths {
		for _, from := range []string{"127.0.0.2", "127.0.0.1"} {
			c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)},
				&net.UDPAddr{IP: net.ParseIP("127.0.0.1"), Port: ri.Port})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				pkt := make([]byte, 1200)
				pkt[0], pkt[1] = 0x80, 96
				binary.BigEndian.PutUint32(pkt[8:], 100000001) // the session's SSRC
				for seq := uint16(0); ; seq += 97 {
					binary.BigEndian.PutUint16(pkt[2:], seq)
					binary.BigEndian.PutUint32(pkt[4:], uint32(seq)*3600)
					if _, err := c.Write(pkt); err == nil {
						sent.Add(1)
					}
					select {
					case <-stop:
						return
					case <-time.After(5 * time.Millisecond):
					}
				}
			}()
		}
	}
	tok := g.token("live/inj-shared")
	frames, errs := decodeWindow(t, "-rtsp_transport", "tcp", "-i", g.rtsp+"/live/inj-shared?token="+tok)
	close(stop)
	wg.Wait()
	if frames < 200 || errs != "" {
		t.Fatalf("decoded %d frames in 10 s under injection: %s", frames, errs)
	}
	var foreign uint64
	for path := range paths {
		st, _ := g.stream(path)
		in := st.Ingest
		t.Logf("%s: %+v", path, *in)
		// A forged packet let through would show as a loss jump (hundreds
		// at a time), a duplicate, a late packet or a restart.
		if in.Duplicates != 0 || in.Late != 0 || in.Restarts != 0 || in.Lost > 20 || in.SourceMoves != 0 || in.ForeignSource == 0 {
			t.Fatalf("%s: injected packets reached the stream: %+v", path, *in)
		}
		foreign += in.ForeignSource
	}
	if foreign > uint64(sent.Load()) {
		t.Fatalf("%d foreign packets counted, %d sent", foreign, sent.Load())
	}
	t.Logf("%d packets injected, %d counted as foreign sources, %d frames decoded", sent.Load(), foreign, frames)
}
