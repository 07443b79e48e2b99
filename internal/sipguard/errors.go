package sipguard

import "errors"

// Sentinel errors returned (wrapped with the reason) by Check.
var (
	// ErrMalformed is a message that is not structurally a SIP message.
	ErrMalformed = errors.New("sipguard: malformed SIP message")

	// ErrTooLarge is a message, or a declared body, over the size limit.
	ErrTooLarge = errors.New("sipguard: SIP message too large")
)
