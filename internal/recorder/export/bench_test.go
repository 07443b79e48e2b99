package export

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// BenchmarkExportHour remuxes one hour of a 2 Mbit/s 720p stream (60
// one-minute segments in a directory store) into one file, as a platform
// export does; xrealtime is the hour divided by the time it took.
//
//	go test -run '^$' -bench ExportHour -benchtime 3x ./internal/recorder/export
func BenchmarkExportHour(b *testing.B) {
	st := newStore(b)
	data := writeSegment(b, clipFrames(b, int(time.Minute/frame), "1280x720", "2M"), false)
	var segs []recordingdb.Segment
	for i := range 60 {
		start := t0.Add(time.Duration(i) * time.Minute)
		key := "34020000001320000001/" + start.Format("150405") + ".mp4"
		p, err := st.WritePath(key)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o640); err != nil {
			b.Fatal(err)
		}
		if err := st.Commit(context.Background(), key); err != nil {
			b.Fatal(err)
		}
		segs = append(segs, recordingdb.Segment{Start: start, End: start.Add(time.Minute), ObjectKey: key, Store: st.Name()})
	}
	r := &Runner{Store: st}
	out := filepath.Join(b.TempDir(), "export.mp4")
	b.SetBytes(int64(len(data)) * 60)
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Create(out)
		if err != nil {
			b.Fatal(err)
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		m := &remuxer{w: bw, start: t0, end: t0.Add(time.Hour)}
		for _, s := range segs {
			if err := r.copySegment(context.Background(), m, s, nil); err != nil {
				b.Fatal(err)
			}
		}
		if err := bw.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if m.Duration() != time.Hour {
			b.Fatalf("%v exported", m.Duration())
		}
	}
	b.ReportMetric(float64(time.Hour)/(float64(b.Elapsed())/float64(b.N)), "xrealtime")
}
