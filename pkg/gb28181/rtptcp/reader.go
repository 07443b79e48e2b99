package rtptcp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	// rtpHeaderSize is the fixed RTP header, the smallest packet accepted.
	rtpHeaderSize = 12
	// interleavedMagic starts an RTSP-interleaved frame: '$', channel, length.
	interleavedMagic = '$'
	// maxHeader is the longer of the two frame headers ('$' framing).
	maxHeader = 4
	// lookahead is how much of a following frame is examined: its header
	// and the fixed RTP header, which holds the SSRC.
	lookahead = maxHeader + rtpHeaderSize
	// confirmWindow is how far after a frame with a new SSRC the next frame
	// of that SSRC may start (garbage in between).
	confirmWindow = 256
	// initialBufSize is the first buffer allocation; it grows on demand.
	initialBufSize = 8 << 10
	// minRead is the free space below which the buffer is compacted before reading.
	minRead = 2 << 10
	// maxEmptyReads bounds how often a misbehaving io.Reader may return 0, nil.
	maxEmptyReads = 100
)

// Stats are the Reader's counters.
type Stats struct {
	// Packets is the number of packets returned.
	Packets uint64
	// Interleaved is how many of them came in RTSP-interleaved ('$') frames.
	Interleaved uint64
	// SkippedBytes is the number of bytes discarded: garbage, frames whose
	// payload is not RTP, and a truncated frame at the end of the stream.
	SkippedBytes uint64
	// Resyncs is the number of times framing was lost and a scan started.
	Resyncs uint64
}

// Reader reads RTP packets from an RFC 4571 framed byte stream.
//
// A frame is accepted when its length is 12..max, its payload looks like an
// RTP version 2 packet (version bits, CSRC list, extension and padding fit)
// and it is believable:
//
//   - it is the first frame of the stream (a connection starts on a frame
//     boundary), or
//   - its SSRC equals that of the previous packet, or
//   - a frame with the same SSRC starts within 256 bytes after it (for a '$'
//     frame on an even channel: another such frame follows it directly), or
//   - it ends exactly where the stream ends.
//
// Otherwise one byte is skipped and the next position is tried. Only a frame
// with a new SSRC may make the Reader wait for data after it, so an SSRC
// change is delivered when the following packet arrives.
//
// The SSRC rule makes false resynchronisation on random garbage very
// unlikely while still following an SSRC change. It assumes one RTP stream
// per RFC 4571 connection, as GB/T 28181 uses: packets of a second SSRC
// alternating with the first, and RTCP, are discarded as garbage. RTSP
// interleaved framing may alternate streams by channel.
//
// ReadPacket returns io.EOF when the stream ends exactly after a frame and
// io.ErrUnexpectedEOF when it ends with a truncated frame or garbage.
// A Reader is not safe for concurrent use.
type Reader struct {
	rd   io.Reader
	max  int
	buf  []byte
	r, w int // unread data is buf[r:w]

	err   error // error returned by rd along with data, reported on the next read
	eof   bool  // rd reported io.EOF
	dirty bool  // bytes were discarded since the last packet

	resync   bool // scanning for a trusted frame
	haveSSRC bool
	ssrc     uint32 // SSRC of the last packet returned

	stats Stats
}

// NewReader returns a Reader accepting packets up to MaxPacketSize bytes.
func NewReader(rd io.Reader) *Reader {
	return NewReaderSize(rd, MaxPacketSize)
}

// NewReaderSize returns a Reader accepting packets up to maxPacket bytes,
// clamped to 12..MaxPacketSize. A smaller bound makes garbage with a large
// length field cheaper to reject and bounds the buffer.
func NewReaderSize(rd io.Reader, maxPacket int) *Reader {
	maxPacket = min(max(maxPacket, rtpHeaderSize), MaxPacketSize)
	return &Reader{rd: rd, max: maxPacket}
}

// Stats returns the counters so far.
func (r *Reader) Stats() Stats { return r.stats }

