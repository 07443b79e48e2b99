package sdp

import "errors"

// Errors returned by this package. They are wrapped with context, so compare
// them with errors.Is.
var (
	// ErrTooLarge is returned for input longer than MaxSize.
	ErrTooLarge = errors.New("sdp: input too large")
	// ErrTooManyLines is returned for input with more than MaxLines lines.
	ErrTooManyLines = errors.New("sdp: too many lines")
	// ErrTooManyMedias is returned for input with more than MaxMedias m= lines.
	ErrTooManyMedias = errors.New("sdp: too many media descriptions")
	// ErrMissingVersion is returned when the first line is not v=.
	ErrMissingVersion = errors.New("sdp: missing v= line")
	// ErrBadVersion is returned when v= is not 0.
	ErrBadVersion = errors.New("sdp: unsupported version")
	// ErrMissingOrigin is returned when there is no o= line.
	ErrMissingOrigin = errors.New("sdp: missing o= line")
	// ErrBadOrigin is returned for an o= line without its six fields.
	ErrBadOrigin = errors.New("sdp: malformed o= line")
	// ErrBadConnection is returned for a c= line without its three fields.
	ErrBadConnection = errors.New("sdp: malformed c= line")
	// ErrBadTime is returned for a t= line that is not two unsigned integers.
	ErrBadTime = errors.New("sdp: malformed t= line")
	// ErrBadMedia is returned for a malformed m= line.
	ErrBadMedia = errors.New("sdp: malformed m= line")
	// ErrBadPort is returned for an m= port outside 0..65535.
	ErrBadPort = errors.New("sdp: port out of range")
	// ErrInvalidSSRC is returned for a y= value that is not a decimal
	// uint32 of at most 10 digits. Parse still returns the session.
	ErrInvalidSSRC = errors.New("sdp: invalid y= SSRC")

	// ErrInvalidOffer is returned by the offer builders for bad parameters.
	ErrInvalidOffer = errors.New("sdp: invalid offer parameters")

	// ErrNoMedia is returned by ResolvePlan when offer or answer has no m= line.
	ErrNoMedia = errors.New("sdp: no media description")
	// ErrNoAddress is returned by ResolvePlan when the side that must be
	// reached has no usable c= address or m= port.
	ErrNoAddress = errors.New("sdp: no media address")

	// ErrBadDomain is returned for a SIP domain or server ID that does not
	// start with at least 8 decimal digits.
	ErrBadDomain = errors.New("sdp: bad SIP domain ID")
	// ErrExhausted is returned by Allocator.Allocate when all 9999
	// sequence numbers of the domain are in use.
	ErrExhausted = errors.New("sdp: SSRC sequence numbers exhausted")
	// ErrInUse is returned by Allocator.Reserve for an SSRC already taken.
	ErrInUse = errors.New("sdp: SSRC already in use")
	// ErrForeignSSRC is returned by Allocator.Reserve for an SSRC that does
	// not follow the y= rules of the allocator's domain.
	ErrForeignSSRC = errors.New("sdp: SSRC not from this domain")
)
