package console

// Timeouts of the console the black-box tests derive their waits from.
const (
	// SipCallTimeout bounds one call to sipserver.
	SipCallTimeout = sipCallTimeout
	// DownloadTimeout is how long a download of the tests' short ranges
	// may run: its session's activation wait plus ffmpeg's I/O timeout.
	DownloadTimeout = activeWait + ffmpegIOTimeout
)

// The OpenAPI documents the tests validate real requests and answers against.
var (
	OpenAPI         = openAPI
	InternalOpenAPI = internalOpenAPI
)
