package hub_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// BenchmarkFanOut writes a 1080p-like H.264 stream (4 Mbit/s at 25 fps:
// 100 kB keyframe every 50 units, 18 kB otherwise) to readers that each
// drain their queue in a goroutine. One op is one unit delivered to every
// reader: after each GOP the writer waits until all readers have caught up,
// so nobody drops and the figure includes the readers' side of the channel.
func BenchmarkFanOut(b *testing.B) {
	sps := readSPS(b, "h264_1920x1080_high.sps")
	key := append([]byte{0, 0, 0, 1}, sps...)
	key = append(key, make([]byte, 100_000)...)
	key[len(key)-100_000+3] = 1
	inter := make([]byte, 18_000)
	const gop = 50
	for _, readers := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("readers=%d", readers), func(b *testing.B) {
			h := &hub.Hub{}
			if err := h.Initialize(); err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			s, err := h.Publish("live/bench")
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			var received atomic.Int64
			for i := range readers {
				r, err := s.AddReader(fmt.Sprintf("r%d", i))
				if err != nil {
					b.Fatal(err)
				}
				wg.Go(func() {
					for range r.Units() {
						received.Add(1)
					}
				})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				u := hub.Unit{Codec: ps.CodecH264, PTS: int64(i) * 3600, DTS: int64(i) * 3600, Payload: inter}
				if i%gop == 0 {
					u.Keyframe, u.Payload = true, key
				}
				if err := s.WriteUnit(u); err != nil {
					b.Fatal(err)
				}
				i++
				if i%gop == 0 {
					for received.Load() < int64(i*readers) {
						runtime.Gosched()
					}
				}
			}
			st := s.Stats()
			s.Close()
			wg.Wait()
			if st.Drops != 0 || len(st.Readers) != readers {
				b.Fatalf("%d drops, %d of %d readers left", st.Drops, len(st.Readers), readers)
			}
		})
	}
}
