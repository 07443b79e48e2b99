package segment

import (
	"math/bits"
)

// G.711 is stored as FLAC (RFC 9639): fMP4 has no G.711 sample entry, and
// browsers play FLAC in MP4 (Chromium, Firefox, Safari) but not LPCM
// ('ipcm'), which made a recording with audio unplayable in a <video>.
// FLAC is lossless, so the decoded G.711 samples are kept exactly, and at
// about 4–8 bits a sample it is no larger than the G.711 received, where
// 16-bit LPCM doubled it. One G.711 payload becomes one FLAC frame (one MP4
// sample) of a variable-block-size stream: the frame's header carries its
// first sample's number and its length.

// flacMaxBlock is the most samples per channel one frame takes (the 16-bit
// block size field of the frame header); a longer payload is split.
const flacMaxBlock = 65535

// flacRiceMax is the largest Rice parameter of the 4-bit parameter coding.
const flacRiceMax = 14

// flacBitsPerSample is the sample size of the stream: G.711 decodes to
// 16-bit linear PCM.
const flacBitsPerSample = 16

// flacEncoder turns G.711 payloads into FLAC frames.
type flacEncoder struct {
	law      *[256]int16
	channels int
	rateCode byte
	next     uint64 // number of the next frame's first sample

	pcm      []int32 // one channel's samples of the frame being encoded
	residual []int32
	bw       bitWriter
}

func newFLACEncoder(law *[256]int16, channels, rate int) *flacEncoder {
	if channels < 1 {
		channels = 1
	}
	return &flacEncoder{law: law, channels: channels, rateCode: flacRateCode(rate)}
}

// flacRateCode is the frame header's code for a sample rate; 0 says "the
// STREAMINFO's", for rates without a code of their own.
func flacRateCode(rate int) byte {
	switch rate {
	case 8000:
		return 4
	case 16000:
		return 5
	case 22050:
		return 6
	case 24000:
		return 7
	case 32000:
		return 8
	case 44100:
		return 9
	case 48000:
		return 10
	case 96000:
		return 11
	}
	return 0
}

// encode appends to dst the FLAC frames of one G.711 payload (interleaved
// when it has several channels) and returns dst with the frames' sizes and
// sample counts appended to sizes and durs.
func (e *flacEncoder) encode(dst []byte, payload []byte, sizes, durs []uint32) ([]byte, []uint32, []uint32) {
	total := len(payload) / e.channels
	for off := 0; off < total; off += flacMaxBlock {
		n := min(total-off, flacMaxBlock)
		start := len(dst)
		dst = e.frame(dst, payload[off*e.channels:(off+n)*e.channels], n)
		sizes = append(sizes, uint32(len(dst)-start))
		durs = append(durs, uint32(n))
	}
	return dst, sizes, durs
}

// frame appends one frame of n samples per channel.
func (e *flacEncoder) frame(dst []byte, payload []byte, n int) []byte {
	e.bw.buf = dst
	start := len(dst)
	// Sync code, reserved 0, variable block size; block size in 16 bits
	// after the number, the rate's code, channels, 16-bit samples.
	e.bw.buf = append(e.bw.buf, 0xFF, 0xF9, 0x70|e.rateCode, byte(e.channels-1)<<4|0x08)
	e.bw.buf = appendUTF8Number(e.bw.buf, e.next)
	e.bw.buf = append(e.bw.buf, byte((n-1)>>8), byte(n-1))
	e.bw.buf = append(e.bw.buf, crc8(e.bw.buf[start:]))
	for ch := range e.channels {
		e.pcm = e.pcm[:0]
		for i := ch; i < len(payload); i += e.channels {
			e.pcm = append(e.pcm, int32(e.law[payload[i]]))
		}
		e.subframe(e.pcm)
	}
	e.bw.align()
	sum := crc16(e.bw.buf[start:])
	e.bw.buf = append(e.bw.buf, byte(sum>>8), byte(sum))
	e.next += uint64(n)
	return e.bw.buf
}

