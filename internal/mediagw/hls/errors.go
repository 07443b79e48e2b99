package hls

import "errors"

// Sentinel errors of the LL-HLS output. Errors of the Source
// (access.ErrUnauthorized, access.ErrNotFound, access.ErrUnavailable) are
// passed through, wrapped.
var (
	// ErrInvalidConfig is returned by Initialize for a bad field value; the
	// message names the field.
	ErrInvalidConfig = errors.New("hls: invalid configuration")

	// ErrServerClosed answers requests that arrive after Close.
	ErrServerClosed = errors.New("hls: server closed")

	// ErrNoTracks ends a muxer whose stream has no track HLS can carry for
	// browsers (H.264, H.265 or AAC), e.g. a G.711-only stream.
	ErrNoTracks = errors.New("hls: no track HLS can carry")

	// ErrUnsupportedCodec ends a muxer whose video codec the configured
	// variant cannot carry (H.265 in MPEG-TS).
	ErrUnsupportedCodec = errors.New("hls: codec not supported by the variant")

	// ErrNoConfig ends a muxer whose stream did not deliver the parameter
	// sets (SPS/PPS, VPS) of its first keyframe in time.
	ErrNoConfig = errors.New("hls: no codec configuration in time")

	// ErrIdle ends a muxer that received no request for IdleTimeout.
	ErrIdle = errors.New("hls: idle")

	// ErrTrackChanged ends a muxer whose video parameter sets changed: the
	// init segment cannot change, so the next request builds a new muxer.
	ErrTrackChanged = errors.New("hls: video parameters changed")

	// ErrRejected ends a muxer after maxVideoErrors consecutive video units
	// the HLS muxer refused (e.g. timestamps that went backwards): it would
	// serve nothing more, and a new muxer starts afresh.
	ErrRejected = errors.New("hls: video rejected by the muxer")

	// ErrTimeout answers a request that got no content within the request
	// wait (the first segment is not ready yet, or the stream stalls).
	ErrTimeout = errors.New("hls: no content in time")
)