// ReadPacket returns the next RTP packet. The returned slice points into the
// Reader's buffer and is valid only until the next call to ReadPacket; copy
// it to keep it. In steady state ReadPacket does not allocate.
func (r *Reader) ReadPacket() ([]byte, error) {
	for {
		if r.r == r.w && r.eof {
			if r.dirty {
				r.dirty = false
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		}
		hdr, n, v := r.evaluate()
		switch v {
		case accept:
			pkt := r.buf[r.r+hdr : r.r+hdr+n]
			r.r += hdr + n
			r.ssrc, r.haveSSRC = ssrcOf(pkt), true
			r.resync, r.dirty = false, false
			r.stats.Packets++
			if hdr == maxHeader {
				r.stats.Interleaved++
			}
			return pkt, nil
		case reject:
			if !r.resync {
				r.resync = true
				r.stats.Resyncs++
			}
			r.r++
			r.dirty = true
			r.stats.SkippedBytes++
		case needMore:
			if err := r.fill(); err != nil {
				return nil, err
			}
		}
	}
}

type verdict uint8

const (
	reject verdict = iota
	accept
	needMore
)

// evaluate decides about the frame starting at buf[r]: which header, how
// long, and whether to accept it. It never returns needMore after EOF.
func (r *Reader) evaluate() (hdr, n int, v verdict) {
	// A '$' byte is also the high byte of a 9216..9471 byte RFC 4571 frame,
	// so both readings are tried, the interleaved one first.
	n, v = r.candidate(maxHeader)
	if v == accept {
		return maxHeader, n, accept
	}
	n2, v2 := r.candidate(2)
	if v2 == accept {
		return 2, n2, accept
	}
	if v == needMore || v2 == needMore {
		return 0, 0, needMore
	}
	return 0, 0, reject
}

// candidate examines the frame at buf[r] read with a header of hdr bytes.
func (r *Reader) candidate(hdr int) (int, verdict) {
	p, avail, b := r.r, r.w-r.r, r.buf
	more := needMore
	if r.eof {
		more = reject
	}
	n, v := r.frameAt(p, hdr, more)
	if v != accept {
		return 0, v
	}
	if avail < hdr+n {
		return 0, more
	}
	pkt := b[p+hdr : p+hdr+n]
	if !plausibleRTP(pkt) {
		return 0, reject
	}
	ssrc := ssrcOf(pkt)
	switch {
	case r.haveSSRC && ssrc == r.ssrc:
		return n, accept
	case !r.haveSSRC && !r.resync:
		// The very first frame: a connection starts on a frame boundary.
		return n, accept
	}

	// A new SSRC (or garbage): trust the frame if the stream goes on after
	// it. For interleaved framing another '$' frame on an even channel right
	// after it is enough, since several streams may share the connection on
	// different channels and two magic bytes exactly a frame apart are rare
	// in garbage; otherwise a frame with the same SSRC must start within
	// confirmWindow bytes, which tolerates garbage between the frames.
	q := p + hdr + n
	if hdr == maxHeader && b[p+1]&1 == 0 {
		// RTP travels on even channels (RTCP on odd ones, unwanted here).
		if _, nh, nv := r.peek(q); nv == accept && nh == maxHeader && b[q+1]&1 == 0 {
			return n, accept
		}
	}
	v = r.confirm(q, ssrc)
	switch {
	case v == accept:
		return n, accept
	case v == needMore && !r.eof:
		return 0, needMore
	case v == needMore && q == r.w:
		return n, accept // ends exactly at the end of the stream
	}
	return 0, reject
}

// confirm looks for a frame carrying ssrc that starts within confirmWindow
// bytes from buf[q]. Rather than trying every position it searches for the
// SSRC bytes, which is fast on garbage.
func (r *Reader) confirm(q int, ssrc uint32) verdict {
	var pat [4]byte
	binary.BigEndian.PutUint32(pat[:], ssrc)
	// The SSRC is 8 bytes into the RTP header, after a 2- or 4-byte frame header.
	const ssrcOffset = 8
	lo := q + 2 + ssrcOffset
	hi := q + confirmWindow + maxHeader + ssrcOffset + len(pat)
	end := min(hi, r.w)
	for s := lo; s < end; {
		i := bytes.Index(r.buf[s:end], pat[:])
		if i < 0 {
			break
		}
		at := s + i
		for _, hdr := range [...]int{2, maxHeader} {
			start := at - ssrcOffset - hdr
			if start < q || start > q+confirmWindow {
				continue
			}
			if next, v := r.peekAs(start, hdr); v == accept && next == ssrc {
				return accept
			}
		}
		s = at + 1
	}
	if hi > r.w {
		return needMore
	}
	return reject
}

// peek examines the frame header at buf[q] and the RTP header after it,
// returning that packet's SSRC and the header length. It returns needMore when not enough is
// buffered to tell, even after EOF: the caller decides what that means.
func (r *Reader) peek(q int) (ssrc uint32, hdr int, v verdict) {
	ssrc, v = r.peekAs(q, maxHeader)
	if v == accept {
		return ssrc, maxHeader, accept
	}
	ssrc, v2 := r.peekAs(q, 2)
	if v2 == accept {
		return ssrc, 2, accept
	}
	if v == needMore || v2 == needMore {
		return 0, 0, needMore
	}
	return 0, 0, reject
}

func (r *Reader) peekAs(q, hdr int) (uint32, verdict) {
	if _, v := r.frameAt(q, hdr, needMore); v != accept {
		return 0, v
	}
	if r.w-q < hdr+rtpHeaderSize {
		return 0, needMore
	}
	return ssrcOf(r.buf[q+hdr:]), accept
}

// frameAt checks the frame header at buf[q] (hdr bytes: 2 for RFC 4571, 4 for
// '$' interleaving), its length bound and the RTP version of its first byte.
// short is the verdict when those bytes have not all arrived. On accept it
// returns the packet length; the packet itself may still be incomplete.
func (r *Reader) frameAt(q, hdr int, short verdict) (int, verdict) {
	avail, b := r.w-q, r.buf
	if avail < 1 {
		return 0, short
	}
	if hdr == maxHeader && b[q] != interleavedMagic {
		return 0, reject
	}
	if avail < hdr {
		return 0, short
	}
	n := int(binary.BigEndian.Uint16(b[q+hdr-2:]))
	if n < rtpHeaderSize || n > r.max {
		return 0, reject
	}
	if avail < hdr+1 {
		return 0, short
	}
	if b[q+hdr]>>6 != 2 {
		return 0, reject
	}
	return n, accept
}

// fill reads more data into the buffer, making room first.
func (r *Reader) fill() error {
	if r.err != nil {
		err := r.err
		r.err = nil
		return fmt.Errorf("read RTP frame: %w", err)
	}
	if r.eof {
		// evaluate never asks for more after EOF; this guards the loop anyway.
		return io.ErrUnexpectedEOF
	}
	r.makeRoom()
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			return fmt.Errorf("read RTP frame: invalid read count %d", n)
		}
		r.w += n
		switch {
		case errors.Is(err, io.EOF):
			r.eof = true
			return nil
		case err != nil && n > 0:
			r.err = err // use the data first
			return nil
		case err != nil:
			return fmt.Errorf("read RTP frame: %w", err)
		case n > 0:
			return nil
		}
	}
	return fmt.Errorf("read RTP frame: %w", io.ErrNoProgress)
}

