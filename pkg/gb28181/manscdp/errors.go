package manscdp

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can test them with errors.Is.
var (
	// ErrTooLarge is returned for a body longer than MaxBodySize.
	ErrTooLarge = errors.New("manscdp: body too large")

	// ErrEmpty is returned for a body with no XML in it.
	ErrEmpty = errors.New("manscdp: empty body")

	// ErrMalformed is returned when the body is not well-formed enough to decode.
	ErrMalformed = errors.New("manscdp: malformed XML")

	// ErrUnknownRoot is returned when the root element is not Query, Control, Notify or Response.
	// Decode still returns an *Unknown carrying the header.
	ErrUnknownRoot = errors.New("manscdp: unknown root element")

	// ErrUnknownCmdType is returned when the (root, CmdType) pair is not supported.
	// Decode still returns an *Unknown carrying the header so the caller can answer and log it.
	ErrUnknownCmdType = errors.New("manscdp: unknown CmdType")

	// ErrInvalidTime is returned for a time value not in the GB format.
	ErrInvalidTime = errors.New("manscdp: invalid time")

	// ErrInvalidMessage is returned by Encode for a message that cannot be sent as is.
	ErrInvalidMessage = errors.New("manscdp: invalid message")

	// ErrNotAggregatable is returned by Aggregator.Add for a message that is not a multi-packet answer.
	ErrNotAggregatable = errors.New("manscdp: message is not a multi-packet answer")

	// ErrTooManyPending is returned by Aggregator.Add when MaxPending results are already open.
	ErrTooManyPending = errors.New("manscdp: too many pending multi-packet answers")
)
