package ids

import "errors"

var (
	// ErrLength is returned when an identifier has an unsupported number of digits.
	ErrLength = errors.New("ids: invalid length")

	// ErrNotNumeric is returned when an identifier contains a character that is not a decimal digit.
	ErrNotNumeric = errors.New("ids: not numeric")

	// ErrRange is returned when a field given to a builder is out of range.
	ErrRange = errors.New("ids: field out of range")
)
