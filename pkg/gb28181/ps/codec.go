package ps

// Codec identifies the elementary stream format of a Frame.
type Codec int

// Codecs the demuxer recognises.
const (
	// CodecUnknown is a stream whose format could not be determined.
	CodecUnknown Codec = iota
	// CodecH264 is H.264/AVC video in Annex-B byte stream format.
	CodecH264
	// CodecH265 is H.265/HEVC video in Annex-B byte stream format.
	CodecH265
	// CodecG711A is G.711 A-law audio (8 kHz).
	CodecG711A
	// CodecG711U is G.711 µ-law audio (8 kHz).
	CodecG711U
	// CodecAAC is AAC audio with ADTS headers.
	CodecAAC
)

// Stream types used in the program stream map (GB/T 28181 Annex C and
// ISO/IEC 13818-1 table 2-34).
const (
	// StreamTypeH264 is the PSM stream_type of H.264 video.
	StreamTypeH264 uint8 = 0x1B
	// StreamTypeH265 is the PSM stream_type of H.265 video.
	StreamTypeH265 uint8 = 0x24
	// StreamTypeAAC is the PSM stream_type of AAC audio with ADTS.
	StreamTypeAAC uint8 = 0x0F
	// StreamTypeG711A is the PSM stream_type of G.711 A-law (GB/T 28181).
	StreamTypeG711A uint8 = 0x90
	// StreamTypeG711U is the PSM stream_type of G.711 µ-law (GB/T 28181).
	StreamTypeG711U uint8 = 0x91
)

// String returns the codec name.
func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H264"
	case CodecH265:
		return "H265"
	case CodecG711A:
		return "G711A"
	case CodecG711U:
		return "G711U"
	case CodecAAC:
		return "AAC"
	}
	return "Unknown"
}

// IsVideo reports whether c is a video codec.
func (c Codec) IsVideo() bool {
	return c == CodecH264 || c == CodecH265
}

// IsAudio reports whether c is an audio codec.
func (c Codec) IsAudio() bool {
	return c == CodecG711A || c == CodecG711U || c == CodecAAC
}

// StreamType returns the PSM stream_type for c, or 0 if c has none.
func (c Codec) StreamType() uint8 {
	switch c {
	case CodecH264:
		return StreamTypeH264
	case CodecH265:
		return StreamTypeH265
	case CodecG711A:
		return StreamTypeG711A
	case CodecG711U:
		return StreamTypeG711U
	case CodecAAC:
		return StreamTypeAAC
	}
	return 0
}

// CodecFromStreamType maps a PSM (or PMT) stream_type to a Codec.
func CodecFromStreamType(t uint8) Codec {
	switch t {
	case StreamTypeH264:
		return CodecH264
	case StreamTypeH265:
		return CodecH265
	case StreamTypeG711A:
		return CodecG711A
	case StreamTypeG711U:
		return CodecG711U
	case StreamTypeAAC:
		return CodecAAC
	}
	return CodecUnknown
}
