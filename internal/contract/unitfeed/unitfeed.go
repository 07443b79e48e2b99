// Package unitfeed is the wire format of mediagw's unit feed: the access
// units of one stream as the hub holds them, sent over one HTTP response to
// the recorder.
//
// The recorder used to read each stream over RTSP: mediagw packetized every
// unit into RTP, wrote each packet with its own TCP write, and the recorder
// read and re-assembled them — a system call and a goroutine wake-up per
// packet on both sides, most of what recording cost. The feed sends the
// units as they are, buffered and flushed a few times a second (a recorder
// needs no low latency), so a stream costs a few writes a second.
//
// A feed is GET <mediagw>/feed/<path>?token=<play token> (live/<channel>):
// the answer is 200 with ContentType, then a Header frame and Unit frames
// until the stream ends (the response ends) or either side closes. Errors
// before the first frame are ordinary HTTP errors with a JSON body.
//
// Each frame is a kind byte, a big-endian uint32 length and that many bytes.
// The header's body is JSON; a unit's is track (1 byte, an index into
// Header.Tracks), flags (1 byte, bit 0: key frame), PTS and DTS (big-endian
// int64, 90 kHz, the ingest's clock), the time mediagw received the unit
// (big-endian int64, Unix nanoseconds, 0 if unknown) and the payload
// (Annex-B for video, the codec's own bytes for audio: G.711 samples, AAC
// with its ADTS header).
//
// The first units of a feed are the hub's cached group of pictures, up to a
// few seconds old, and later ones arrive up to a flush interval late, so
// the reader's clock at arrival says little about when a unit was
// captured. Each unit carries when mediagw received it, on mediagw's clock,
// and the header carries that clock's time when it was sent (the header is
// flushed at once): the reader maps unit times onto its own clock with the
// offset between the two, whatever the skew between the hosts.
package unitfeed

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// PathPrefix is the route of the feed on mediagw's HTTP listener:
// PathPrefix + <stream path>.
const PathPrefix = "/feed/"

// ContentType is the media type of a feed.
const ContentType = "application/vnd.sharpeyes.unit-feed"

// Codec names of Header.Tracks, as ps.Codec.String spells them.
const (
	CodecH264  = "H264"
	CodecH265  = "H265"
	CodecG711A = "G711A"
	CodecG711U = "G711U"
	CodecAAC   = "AAC"
)

// Frame kinds.
const (
	kindHeader = 'H'
	kindUnit   = 'U'
)

// Limits of what a Reader accepts: a unit is at most a few MiB (a 4K key
// frame), a header a few hundred bytes.
const (
	MaxUnit   = 16 << 20
	MaxHeader = 64 << 10
	MaxTracks = 8
)

// unitHead is the fixed part of a unit frame's body.
const unitHead = 1 + 1 + 8 + 8 + 8

// Errors of Reader.
var (
	// ErrFormat is a frame that breaks the format: unknown kind, bad length,
	// a unit before the header or of a track the header does not list.
	ErrFormat = errors.New("unitfeed: malformed feed")
)

// Header is the first frame: the stream's tracks.
type Header struct {
	// Tracks are the codecs of the stream, in the order the hub saw them;
	// a unit names its track by index.
	Tracks []string `json:"tracks"`
	// Now is mediagw's clock when it sent the header; zero if unknown.
	Now time.Time `json:"now,omitzero"`
}

// Unit is one access unit.
type Unit struct {
	// Track is the index of the unit's codec in Header.Tracks.
	Track int
	// Key is set for video key frames (H.264 IDR, H.265 IRAP) and every
	// audio unit.
	Key bool
	// PTS and DTS are 90 kHz timestamps.
	PTS, DTS int64
	// Received is when mediagw received the unit, on its clock (see
	// Header.Now); zero if unknown. It travels with nanosecond precision.
	Received time.Time
	// Payload is the unit's data; a Reader gives each unit its own.
	Payload []byte
}

// Writer writes a feed into a buffer of its own; Flush sends what it holds.
// Not safe for concurrent use.
type Writer struct {
	bw     *bufio.Writer
	tracks int
	hdr    [5 + unitHead]byte
}

// NewWriter returns a Writer buffering up to size bytes before it writes
// to w by itself.
func NewWriter(w io.Writer, size int) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, size)}
}

// WriteHeader writes the header frame; it comes first, once.
func (w *Writer) WriteHeader(h Header) error {
	if len(h.Tracks) == 0 || len(h.Tracks) > MaxTracks {
		return fmt.Errorf("unitfeed: header with %d tracks", len(h.Tracks))
	}
	b, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("unitfeed: header: %w", err)
	}
	w.tracks = len(h.Tracks)
	w.hdr[0] = kindHeader
	binary.BigEndian.PutUint32(w.hdr[1:5], uint32(len(b)))
	if _, err := w.bw.Write(w.hdr[:5]); err != nil {
		return err
	}
	_, err = w.bw.Write(b)
	return err
}

