package sender

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

// loop is a source that plays units round and round, frames video frames
// in all, then ends.
type loop struct {
	units  []hub.Unit
	i      int
	frames int
	done   chan struct{}
	once   sync.Once
}

func (l *loop) Next(context.Context) (hub.Unit, error) {
	if l.frames == 0 {
		l.once.Do(func() { close(l.done) })
		return hub.Unit{}, errEnd
	}
	u := l.units[l.i%len(l.units)]
	l.i++
	if u.Codec != ps.CodecG711A {
		l.frames--
	}
	return u, nil
}

func (l *loop) Close() {}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSenders measures what an upward stream costs mediagw: n senders
// at once, each muxing a camera-like stream (H.264 of about 2 Mbit/s at 25
// fps — 30 kB key frames every 10 frames, 7.5 kB others, plus a G.711 frame
// per video frame) into PS over RTP and sending it over UDP on loopback to
// a socket nobody reads (the superior's cost is not ours). b.N is the video
// frames per sender; the sources are not paced, so the figure is CPU per
// frame, reported as the share of one core a 25-fps stream takes.
func BenchmarkSenders(b *testing.B) {
	for _, n := range []int{1, 200} {
		b.Run(strconv.Itoa(n)+"_streams", func(b *testing.B) {
			sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			_ = sink.SetReadBuffer(1 << 16)
			aus := pstest.Synthetic(ps.CodecH264, 50, 30000, 1)
			var units []hub.Unit
			for _, au := range aus {
				units = append(units, hub.Unit{Codec: ps.CodecH264, PTS: au.PTS, DTS: au.DTS, Keyframe: au.Keyframe, Payload: au.Data},
					hub.Unit{Codec: ps.CodecG711A, PTS: au.PTS, DTS: au.PTS, Keyframe: true, Payload: make([]byte, 320)})
			}
			var bytes uint64
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime(b)
			senders := make([]*Sender, n)
			loops := make([]*loop, n)
			for i := range senders {
				loops[i] = &loop{units: units, frames: b.N, done: make(chan struct{})}
				senders[i] = &Sender{
					Source: loops[i], SSRC: uint32(i + 1), Transport: TransportUDP,
					Dest: sink.LocalAddr().String(), LocalIP: "127.0.0.1", Log: slog.New(slog.DiscardHandler), OnEnd: func(err error) {
						if !errors.Is(err, errEnd) {
							b.Error(err)
						}
					},
				}
				if err := senders[i].Initialize(); err != nil {
					b.Fatal(err)
				}
			}
			for i, s := range senders {
				<-loops[i].done
				// The last frame is out once the sender ended.
				<-s.done
				_, _, by := s.Stats()
				bytes += by
				s.Close()
			}
			cpu, wall := cpuTime(b)-cpu0, time.Since(start)
			b.StopTimer()
			frames := float64(b.N) * float64(n)
			perFrame := cpu.Seconds() / frames
			b.ReportMetric(perFrame*1e9, "cpu-ns/frame")
			b.ReportMetric(perFrame*25*100, "%core/stream@25fps")
			b.ReportMetric(float64(bytes)*8/frames*25/1e6, "Mbit/s/stream@25fps")
			b.ReportMetric(cpu.Seconds()/wall.Seconds()*100, "%core-used")
		})
	}
}
