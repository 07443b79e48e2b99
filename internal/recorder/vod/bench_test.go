package vod_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// BenchmarkFirstFrame measures playback's first frame as a player sees it:
// from the playlist request to the first decoded video frame (ffmpeg
// reading the HLS URL, -frames:v 1), for a start in the middle of a
// 1-minute 1080p segment recorded as the recorder does (1 s fragments, a
// key frame a second). local-ms is ffmpeg's own cost of the first frame of
// that segment's local file (start-up, probe, decode of one frame), so the
// difference is the playback path's; playlist-ms is the playlist request
// alone (index read, scan of the first segment, audit). The goal
// is 500 ms.
//
//	go test ./internal/recorder/vod/ -run XXX -bench FirstFrame -benchtime 20x
func BenchmarkFirstFrame(b *testing.B) {
	for _, kind := range []string{objstore.KindDir, objstore.KindS3} {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, storeOf(b, kind))
			e.clip = mediatest.NewClip(b, ps.CodecH264, 1920, 1080, fps, 4)
			e.fragment = time.Second
			for i := range 3 {
				e.segment(chA, t0.Add(time.Duration(i)*time.Minute), 60, false)
			}
			url := e.playlistURL(chA, t0.Add(90500*time.Millisecond), t0.Add(3*time.Minute), e.viewerToken(chA))
			bin := testsupport.Tool(b, "ffmpeg", "ffmpeg")
			first := func(args ...string) {
				args = append([]string{"-hide_banner", "-nostdin", "-v", "error"}, args...)
				if out, err := exec.Command(bin, append(args, "-frames:v", "1", "-f", "null", "-")...).CombinedOutput(); err != nil {
					b.Fatalf("ffmpeg: %v\n%s", err, out)
				}
			}
			local := filepath.Join(b.TempDir(), "segment.mp4")
			if err := writeFile(local, e.object(e.segmentAt(t0.Add(time.Minute)))); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var localTime, playlistTime time.Duration
			for range b.N {
				first("-http_persistent", "0", "-i", url)
				b.StopTimer()
				start := time.Now()
				first("-i", local)
				localTime += time.Since(start)
				start = time.Now()
				if status, code, _ := e.get(url); status != 200 {
					b.Fatalf("playlist: %d %s", status, code)
				}
				playlistTime += time.Since(start)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/first-frame")
			b.ReportMetric(float64(localTime.Milliseconds())/float64(b.N), "local-ms")
			b.ReportMetric(float64(playlistTime.Microseconds())/1000/float64(b.N), "playlist-ms")
		})
	}
}
