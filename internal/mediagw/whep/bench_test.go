package whep_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// BenchmarkWHEPFirstPacket measures, on a running stream, the time from a
// player's POST to its first video RTP packet: HTTP, negotiation, ICE,
// DTLS and the GOP cache's first packet. The offer is made before the
// timer starts; DELETE and teardown are not timed.
func BenchmarkWHEPFirstPacket(b *testing.B) {
	h := mediatest.NewHub(b, &hub.Hub{})
	clip := mediatest.NewClip(b, ps.CodecH264, 320, 240, 25, 2)
	mediatest.Publish(b, h, "live/bench", clip, true)
	e := newEnv(b, &access.HubSource{Hub: h})
	var total time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		c := newClient(b)
		b.StartTimer()
		start := time.Now()
		if code := c.post(b, e.url("/whep/live/bench")); code != http.StatusCreated {
			b.Fatalf("POST: %d", code)
		}
		select {
		case <-c.video:
		case <-time.After(10 * time.Second):
			b.Fatal("no video packet within 10 s")
		}
		total += time.Since(start)
		n++
		b.StopTimer()
		if res, _ := do(b, http.MethodDelete, e.url(c.location), "", nil); res.StatusCode != http.StatusOK {
			b.Fatalf("DELETE: %d", res.StatusCode)
		}
		c.pc.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(n), "ms/first-packet")
}

// BenchmarkAddedLatency measures what the WHEP output adds to a unit's
// journey: from Stream.WriteUnit to the player's receipt of the unit's
// last RTP packet (marker bit), one unit in flight at a time, over
// loopback. One op is one video unit of a 320x240 clip (keyframes
// included); p50 and p99 are reported.
func BenchmarkAddedLatency(b *testing.B) {
	h := mediatest.NewHub(b, &hub.Hub{})
	clip := mediatest.NewClip(b, ps.CodecH264, 320, 240, 25, 2)
	st, err := h.Publish("live/latency")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(st.Close)
	next := 0
	write := func() (int64, time.Time) {
		u := clip.Units[next%len(clip.Units)]
		u.PTS = int64(next) * 3600
		u.DTS = u.PTS
		next++
		at := time.Now()
		if err := st.WriteUnit(u); err != nil {
			b.Fatal(err)
		}
		return u.PTS, at
	}
	// A video-only stream is ready a few units after its keyframe.
	const cached = 5
	for range cached {
		write()
	}
	e := newEnv(b, &access.HubSource{Hub: h})
	c := newClient(b)
	if code := c.post(b, e.url("/whep/live/latency")); code != http.StatusCreated {
		b.Fatalf("POST: %d", code)
	}
	// awaitUnit returns the arrival of the last packet of the unit whose
	// RTP timestamp is ts.
	awaitUnit := func(ts uint32) time.Time {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case rp := <-c.video:
				if rp.pkt.Marker && rp.pkt.Timestamp == ts {
					return rp.at
				}
			case <-timeout:
				b.Fatalf("unit with RTP timestamp %d not received", ts)
			}
		}
	}
	// The GOP cache arrives first; its keyframe (PTS 0) gives the RTP
	// timestamp offset.
	var offset uint32
	select {
	case rp := <-c.video:
		offset = rp.pkt.Timestamp
	case <-time.After(10 * time.Second):
		b.Fatal("no video packet")
	}
	awaitUnit(offset + uint32((cached-1)*3600))

	var lat []time.Duration
	for b.Loop() {
		pts, at := write()
		lat = append(lat, awaitUnit(offset+uint32(pts)).Sub(at))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
