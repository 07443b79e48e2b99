// Package pstest makes synthetic H.264 and H.265 access units for tests of
// PS muxing, demuxing and everything built on them. The payloads are random
// bytes without zeros, so they hold no start code and survive any correct
// mux/demux round trip byte for byte.
package pstest

import (
	"math/rand/v2"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// AccessUnit is one synthetic Annex-B access unit.
type AccessUnit struct {
	// PTS and DTS are equal (no B-frames), 90 kHz, 25 fps from 1000.
	PTS, DTS int64
	Keyframe bool
	Data     []byte
}

// Synthetic returns n access units of codec (H.264 unless ps.CodecH265),
// a keyframe (with parameter sets) every 10, keyframe slices of size bytes
// and other slices of size/4+1. The same seed gives the same units.
func Synthetic(codec ps.Codec, n, size int, seed uint64) []AccessUnit {
	r := rand.New(rand.NewPCG(seed, 1))
	aus := make([]AccessUnit, 0, n)
	for i := range n {
		key := i%10 == 0
		var au []byte
		if codec == ps.CodecH265 {
			au = nal([]byte{0x46, 0x01, 0x50}, nil) // AUD
			if key {
				au = append(au, nal([]byte{0x40, 0x01}, NoZero(r, 20))...) // VPS
				au = append(au, nal([]byte{0x42, 0x01}, NoZero(r, 30))...) // SPS
				au = append(au, nal([]byte{0x44, 0x01}, NoZero(r, 6))...)  // PPS
				au = append(au, nal([]byte{0x26, 0x01, 0xAF}, NoZero(r, size))...)
			} else {
				au = append(au, nal([]byte{0x02, 0x01, 0xD0}, NoZero(r, size/4+1))...)
			}
		} else {
			au = nal([]byte{0x09, 0xF0}, nil) // AUD
			if key {
				au = append(au, nal([]byte{0x67, 0x42}, NoZero(r, 10))...) // SPS
				au = append(au, nal([]byte{0x68, 0xCE}, NoZero(r, 4))...)  // PPS
				au = append(au, nal([]byte{0x65, 0x88}, NoZero(r, size))...)
			} else {
				au = append(au, nal([]byte{0x41, 0x9A}, NoZero(r, size/4+1))...)
			}
		}
		ts := int64(i)*3600 + 1000
		aus = append(aus, AccessUnit{PTS: ts, DTS: ts, Keyframe: key, Data: au})
	}
	return aus
}

// NoZero returns n pseudo-random bytes without zeros.
func NoZero(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + r.IntN(255))
	}
	return b
}

func nal(hdr, body []byte) []byte {
	return append(append([]byte{0, 0, 0, 1}, hdr...), body...)
}
