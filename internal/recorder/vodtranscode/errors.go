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
	// ErrRead: the segment object could not be read (the store).
	ErrRead = errors.New("vodtranscode: segment read failed")
	// ErrTooLong: a stretch of more than MaxStretchBytes of the segment.
	ErrTooLong = errors.New("vodtranscode: stretch too long")
	// ErrBusy: every slot is taken and enough requests wait already.
	ErrBusy = errors.New("vodtranscode: too many transcodes waiting")
	// ErrFFmpeg: ffmpeg failed or gave no H.264.
	ErrFFmpeg = errors.New("vodtranscode: ffmpeg failed")
)
