package transcode

import "errors"

// Sentinel errors of the transcoder.
var (
	// ErrFFmpegNotFound: the ffmpeg binary is not installed or not
	// executable.
	ErrFFmpegNotFound = errors.New("transcode: ffmpeg binary not found")

	// ErrEncoderUnavailable: the configured encoder is unknown or this
	// ffmpeg build lacks it.
	ErrEncoderUnavailable = errors.New("transcode: H.264 encoder unavailable")

	// ErrNotH265: Read was given a stream whose video is not H.265.
	ErrNotH265 = errors.New("transcode: source video is not H.265")

	// ErrSourceClosed: the source stream closed before or while it was
	// transcoded.
	ErrSourceClosed = errors.New("transcode: source stream closed")

	// ErrFFmpegFailed: ffmpeg kept exiting and the restarts were given up.
	ErrFFmpegFailed = errors.New("transcode: ffmpeg failed")

	// ErrClosed: the Transcoder is closed.
	ErrClosed = errors.New("transcode: closed")

	// errIdle ends a transcode that had no reader for Linger.
	errIdle = errors.New("no reader for the linger period")

	// errDerivedClosed ends a transcode whose derived stream was closed
	// under it (hub closing).
	errDerivedClosed = errors.New("derived stream closed")
)