// WriteUnit writes one unit frame.
func (w *Writer) WriteUnit(u Unit) error {
	if u.Track < 0 || u.Track >= w.tracks {
		return fmt.Errorf("unitfeed: unit of track %d, the header lists %d", u.Track, w.tracks)
	}
	if len(u.Payload) > MaxUnit {
		return fmt.Errorf("unitfeed: unit of %d bytes", len(u.Payload))
	}
	h := w.hdr[:]
	h[0] = kindUnit
	binary.BigEndian.PutUint32(h[1:5], uint32(unitHead+len(u.Payload)))
	h[5] = byte(u.Track)
	h[6] = 0
	if u.Key {
		h[6] = 1
	}
	binary.BigEndian.PutUint64(h[7:15], uint64(u.PTS))
	binary.BigEndian.PutUint64(h[15:23], uint64(u.DTS))
	var rx int64
	if !u.Received.IsZero() {
		rx = u.Received.UnixNano()
	}
	binary.BigEndian.PutUint64(h[23:31], uint64(rx))
	if _, err := w.bw.Write(h); err != nil {
		return err
	}
	_, err := w.bw.Write(u.Payload)
	return err
}

// Buffered is the number of bytes written but not yet sent.
func (w *Writer) Buffered() int { return w.bw.Buffered() }

// Flush sends what the buffer holds.
func (w *Writer) Flush() error { return w.bw.Flush() }

// Reader reads a feed. Not safe for concurrent use.
type Reader struct {
	br     *bufio.Reader
	header bool
	tracks int
	hdr    [5 + unitHead]byte
}

// NewReader returns a Reader of r with a buffer of size bytes.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// ReadHeader reads the header frame, which must come first.
func (r *Reader) ReadHeader() (Header, error) {
	var h Header
	if r.header {
		return h, fmt.Errorf("%w: header read twice", ErrFormat)
	}
	if _, err := io.ReadFull(r.br, r.hdr[:5]); err != nil {
		return h, err
	}
	n := binary.BigEndian.Uint32(r.hdr[1:5])
	switch {
	case r.hdr[0] != kindHeader:
		return h, fmt.Errorf("%w: frame %q before the header", ErrFormat, r.hdr[0])
	case n > MaxHeader:
		return h, fmt.Errorf("%w: header of %d bytes", ErrFormat, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r.br, b); err != nil {
		return h, noEOF(err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%w: header: %w", ErrFormat, err)
	}
	if len(h.Tracks) == 0 || len(h.Tracks) > MaxTracks {
		return h, fmt.Errorf("%w: header with %d tracks", ErrFormat, len(h.Tracks))
	}
	r.header, r.tracks = true, len(h.Tracks)
	return h, nil
}

// ReadUnit reads the next unit. io.EOF is the feed's clean end, between
// frames; a feed cut inside a frame is io.ErrUnexpectedEOF.
func (r *Reader) ReadUnit() (Unit, error) {
	if !r.header {
		return Unit{}, fmt.Errorf("%w: unit read before the header", ErrFormat)
	}
	if _, err := io.ReadFull(r.br, r.hdr[:5]); err != nil {
		return Unit{}, err
	}
	n := binary.BigEndian.Uint32(r.hdr[1:5])
	switch {
	case r.hdr[0] != kindUnit:
		return Unit{}, fmt.Errorf("%w: frame %q after the header", ErrFormat, r.hdr[0])
	case n < unitHead || n > unitHead+MaxUnit:
		return Unit{}, fmt.Errorf("%w: unit frame of %d bytes", ErrFormat, n)
	}
	if _, err := io.ReadFull(r.br, r.hdr[5:]); err != nil {
		return Unit{}, noEOF(err)
	}
	u := Unit{
		Track: int(r.hdr[5]),
		Key:   r.hdr[6]&1 != 0,
		PTS:   int64(binary.BigEndian.Uint64(r.hdr[7:15])),
		DTS:   int64(binary.BigEndian.Uint64(r.hdr[15:23])),
	}
	if rx := int64(binary.BigEndian.Uint64(r.hdr[23:31])); rx != 0 {
		u.Received = time.Unix(0, rx)
	}
	if u.Track >= r.tracks {
		return Unit{}, fmt.Errorf("%w: unit of track %d, the header lists %d", ErrFormat, u.Track, r.tracks)
	}
	u.Payload = make([]byte, n-unitHead)
	if _, err := io.ReadFull(r.br, u.Payload); err != nil {
		return Unit{}, noEOF(err)
	}
	return u, nil
}

// noEOF turns an EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
