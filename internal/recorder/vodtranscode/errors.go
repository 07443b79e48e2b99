package vodtranscode

import "errors"

// Sentinel errors of the package.
var (
	// ErrInvalid: a Transcoder that cannot start.
	ErrInvalid = errors.New("vodtranscode: invalid configuration")
	// ErrClosed: the Transcoder is closed.
	ErrClosed = errors.New("vodtranscode: closed")
	// ErrNotH265: the segment's video is not H.265 (nothing to transcode).
	ErrNotH265 = errors.New("vodtranscode: the recording's video is not H.265")
	// ErrNoVideo: no video key frame in the stretch asked for.
	ErrNoVideo = errors.New("vodtranscode: no video key frame in the range")
	// ErrSegment: the segment object cannot be read as a segment.
	ErrSegment = errors.New("vodtranscode: unreadable segment")
	// ErrFFmpeg: ffmpeg failed or gave no H.264.
	ErrFFmpeg = errors.New("vodtranscode: ffmpeg failed")
)
