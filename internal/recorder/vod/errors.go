package vod

import "errors"

// Sentinel errors of the package; each maps to one HTTP status and code.
var (
	// ErrBadRequest: the URL or its query is not one the server serves
	// (400 bad_request).
	ErrBadRequest = errors.New("vod: bad request")
	// ErrNotFound: no such route, or a recording ID that is not the
	// channel's (404 not_found).
	ErrNotFound = errors.New("vod: not found")
	// ErrNoRecordings: nothing recorded overlaps the range (404
	// no_recordings).
	ErrNoRecordings = errors.New("vod: no recordings in the range")
	// ErrUnauthorized: no play token, or one that is forged, malformed or
	// expired (401 unauthorized).
	ErrUnauthorized = errors.New("vod: play token missing or invalid")
	// ErrForbidden: a valid token for another path or without the
	// playback right (403 forbidden).
	ErrForbidden = errors.New("vod: play token does not open this recording")
	// ErrRevoked: the console revoked the token's user (403
	// viewer_revoked).
	ErrRevoked = errors.New("vod: play token revoked")
	// ErrUnconfigured: the node has no play_token_secret (503
	// vod_unconfigured).
	ErrUnconfigured = errors.New("vod: play_token_secret is not set")
	// ErrUnavailable: the index, the store or the audit is not answering
	// (503 unavailable).
	ErrUnavailable = errors.New("vod: unavailable")
	// ErrNoTranscoder: a video=h264 playlist of H.265 recordings on a node
	// without a transcoder (503 transcode_unavailable).
	ErrNoTranscoder = errors.New("vod: this node does not transcode H.265 (playback.transcode)")
	// ErrInvalid: a Server that cannot start.
	ErrInvalid = errors.New("vod: invalid configuration")
)