// makeRoom compacts or grows the buffer so that a read has space.
//
// evaluate never needs more than limit bytes from buf[r], so the buffer
// never grows beyond twice that: when it is full at that size, r is past its
// middle, and sliding the data down copies at most as much as it frees. That
// keeps the cost per byte constant even when resynchronisation has to look
// far ahead at every position.
func (r *Reader) makeRoom() {
	if r.buf == nil {
		r.buf = make([]byte, min(initialBufSize, 2*r.limit()))
	}
	switch {
	case len(r.buf)-r.w >= minRead:
	case r.r >= len(r.buf)/2 || (r.w == len(r.buf) && len(r.buf) >= 2*r.limit()):
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	case r.w == len(r.buf):
		nb := make([]byte, min(2*len(r.buf), 2*r.limit()))
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r = 0
		r.buf = nb
	}
}

// limit is the most evaluate may need from buf[r]: a maximal frame, the
// confirmation window and the header of the frame after it.
func (r *Reader) limit() int {
	return maxHeader + r.max + confirmWindow + lookahead
}

// plausibleRTP reports whether pkt parses as an RTP version 2 packet: the
// CSRC list, header extension and padding must fit in it.
func plausibleRTP(pkt []byte) bool {
	if len(pkt) < rtpHeaderSize || pkt[0]>>6 != 2 {
		return false
	}
	n := rtpHeaderSize + 4*int(pkt[0]&0x0F)
	if pkt[0]&0x10 != 0 { // extension
		if len(pkt) < n+4 {
			return false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	if len(pkt) < n {
		return false
	}
	if pkt[0]&0x20 != 0 { // padding: the last byte counts padding bytes, itself included
		pad := int(pkt[len(pkt)-1])
		return pad > 0 && len(pkt)-pad >= n
	}
	return true
}

func ssrcOf(pkt []byte) uint32 {
	return binary.BigEndian.Uint32(pkt[8:12])
}
