package rtsp

import "errors"

// Sentinel errors of the RTSP server. They reach logs and tests; clients
// see the RTSP status codes they map to.
var (
	// ErrUnsupportedCodec: a track's codec has no RTP mapping here.
	ErrUnsupportedCodec = errors.New("rtsp: unsupported codec")

	// ErrNoTracks: the stream has no track an RTSP reader can receive.
	ErrNoTracks = errors.New("rtsp: no supported track")

	// ErrNoKeyframe: no keyframe with parameter sets arrived in time to
	// answer DESCRIBE.
	ErrNoKeyframe = errors.New("rtsp: no keyframe with parameter sets")

	// ErrStreamEnded: the shared stream of the path ended (its hub reader
	// ended, or its last session left) while a request was using it.
	ErrStreamEnded = errors.New("rtsp: stream ended")

	// ErrServerClosed: the server is closing.
	ErrServerClosed = errors.New("rtsp: server closed")
)