// subframe writes one channel's samples as the smallest of CONSTANT,
// FIXED (orders 0–4, partition order 0) and VERBATIM.
func (e *flacEncoder) subframe(x []int32) {
	var or int32
	constant := true
	for _, v := range x {
		or |= v
		constant = constant && v == x[0]
	}
	wasted := 0
	if or != 0 {
		wasted = bits.TrailingZeros32(uint32(or))
	}
	if constant {
		wasted = 0
	}
	size := flacBitsPerSample - wasted
	if wasted > 0 {
		for i := range x {
			x[i] >>= wasted
		}
	}
	header := func(typ uint64) {
		e.bw.write(typ<<1|b2u(wasted > 0), 8)
		if wasted > 0 {
			e.bw.write(1, wasted) // unary wasted-1: zeros then a 1
		}
	}
	if constant {
		header(0)
		e.bw.write(uint64(uint32(x[0]))&(1<<size-1), size)
		return
	}
	verbatim := len(x) * size
	order, k, cost := e.bestFixed(x)
	if order < 0 || order*size+10+cost >= verbatim {
		header(1)
		for _, v := range x {
			e.bw.write(uint64(uint32(v))&(1<<size-1), size)
		}
		return
	}
	header(uint64(8 | order))
	for _, v := range x[:order] {
		e.bw.write(uint64(uint32(v))&(1<<size-1), size)
	}
	e.bw.write(0, 2) // Rice, 4-bit parameters
	e.bw.write(0, 4) // partition order 0
	e.bw.write(uint64(k), 4)
	for _, r := range e.residual {
		u := uint64(uint32(r<<1 ^ r>>31))
		q := int(u >> k)
		if q+1+k <= 32 {
			// q zeros, a 1, then the k low bits: one write.
			e.bw.write(1<<k|u&(1<<k-1), q+1+k)
			continue
		}
		for q >= 32 {
			e.bw.write(0, 32)
			q -= 32
		}
		e.bw.write(1, q+1)
		if k > 0 {
			e.bw.write(u&(1<<k-1), k)
		}
	}
}

// bestFixed finds the fixed predictor order whose residual is smallest
// (summed magnitudes, as libFLAC estimates it), leaves that residual in
// e.residual, and returns its Rice parameter and coded bits; order -1 when
// x is too short for any order. One pass for the orders and a few for the
// parameter: the recorder encodes every channel's audio, so this is its
// hot loop.
func (e *flacEncoder) bestFixed(x []int32) (order, k, cost int) {
	if len(x) == 0 {
		return -1, 0, 0
	}
	maxOrder := min(4, len(x)-1)
	var sums [5]uint64
	for i := maxOrder; i < len(x); i++ {
		d1 := x[i] - x[i-min(1, maxOrder)]
		sums[0] += abs32(x[i])
		if maxOrder < 1 {
			continue
		}
		sums[1] += abs32(d1)
		if maxOrder < 2 {
			continue
		}
		d2 := d1 - (x[i-1] - x[i-2])
		sums[2] += abs32(d2)
		if maxOrder < 3 {
			continue
		}
		d3 := d2 - (x[i-1] - 2*x[i-2] + x[i-3])
		sums[3] += abs32(d3)
		if maxOrder < 4 {
			continue
		}
		sums[4] += abs32(d3 - (x[i-1] - 3*x[i-2] + 3*x[i-3] - x[i-4]))
	}
	order = 0
	for o := 1; o <= maxOrder; o++ {
		if sums[o] < sums[order] {
			order = o
		}
	}
	e.fixedResidual(x, order)
	k, cost = riceCost(e.residual)
	return order, k, cost
}

func abs32(v int32) uint64 {
	if v < 0 {
		return uint64(-int64(v))
	}
	return uint64(v)
}

