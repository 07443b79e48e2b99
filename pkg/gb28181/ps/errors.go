package ps

import "errors"

// Sentinel errors returned by the demuxer and the muxer.
var (
	// ErrFrameTooLarge is returned when an access unit grows beyond the
	// configured maximum size; the frame is dropped and the demuxer resyncs.
	ErrFrameTooLarge = errors.New("ps: frame too large")

	// ErrUnsupportedCodec is returned by the muxer for codecs it cannot carry.
	ErrUnsupportedCodec = errors.New("ps: unsupported codec")

	// ErrEmptyFrame is returned by the muxer when asked to write no data.
	ErrEmptyFrame = errors.New("ps: empty frame")
)
