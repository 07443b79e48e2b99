package transcode_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// childCPU returns the CPU time of the terminated, waited-for children.
func childCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTranscode pushes 640x360 H.265 frames through one transcode as
// fast as ffmpeg takes them (a few frames in flight, so the hub never
// drops) and reports frames per second and ffmpeg's CPU time per frame
// (including its start-up and the first GOP).
func BenchmarkTranscode(b *testing.B) {
	clip := mediatest.NewClip(b, ps.CodecH265, 640, 360, 25, 4)
	h := mediatest.NewHub(b, nil)
	src, err := h.Publish("live/bench")
	if err != nil {
		b.Fatal(err)
	}
	tc := startTranscoder(b, h, time.Second)
	// Whatever happens, one run stays bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	step := int64(90000 / clip.FPS)
	var pts int64
	written, out := 0, 0 // H.265 frames in, H.264 frames out
	write := func() {
		u := clip.Units[written%len(clip.Units)]
		u.PTS, u.DTS = pts, pts
		if err := src.WriteUnit(u); err != nil {
			b.Fatal(err)
		}
		pts += step
		written++
	}
	var r *hub.Reader
	next := func() {
		u, err := r.Next(ctx)
		if err != nil {
			b.Fatalf("after %d frames out: %v", out, err)
		}
		if u.Codec == ps.CodecH264 {
			out++
		}
	}

	// The first GOP makes the source ready; ffmpeg starts on it.
	for range clip.FPS {
		write()
	}
	cpu0 := childCPU(b)
	if r, err = tc.Read(ctx, src, "bench"); err != nil {
		b.Fatal(err)
	}
	// ffmpeg and the splitter hold the last couple of frames until the
	// next ones arrive.
	const window, held = 6, 3
	for written-out > held {
		next()
	}

	b.ResetTimer()
	start, out0 := time.Now(), out
	for range b.N {
		write()
		for written-out > window {
			next()
		}
	}
	for written-out > held {
		next()
	}
	elapsed := time.Since(start)
	b.StopTimer()

	r.Close()
	tc.Close() // ffmpeg exits and is waited for: its CPU time is counted
	cpu := childCPU(b) - cpu0
	frames := out - out0
	if frames <= 0 {
		return
	}
	b.ReportMetric(float64(frames)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(frames), "ffmpeg-cpu-ms/frame")
	b.ReportMetric(cpu.Seconds()/elapsed.Seconds(), "ffmpeg-cores")
}
