package mediagw

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

// benchFrames is a 2 s loop of 25 fps H.264 PS at about 2 Mbit/s, as RTP
// packets (SSRC, sequence number and timestamp patched per stream).
func benchFrames(b *testing.B) [][][]byte {
	aus := pstest.Synthetic(ps.CodecH264, 50, 30000, 1)
	mux := &ps.Muxer{VideoCodec: ps.CodecH264}
	pk := &ps.Packetizer{SSRC: 1}
	frames := make([][][]byte, 0, len(aus))
	for _, au := range aus {
		pack, err := mux.AppendVideo(nil, au.PTS, au.PTS, au.Keyframe, au.Data)
		if err != nil {
			b.Fatal(err)
		}
		var pkts [][]byte
		err = pk.Visit(pack, uint32(au.PTS), func(p *rtp.Packet) error {
			raw, err := p.Marshal()
			pkts = append(pkts, raw)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		frames = append(frames, pkts)
	}
	return frames
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkIngestCapacity sends MEDIAGW_BENCH_STREAMS (default 100) PS
// streams of about 2 Mbit/s over UDP to the gateway's receivers (per-stream
// ports, or the shared port with MEDIAGW_BENCH_SHARED=1) for
// MEDIAGW_BENCH_SECONDS (default 10) and reports the loss. The senders run
// in the same process, on the same 2 cores: the figure is a floor.
// scripts/bench-media.sh steps the stream count up.
func BenchmarkIngestCapacity(b *testing.B) {
	streams := envInt("MEDIAGW_BENCH_STREAMS", 100)
	seconds := envInt("MEDIAGW_BENCH_SECONDS", 10)
	shared := os.Getenv("MEDIAGW_BENCH_SHARED") == "1"
	frames := benchFrames(b)
	var bytesPerLoop int
	for _, f := range frames {
		for _, p := range f {
			bytesPerLoop += len(p)
		}
	}
	h := mediatest.NewHub(b, nil)
	quiet := slog.New(slog.DiscardHandler)
	// One poller reads every port, as in mediagw.
	poller := &ingest.UDPPoller{}
	if err := poller.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer poller.Close()
	mux := &ingest.UDPMux{Address: "127.0.0.1:0", Poller: poller, Log: quiet}
	if err := mux.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer mux.Close()
	g := &Gateway{
		Hub: h, Mux: mux, UDPPoller: poller, Ports: &ingest.PortAllocator{Min: 42000, Max: 44999}, AdvertiseIP: "127.0.0.1",
		ListenIP: "127.0.0.1", RTPTimeout: time.Minute, Log: quiet,
	}
	if err := g.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer g.Close()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	heap0 := heap()
	type target struct {
		conn *net.UDPConn
		ssrc uint32
		id   string
	}
	targets := make([]target, streams)
	for i := range targets {
		ssrc := uint32(100000000 + i)
		ri, err := g.Open(mediaapi.OpenRequest{Path: fmt.Sprintf("live/bench%05d", i), SSRC: strconv.Itoa(int(ssrc)), Transport: mediaapi.TransportUDP, Shared: shared})
		if err != nil {
			b.Fatal(err)
		}
		conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ri.Port})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		targets[i] = target{conn: conn, ssrc: ssrc, id: ri.ID}
	}
	// One reader per stream, as a viewer or the recorder would be.
	for i := range targets {
		st, _ := h.Stream(fmt.Sprintf("live/bench%05d", i))
		r, err := st.AddReader("bench")
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			for range r.Units() {
			}
		}()
	}

	heapIdle := heap()
	senders := min(runtime.GOMAXPROCS(0), 4)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	var sent, sendErrs [8]uint64
	var wg sync.WaitGroup
	start := time.Now()
	cpu0 := cpuSeconds()
	b.ResetTimer()
	for s := range senders {
		wg.Go(func() {
			buf := make([]byte, 0, 2048)
			var mine []int
			for i := s; i < streams; i += senders {
				mine = append(mine, i)
			}
			seqs := make([]uint16, streams) // per stream, only mine are used
			frameDur := 40 * time.Millisecond
			for n := 0; ; n++ {
				tick := start.Add(time.Duration(n) * frameDur)
				f := frames[n%len(frames)]
				loop := n / len(frames)
				for k, i := range mine {
					// Spread the streams over the frame interval, as real
					// cameras are not in phase.
					at := tick.Add(frameDur * time.Duration(k) / time.Duration(len(mine)))
					if d := time.Until(at); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
							return
						}
					}
					t := targets[i]
					for _, p := range f {
						buf = append(buf[:0], p...)
						binary.BigEndian.PutUint16(buf[2:], seqs[i])
						seqs[i]++
						ts := binary.BigEndian.Uint32(buf[4:]) + uint32(loop*len(frames)*3600)
						binary.BigEndian.PutUint32(buf[4:], ts)
						binary.BigEndian.PutUint32(buf[8:], t.ssrc)
						if _, err := t.conn.Write(buf); err != nil {
							sendErrs[s]++
						} else {
							sent[s]++
						}
					}
				}
				if ctx.Err() != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuSeconds() - cpu0
	time.Sleep(300 * time.Millisecond) // let the reorder buffers drain
	b.StopTimer()
	// With the flow just stopped: GOP caches full, reader queues drained.
	heapFlow := heap()
	var totalSent, totalErrs uint64
	for i := range senders {
		totalSent += sent[i]
		totalErrs += sendErrs[i]
	}
	var received, lost, frameCount uint64
	var lossy []string
	for _, ri := range g.Receivers() {
		in := ri.Ingest
		received += in.Packets
		lost += in.Lost
		frameCount += in.Frames
		if in.Lost > 0 {
			lossy = append(lossy, ri.Path)
		}
	}
	slices.Sort(lossy)
	mbps := float64(bytesPerLoop*8) / 2 / 1e6
	b.ReportMetric(float64(streams), "streams")
	b.ReportMetric(mbps, "Mbit/s/stream")
	b.ReportMetric(float64(totalSent)/elapsed.Seconds(), "packets/s")
	b.ReportMetric(float64(totalSent-received), "packets-lost")
	b.ReportMetric(float64(lost), "seq-gaps")
	b.ReportMetric(100*cpu/elapsed.Seconds(), "cpu%")
	b.ReportMetric(float64(heapIdle-heap0)/float64(streams)/1024, "KB/stream-idle")
	b.ReportMetric(float64(heapFlow-heap0)/float64(streams)/1024, "KB/stream-flowing")
	b.Logf("%d streams x %.2f Mbit/s (shared=%v) for %s: sent %d packets (%d send errors), received %d, lost %d (%d streams with loss), %d frames; process CPU %.0f%% of one core (senders included)",
		streams, mbps, shared, elapsed.Round(time.Millisecond), totalSent, totalErrs, received, lost, len(lossy), frameCount, 100*cpu/elapsed.Seconds())
}

// BenchmarkIngestLatency measures the time from the last packet of a frame
// leaving a UDP socket to the unit reaching a hub reader: what the gateway
// adds before any output. Reported as p50/p99 over b.N frames.
func BenchmarkIngestLatency(b *testing.B) {
	frames := benchFrames(b)
	h := mediatest.NewHub(b, nil)
	quiet := slog.New(slog.DiscardHandler)
	g := &Gateway{Hub: h, Ports: &ingest.PortAllocator{Min: 45000, Max: 45099}, ListenIP: "127.0.0.1", Log: quiet}
	if err := g.Initialize(); err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	ri, err := g.Open(mediaapi.OpenRequest{Path: "live/latency", SSRC: "1", Transport: mediaapi.TransportUDP})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ri.Port})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	st, _ := h.Stream("live/latency")
	r, err := st.AddReader("bench")
	if err != nil {
		b.Fatal(err)
	}
	var seq uint16
	buf := make([]byte, 0, 2048)
	send := func(i int) time.Time {
		f := frames[i%len(frames)]
		loop := i / len(frames)
		var sentAt time.Time
		for _, p := range f {
			buf = append(buf[:0], p...)
			binary.BigEndian.PutUint16(buf[2:], seq)
			seq++
			binary.BigEndian.PutUint32(buf[4:], binary.BigEndian.Uint32(buf[4:])+uint32(loop*len(frames)*3600))
			if _, err := conn.Write(buf); err != nil {
				b.Fatal(err)
			}
			sentAt = time.Now()
		}
		return sentAt
	}
	next := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := r.Next(ctx); err != nil {
			b.Fatalf("no unit: %v", err)
		}
	}
	// Warm up: the demuxer trusts the RTP marker to end a frame only after
	// it has coincided with frame starts twice; until then a frame comes
	// out when the next one starts.
	const warm = 10
	for i := range warm {
		send(i)
	}
	for range warm - 1 {
		next()
	}
	last, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, _ = r.Next(last) // the last warm-up frame, if the marker flushed it
	cancel()
	lat := make([]time.Duration, 0, b.N)
	for i := warm; b.Loop(); i++ {
		sentAt := send(i)
		next()
		lat = append(lat, time.Since(sentAt))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
