package ps

import (
	"fmt"
	"hash/crc32"
)

// DefaultMaxPESPayload is the PES payload limit used when
// Muxer.MaxPESPayload is 0 (the value of ireader's MAX_PES_PACKET).
const DefaultMaxPESPayload = 0xFF80

const (
	// muxRate is program_mux_rate in 50 bytes/s units, as ireader writes it.
	muxRate = 6106
	// scrLead is how far the SCR runs ahead of the DTS (40 ms at 90 kHz).
	scrLead = 3600

	videoStreamID = 0xE0
	audioStreamID = 0xC0
)

// mpegCRC is the CRC-32/MPEG-2 table (polynomial 0x04C11DB7, not reflected).
type mpegCRC [256]uint32

func newMPEGCRC() *mpegCRC {
	var t mpegCRC
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ crc32.IEEE
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return &t
}

func (t *mpegCRC) sum(b []byte) uint32 {
	c := uint32(0xFFFFFFFF)
	for _, v := range b {
		c = c<<8 ^ t[byte(c>>24)^v]
	}
	return c
}

// Muxer writes Program Stream packs the way GB/T 28181 cameras do: one pack
// per frame, system header and PSM before every keyframe, video in PES
// 0xE0 of at most MaxPESPayload bytes, audio in PES 0xC0 in a pack of its
// own. The zero value needs VideoCodec and/or AudioCodec set.
type Muxer struct {
	// VideoCodec is CodecH264 or CodecH265, or CodecUnknown for no video.
	VideoCodec Codec
	// AudioCodec is CodecG711A, CodecG711U or CodecAAC, or CodecUnknown
	// for no audio.
	AudioCodec Codec
	// MaxPESPayload bounds the payload of one PES; 0 means
	// DefaultMaxPESPayload. Larger frames are split over several PES.
	MaxPESPayload int

	// OmitPSM leaves out system header and PSM (fault injection: ffmpeg and
	// some DVRs send none).
	OmitPSM bool
	// PSMVideoStreamType, when not 0, is written in the PSM instead of the
	// real video stream_type (fault injection: Keda writes 0x1B for H.265).
	PSMVideoStreamType uint8
	// UnboundedVideoPES writes each video frame as one PES with
	// PES_packet_length 0 (fault injection: Hikvision does this).
	UnboundedVideoPES bool
	// AudioWithoutPack writes audio PES without a pack header, as GB/T 28181
	// Annex C shows it.
	AudioWithoutPack bool

	crc *mpegCRC
}

// AppendVideo appends the pack of one video access unit (Annex-B) to dst.
// pts and dts are 90 kHz timestamps (written modulo 2^33).
func (m *Muxer) AppendVideo(dst []byte, pts, dts int64, keyframe bool, au []byte) ([]byte, error) {
	if !m.VideoCodec.IsVideo() {
		return dst, fmt.Errorf("video codec %v: %w", m.VideoCodec, ErrUnsupportedCodec)
	}
	if len(au) == 0 {
		return dst, ErrEmptyFrame
	}
	dst = appendPackHeader(dst, dts)
	if keyframe && !m.OmitPSM {
		dst = m.appendSystemHeader(dst)
		dst = m.appendPSM(dst)
	}
	if m.UnboundedVideoPES {
		dst = appendPESHeader(dst, videoStreamID, 0, true, pts, dts)
		return append(dst, au...), nil
	}
	maxPay := m.MaxPESPayload
	if maxPay <= 0 || maxPay > DefaultMaxPESPayload {
		maxPay = DefaultMaxPESPayload
	}
	for first := true; len(au) > 0; first = false {
		n := min(len(au), maxPay)
		dst = appendPESHeader(dst, videoStreamID, n, first, pts, dts)
		dst = append(dst, au[:n]...)
		au = au[n:]
	}
	return dst, nil
}

// AppendAudio appends one audio frame, in a pack of its own unless
// AudioWithoutPack is set.
func (m *Muxer) AppendAudio(dst []byte, pts int64, frame []byte) ([]byte, error) {
	if !m.AudioCodec.IsAudio() {
		return dst, fmt.Errorf("audio codec %v: %w", m.AudioCodec, ErrUnsupportedCodec)
	}
	if len(frame) == 0 {
		return dst, ErrEmptyFrame
	}
	maxPay := m.MaxPESPayload
	if maxPay <= 0 || maxPay > DefaultMaxPESPayload {
		maxPay = DefaultMaxPESPayload
	}
	if len(frame) > maxPay {
		return dst, fmt.Errorf("audio frame of %d bytes: %w", len(frame), ErrFrameTooLarge)
	}
	if !m.AudioWithoutPack {
		dst = appendPackHeader(dst, pts)
	}
	dst = appendPESHeader(dst, audioStreamID, len(frame), true, pts, pts)
	return append(dst, frame...), nil
}

