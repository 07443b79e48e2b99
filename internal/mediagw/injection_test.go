package mediagw

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
)

// udpRelay stands between gbsim and mediagw: it forwards the camera's
// datagrams from a socket of its own, which is therefore the device's
// source as the receiver sees it, and counts what it forwarded. That is
// what the real stream sent, to compare the stream's counters with.
type udpRelay struct {
	in, out *net.UDPConn
	done    chan struct{}

	mu        sync.Mutex
	forwarded uint64
	// first and high are the lowest and highest sequence numbers
	// forwarded, extended across the 16-bit wrap.
	first, high int64
}

// newRelay listens on a loopback port for the camera and forwards to
// target until stop.
func newRelay(t *testing.T, target string) *udpRelay {
	t.Helper()
	in, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ta, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	out, err := net.DialUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, ta)
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{in: in, out: out, done: make(chan struct{})}
	go r.run()
	t.Cleanup(r.stop)
	return r
}

func (r *udpRelay) run() {
	defer close(r.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := r.in.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue // only RTP is expected from the camera
		}
		if _, err := r.out.Write(buf[:n]); err != nil {
			continue
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		r.mu.Lock()
		if r.forwarded == 0 {
			r.first, r.high = int64(seq), int64(seq)
		} else {
			ext := r.high + int64(int16(seq-uint16(r.high)))
			r.first, r.high = min(r.first, ext), max(r.high, ext)
		}
		r.forwarded++
		r.mu.Unlock()
	}
}

// stop ends forwarding; the counts are final after it.
func (r *udpRelay) stop() {
	r.in.Close()
	<-r.done
	r.out.Close()
}

// counts returns the packets forwarded and the span of their sequence
// numbers (how many the camera numbered from the first to the last).
func (r *udpRelay) counts() (forwarded, span uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.forwarded == 0 {
		return 0, 0
	}
	return r.forwarded, uint64(r.high-r.first) + 1
}

// TestMediaInjection is the media-plane injection test of the trust
// boundary: while a camera plays (on its own port and on the shared port),
// a second and a third socket send packets of the stream's SSRC, from
// another IP and from the camera's IP with another port, with sequence
// numbers all over the 16-bit space. The viewer decodes, nothing of the
// injected packets reaches the sequence tracking, and they are counted as
// foreign sources.
//
// Loopback may really lose packets on a loaded machine, so no count of the
// test is absolute: the stream's counters are compared with what the
// device (the relay) really sent. A forged packet let through would be
// counted as received on top of the device's, show as a loss the device's
// packets cannot explain (hundreds at a time), a duplicate, a late packet,
// a restart or a source move.
func TestMediaInjection(t *testing.T) {
	g := startGW(t, nil)
	sim := newSim(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type session struct {
		ri    mediaapi.Receiver
		relay *udpRelay
	}
	sessions := map[string]session{}
	for _, shared := range []bool{false, true} {
		path := "live/inj-own"
		if shared {
			path = "live/inj-shared"
		}
		const ssrc = 100000001
		var ri mediaapi.Receiver
		if code := g.call("POST", "/internal/v1/receivers",
			mediaapi.OpenRequest{Path: path, SSRC: strconv.Itoa(ssrc), Transport: mediaapi.TransportUDP, Shared: shared}, &ri); code != 201 {
			t.Fatalf("open %s = %d", path, code)
		}
		relay := newRelay(t, net.JoinHostPort(ri.IP, strconv.Itoa(ri.Port)))
		ra := relay.in.LocalAddr().(*net.UDPAddr)
		if _, err := answerCamera(ctx, sim, chanH264, ra.IP.String(), ra.Port, ssrc, mediaapi.TransportUDP); err != nil {
			t.Fatal(err)
		}
		// After the SDP answer sipserver narrows the sources to the device's.
		if code := g.call("PATCH", "/internal/v1/receivers/"+ri.ID, map[string]any{"allow_ips": []string{"127.0.0.1"}}, &ri); code != 200 ||
			len(ri.AllowIPs) != 1 || ri.AllowIPs[0] != "127.0.0.1" {
			t.Fatalf("PATCH allow_ips = %d %+v", code, ri)
		}
		device := relay.out.LocalAddr().String()
		g.waitStream(path, 20*time.Second, func(s mediaapi.Stream) bool {
			return s.VideoCodec == "H264" && s.Ingest != nil && s.Ingest.Source == device
		})
		sessions[path] = session{ri, relay}
	}

	// The injectors run while a viewer decodes.
	var sent atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	injectors := map[string]bool{}
	for _, s := range sessions {
		for _, from := range []string{"127.0.0.2", "127.0.0.1"} {
			c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)},
				&net.UDPAddr{IP: net.ParseIP("127.0.0.1"), Port: s.ri.Port})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			injectors[c.LocalAddr().String()] = true
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
	// The device stops too: what it sent is final, and the stream's
	// counters can only have caught up with it when they are read.
	for _, s := range sessions {
		s.relay.stop()
	}

	var foreign uint64
	realLoss := false
	for path, s := range sessions {
		st, _ := g.stream(path)
		in := st.Ingest
		forwarded, span := s.relay.counts()
		t.Logf("%s: device sent %d packets numbered over %d; ingest %+v", path, forwarded, span, *in)
		if in.Duplicates != 0 || in.Late != 0 || in.Restarts != 0 || in.SourceMoves != 0 || injectors[in.Source] {
			t.Fatalf("%s: injected packets reached the sequence tracking: %+v", path, *in)
		}
		// Every packet counted is the device's: an injected one would come
		// on top of them.
		if in.Packets > forwarded {
			t.Fatalf("%s: %d packets counted, the device sent %d", path, in.Packets, forwarded)
		}
		// The loss is what the device numbered and did not arrive (no
		// duplicate nor late packet, checked above): a forged sequence
		// number would add a gap the device's numbering does not have.
		if in.Lost+in.Packets > span {
			t.Fatalf("%s: %d lost + %d received, but the device numbered only %d", path, in.Lost, in.Packets, span)
		}
		if in.ForeignSource == 0 {
			t.Fatalf("%s: no injected packet counted as a foreign source: %+v", path, *in)
		}
		foreign += in.ForeignSource
		realLoss = realLoss || in.Lost > 0 || forwarded < span
	}
	if foreign > uint64(sent.Load()) {
		t.Fatalf("%d foreign packets counted, %d sent", foreign, sent.Load())
	}
	// ffmpeg reads 10 s of the stream's own time, however loaded the
	// machine; only a real loss (which the test does not control) may cost
	// frames or make the decoder complain.
	if frames == 0 || (!realLoss && (frames < 200 || errs != "")) {
		t.Fatalf("decoded %d frames of 10 s under injection (real loss: %v): %s", frames, realLoss, errs)
	}
	t.Logf("%d packets injected, %d counted as foreign sources, %d frames decoded", sent.Load(), foreign, frames)
}
