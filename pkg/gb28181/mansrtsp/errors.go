package mansrtsp

import "errors"

// Errors returned by this package. They are wrapped with context, so compare
// them with errors.Is.
var (
	// ErrTooLarge is returned for input longer than MaxSize.
	ErrTooLarge = errors.New("mansrtsp: message too large")
	// ErrTooManyHeaders is returned for more than MaxHeaders header lines.
	ErrTooManyHeaders = errors.New("mansrtsp: too many headers")
	// ErrEmpty is returned for input without a start line.
	ErrEmpty = errors.New("mansrtsp: empty message")
	// ErrBadStartLine is returned for a malformed request or status line.
	ErrBadStartLine = errors.New("mansrtsp: malformed start line")
	// ErrUnknownMethod is returned for a request method other than PLAY,
	// PAUSE and TEARDOWN.
	ErrUnknownMethod = errors.New("mansrtsp: unknown method")
	// ErrBadVersion is returned for a version other than RTSP/x or MANSRTSP/x.
	ErrBadVersion = errors.New("mansrtsp: unsupported version")
	// ErrBadHeader is returned for a header line without a name and ':'.
	ErrBadHeader = errors.New("mansrtsp: malformed header")
	// ErrMissingCSeq is returned for a request without CSeq.
	ErrMissingCSeq = errors.New("mansrtsp: missing CSeq")
	// ErrBadCSeq is returned for a CSeq that is not a decimal uint32.
	ErrBadCSeq = errors.New("mansrtsp: malformed CSeq")
	// ErrBadRange is returned for a Range that is not npt=<start>-[<end>].
	ErrBadRange = errors.New("mansrtsp: malformed Range")
	// ErrBadScale is returned for a Scale that is not a non-zero decimal.
	ErrBadScale = errors.New("mansrtsp: malformed Scale")
	// ErrBadStatus is returned for a status code outside 100..999.
	ErrBadStatus = errors.New("mansrtsp: malformed status code")
	// ErrInvalidArgument is returned by Builder for out-of-range arguments.
	ErrInvalidArgument = errors.New("mansrtsp: invalid argument")
)
