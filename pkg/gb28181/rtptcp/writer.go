package rtptcp

import (
	"fmt"
	"io"
)

// MaxPacketSize is the largest packet a 16-bit RFC 4571 length can describe.
const MaxPacketSize = 0xFFFF

// AppendFrame appends the RFC 4571 frame of pkt (length, then packet) to dst.
func AppendFrame(dst, pkt []byte) ([]byte, error) {
	switch {
	case len(pkt) == 0:
		return dst, ErrEmptyPacket
	case len(pkt) > MaxPacketSize:
		return dst, fmt.Errorf("%d bytes: %w", len(pkt), ErrPacketTooLarge)
	}
	dst = append(dst, byte(len(pkt)>>8), byte(len(pkt)))
	return append(dst, pkt...), nil
}

// Writer writes RFC 4571 framed packets. It is not safe for concurrent use.
type Writer struct {
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w}
}

// WritePacket writes the 2-byte length and pkt in a single Write call, so
// that frames are not split into two TCP segments needlessly. The internal
// buffer is reused, so steady-state writes do not allocate.
func (w *Writer) WritePacket(pkt []byte) error {
	buf, err := AppendFrame(w.buf[:0], pkt)
	if err != nil {
		return fmt.Errorf("write RTP frame: %w", err)
	}
	w.buf = buf
	if _, err := w.w.Write(buf); err != nil {
		return fmt.Errorf("write RTP frame: %w", err)
	}
	return nil
}
