package replay

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// memObject is a segment held in memory.
type memObject struct{ *bytes.Reader }

func (memObject) Close() error { return nil }

// FuzzSource: whatever a segment holds, reading it ends in units or an
// error, never a panic or a loop.
func FuzzSource(f *testing.F) {
	f.Add(segmentOf(f, frames(f, 30)))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'v'})
	f.Fuzz(func(t *testing.T, data []byte) {
		segs := []recordingdb.Segment{{ObjectKey: "a", Start: t0, End: t0.Add(time.Second)}}
		src := &source{
			segs: segs, from: t0.Add(100 * time.Millisecond),
			open: func(context.Context, string) (objstore.Object, error) {
				return memObject{bytes.NewReader(data)}, nil
			},
		}
		defer src.close()
		for range 10_000 {
			if _, _, err := src.read(context.Background()); err != nil {
				return
			}
		}
	})
}
