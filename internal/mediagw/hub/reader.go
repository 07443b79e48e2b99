package hub

import (
	"context"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Reader receives the units of one stream through a bounded queue.
type Reader struct {
	stream *Stream
	tracks []ps.Codec
	name   string
	since  time.Time
	ch     chan Unit
	max    int

	// held marks the first reader of a held stream: its queue is fed by the
	// stream's feeder goroutine, which stops when quit is closed.
	held bool
	quit chan struct{}

	// Guarded by stream.mu; written only by the stream.
	detached  bool
	err       error
	waiting   bool // skipping until the next resume point
	gopDrops  bool // dropped something since the last resume point
	overflows int  // consecutive GOPs with drops
	units     uint64
	bytes     uint64
	keyframes uint64
	drops     uint64
}

// Path returns the path of the reader's stream.
func (r *Reader) Path() string { return r.stream.path }

// Tracks returns the codecs the stream had when the reader was added, in
// order of appearance; outputs set up their tracks from it. Units of a codec
// not in the list may follow (a track that started later) and are skipped by
// outputs that cannot add tracks.
func (r *Reader) Tracks() []ps.Codec { return r.tracks }

// Held reports whether the reader is the first reader of a held stream
// (Hub.PublishHold): it started at the stream's first unit and loses
// nothing; when the stream ended its queue ends with ErrStreamEnded after
// the last unit.
func (r *Reader) Held() bool { return r.held }

// Name returns the name given to AddReader.
func (r *Reader) Name() string { return r.name }

// Units returns the reader's queue. It is closed when the reader is closed,
// disconnected or its stream ends; Err then says why.
func (r *Reader) Units() <-chan Unit { return r.ch }

// Next returns the next unit, waiting for it until ctx is done. After the
// queue is closed it returns Err.
func (r *Reader) Next(ctx context.Context) (Unit, error) {
	select {
	case u, ok := <-r.ch:
		if !ok {
			return Unit{}, r.Err()
		}
		return u, nil
	case <-ctx.Done():
		return Unit{}, ctx.Err()
	}
}

// Err returns nil while the reader is attached, then ErrReaderClosed,
// ErrStreamClosed, ErrSlowReader, or, for the first reader of a held stream
// that was given all of it, ErrStreamEnded.
func (r *Reader) Err() error {
	r.stream.mu.Lock()
	defer r.stream.mu.Unlock()
	return r.err
}

// Close detaches the reader from its stream and closes its queue.
func (r *Reader) Close() {
	r.stream.removeReader(r)
}

// deliver queues u without blocking, dropping until the next resume point
// when the queue is full. It returns false when the reader has overflowed in
// max consecutive GOPs and must be disconnected. A GOP without drops resets
// the count, so a transient stall costs a skip, not the connection.
func (r *Reader) deliver(u Unit, resume bool) bool {
	if resume {
		if !r.gopDrops {
			r.overflows = 0
		}
		r.gopDrops = false
		r.waiting = false
	} else if r.waiting {
		r.drops++
		return true
	}
	select {
	case r.ch <- u:
		r.units++
		r.bytes += uint64(len(u.Payload))
		if u.Keyframe {
			r.keyframes++
		}
		return true
	default:
	}
	r.drops++
	r.waiting = true
	if !r.gopDrops {
		r.gopDrops = true
		r.overflows++
	}
	return r.overflows < r.max
}

func (r *Reader) stats() ReaderStats {
	return ReaderStats{
		Name:      r.name,
		Since:     r.since,
		Units:     r.units,
		Bytes:     r.bytes,
		Keyframes: r.keyframes,
		Drops:     r.drops,
		Overflows: r.overflows,
		Queued:    len(r.ch),
		Skipping:  r.waiting,
	}
}