// fixedResidual fills e.residual with the residual of the fixed predictor
// of order o (RFC 9639 §9.2.5).
func (e *flacEncoder) fixedResidual(x []int32, o int) {
	e.residual = e.residual[:0]
	for i := o; i < len(x); i++ {
		var r int32
		switch o {
		case 0:
			r = x[i]
		case 1:
			r = x[i] - x[i-1]
		case 2:
			r = x[i] - 2*x[i-1] + x[i-2]
		case 3:
			r = x[i] - 3*x[i-1] + 3*x[i-2] - x[i-3]
		case 4:
			r = x[i] - 4*x[i-1] + 6*x[i-2] - 4*x[i-3] + x[i-4]
		}
		e.residual = append(e.residual, r)
	}
}

// riceCost returns the Rice parameter coding r in the fewest bits, and
// those bits: the parameter near log2 of the mean zigzag value, and its
// neighbours, counted exactly.
func riceCost(r []int32) (k, cost int) {
	if len(r) == 0 {
		return 0, 0
	}
	var sum uint64
	for _, v := range r {
		sum += uint64(uint32(v<<1 ^ v>>31))
	}
	guess := max(bits.Len64(sum/uint64(len(r)))-1, 0)
	cost = -1
	for p := max(guess-1, 0); p <= min(guess+1, flacRiceMax); p++ {
		c := len(r) * (p + 1)
		for _, v := range r {
			c += int(uint32(v<<1^v>>31) >> p)
		}
		if cost < 0 || c < cost {
			k, cost = p, c
		}
	}
	return k, cost
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// appendUTF8Number appends v in the frame header's extended UTF-8 coding
// (up to 36 bits, 7 bytes).
func appendUTF8Number(dst []byte, v uint64) []byte {
	if v < 0x80 {
		return append(dst, byte(v))
	}
	n := 2
	for n < 7 && v >= 1<<(5*n+1) {
		n++
	}
	first := byte(0xFF << (8 - n))
	if n == 7 {
		first = 0xFE
	}
	dst = append(dst, first|byte(v>>(6*(n-1))))
	for i := n - 2; i >= 0; i-- {
		dst = append(dst, 0x80|byte(v>>(6*i))&0x3F)
	}
	return dst
}

// bitWriter appends bits, most significant first, to buf.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc int
}

// write appends the low n bits of v (n ≤ 32).
func (w *bitWriter) write(v uint64, n int) {
	w.acc = w.acc<<n | v&(1<<n-1)
	w.nacc += n
	for w.nacc >= 8 {
		w.nacc -= 8
		w.buf = append(w.buf, byte(w.acc>>w.nacc))
	}
}

// align pads with zero bits to a byte boundary.
func (w *bitWriter) align() {
	if w.nacc > 0 {
		w.write(0, 8-w.nacc)
	}
	w.acc = 0
}

// crc8Table and crc16Table are FLAC's CRCs a byte at a time.
var crc8Table, crc16Table = crcTables()

func crcTables() (t8 [256]byte, t16 [256]uint16) {
	for i := range 256 {
		c8 := byte(i)
		c16 := uint16(i) << 8
		for range 8 {
			if c8&0x80 != 0 {
				c8 = c8<<1 ^ 0x07
			} else {
				c8 <<= 1
			}
			if c16&0x8000 != 0 {
				c16 = c16<<1 ^ 0x8005
			} else {
				c16 <<= 1
			}
		}
		t8[i], t16[i] = c8, c16
	}
	return t8, t16
}

// crc8 is FLAC's header CRC: polynomial x^8+x^2+x+1, initial 0.
func crc8(b []byte) byte {
	var c byte
	for _, v := range b {
		c = crc8Table[c^v]
	}
	return c
}

// crc16 is FLAC's frame CRC: polynomial x^16+x^15+x^2+1, initial 0.
func crc16(b []byte) uint16 {
	var c uint16
	for _, v := range b {
		c = c<<8 ^ crc16Table[byte(c>>8)^v]
	}
	return c
}