// AppendEmptyPack appends a pack header alone (no PES), SCR derived from
// dts as for a frame: a sender with nothing to send (a paused playback)
// keeps its RTP flowing with it, and a demuxer takes it as an empty pack.
func AppendEmptyPack(dst []byte, dts int64) []byte { return appendPackHeader(dst, dts) }

// appendPackHeader writes an MPEG-2 pack header with SCR = dts - 3600.
func appendPackHeader(dst []byte, dts int64) []byte {
	scr := uint64(max(dts-scrLead, 0)) & mask33
	rate := uint32(muxRate)
	return append(dst, 0, 0, 1, idPack,
		0x44|byte(scr>>27&0x38)|byte(scr>>28&0x03),
		byte(scr>>20),
		byte(scr>>12&0xF8)|0x04|byte(scr>>13&0x03),
		byte(scr>>5),
		byte(scr<<3&0xF8)|0x04, // SCR extension 0
		0x01,
		byte(rate>>14), byte(rate>>6), byte(rate<<2)|0x03,
		0xF8) // no pack stuffing
}

func (m *Muxer) appendSystemHeader(dst []byte) []byte {
	var n, audioBound, videoBound byte
	if m.VideoCodec.IsVideo() {
		n++
		videoBound = 1
	}
	if m.AudioCodec.IsAudio() {
		n++
		audioBound = 1
	}
	l := 6 + 3*int(n)
	rate := uint32(muxRate)
	dst = append(dst, 0, 0, 1, idSystemHeader, byte(l>>8), byte(l),
		0x80|byte(rate>>15), byte(rate>>7), byte(rate<<1)|0x01,
		audioBound<<2,   // audio_bound, fixed_flag 0, CSPS_flag 0
		0xE0|videoBound, // audio/video lock, marker, video_bound
		0x7F)            // packet_rate_restriction 0, reserved
	if m.VideoCodec.IsVideo() {
		dst = append(dst, videoStreamID, 0xE0|400>>8, 400&0xFF) // 400 KiB, scale 1024
	}
	if m.AudioCodec.IsAudio() {
		dst = append(dst, audioStreamID, 0xC0, 32) // 4 KiB, scale 128
	}
	return dst
}

func (m *Muxer) appendPSM(dst []byte) []byte {
	start := len(dst)
	var n int
	if m.VideoCodec.IsVideo() {
		n++
	}
	if m.AudioCodec.IsAudio() {
		n++
	}
	l := 10 + 4*n
	dst = append(dst, 0, 0, 1, idPSM, byte(l>>8), byte(l),
		0xE0, // current_next_indicator 1, version 0
		0xFF, // marker
		0, 0, // program_stream_info_length
		0, byte(4*n))
	if m.VideoCodec.IsVideo() {
		st := m.VideoCodec.StreamType()
		if m.PSMVideoStreamType != 0 {
			st = m.PSMVideoStreamType
		}
		dst = append(dst, st, videoStreamID, 0, 0)
	}
	if m.AudioCodec.IsAudio() {
		dst = append(dst, m.AudioCodec.StreamType(), audioStreamID, 0, 0)
	}
	if m.crc == nil {
		m.crc = newMPEGCRC()
	}
	c := m.crc.sum(dst[start:])
	return append(dst, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
}

// appendPESHeader writes a PES header for payloadLen bytes (0 = unbounded);
// the first PES of a frame carries PTS, and DTS when it differs.
func appendPESHeader(dst []byte, id byte, payloadLen int, first bool, pts, dts int64) []byte {
	var flags, hdrLen byte
	if first {
		flags, hdrLen = 0x80, 5
		if dts != pts {
			flags, hdrLen = 0xC0, 10
		}
	}
	l := 0
	if payloadLen > 0 {
		l = 3 + int(hdrLen) + payloadLen
	}
	align := byte(0x80)
	if first {
		align = 0x84 // data_alignment_indicator: an access unit starts here
	}
	dst = append(dst, 0, 0, 1, id, byte(l>>8), byte(l), align, flags, hdrLen)
	if flags&0x80 != 0 {
		dst = appendTS(dst, flags>>6, uint64(pts))
	}
	if flags&0x40 != 0 {
		dst = appendTS(dst, 0x1, uint64(dts))
	}
	return dst
}

// appendTS writes a 5-byte PTS/DTS field with the given 4-bit prefix.
func appendTS(dst []byte, prefix byte, ts uint64) []byte {
	ts &= mask33
	return append(dst,
		prefix<<4|byte(ts>>29&0x0E)|1,
		byte(ts>>22),
		byte(ts>>14&0xFE)|1,
		byte(ts>>7),
		byte(ts<<1)|1)
}
