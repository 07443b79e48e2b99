package vod

import (
	"io"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
)

// chunkSize is how much of an object one read of the store fetches: an S3
// object costs one GET per ReadAt, so scans and copies read whole MiBs.
const chunkSize = 1 << 20

// chunked reads an object through one cached chunk of chunkSize, aligned:
// sequential small reads (a scan's box headers, a copy's 32 KiB) cost
// one store read per MiB.
type chunked struct {
	obj   objstore.Object
	buf   []byte
	start int64 // offset of buf in the object
}

func newChunked(obj objstore.Object) *chunked { return &chunked{obj: obj, start: -1} }

// ReadAt implements io.ReaderAt.
func (c *chunked) ReadAt(p []byte, off int64) (int, error) {
	size := c.obj.Size()
	n := 0
	for n < len(p) {
		at := off + int64(n)
		if at >= size {
			return n, io.EOF
		}
		if c.start < 0 || at < c.start || at >= c.start+int64(len(c.buf)) {
			start := at - at%chunkSize
			want := min(int64(chunkSize), size-start)
			if cap(c.buf) < int(want) {
				c.buf = make([]byte, chunkSize)
			}
			c.buf = c.buf[:want]
			c.start = -1
			if k, err := c.obj.ReadAt(c.buf, start); k < int(want) {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return n, err
			}
			c.start = start
		}
		n += copy(p[n:], c.buf[at-c.start:])
	}
	return n, nil
}
