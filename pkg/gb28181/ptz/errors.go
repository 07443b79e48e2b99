package ptz

import "errors"

var (
	// ErrLength is returned when a PTZCmd is not 16 hex characters (8 bytes).
	ErrLength = errors.New("ptz: invalid length")

	// ErrNotHex is returned when a PTZCmd contains a non-hex character.
	ErrNotHex = errors.New("ptz: not hex")

	// ErrHeader is returned when the first byte is not 0xA5.
	ErrHeader = errors.New("ptz: first byte is not 0xA5")

	// ErrChecksum describes a command whose check nibble or checksum byte is
	// wrong. Decode does not fail with it; see Decoded.ChecksumErr.
	ErrChecksum = errors.New("ptz: checksum mismatch")

	// ErrRange is returned when a field does not fit its bits or a parameter
	// is out of its documented range.
	ErrRange = errors.New("ptz: value out of range")

	// ErrConflict is returned by Move and FocusIris when opposite directions
	// are requested together (up and down, zoom in and out, iris open and close …).
	ErrConflict = errors.New("ptz: conflicting directions")

	// ErrUnknown is returned by Request.Command for an action, direction or
	// lens movement it does not know.
	ErrUnknown = errors.New("ptz: unknown name")
)
