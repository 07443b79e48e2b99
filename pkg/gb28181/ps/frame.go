package ps

// Frame is one access unit produced by the Demuxer.
//
// Payload points into a buffer owned by the Demuxer and is valid only until
// the next call of any Demuxer method; copy it to keep it.
type Frame struct {
	// Codec is the elementary stream format (CodecUnknown if undetermined).
	Codec Codec
	// StreamID is the PES stream_id (0xE0-0xEF video, 0xC0-0xDF audio).
	StreamID uint8
	// StreamType is the stream_type announced by the PSM (or the PMT for
	// MPEG-TS input), 0 if none was seen. It may disagree with Codec when
	// the announcement was wrong.
	StreamType uint8
	// PTS is the presentation timestamp, 90 kHz, unwrapped across the 33-bit
	// wrap (it keeps increasing instead of jumping back to 0).
	PTS int64
	// DTS is the decoding timestamp (equal to PTS when the stream has none).
	DTS int64
	// Keyframe is true for H.264 IDR / H.265 IRAP access units and for all
	// audio frames.
	Keyframe bool
	// Payload is the access unit: Annex-B for video, raw codec data for audio.
	Payload []byte
}
