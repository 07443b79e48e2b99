package ptz

import (
	"encoding/hex"
	"fmt"
	"strings"
)

const (
	// Size is the length of a command in bytes.
	Size = 8
	// header is byte 1 of every command.
	header = 0xA5
	// DefaultAddress is the device address the constructors use. Devices
	// reached over GB28181 practically always use 1.
	DefaultAddress = 1
	// MaxAddress is the largest 12-bit address.
	MaxAddress = 0xFFF
)

// Command is one front-end control command, field by field. Use the
// constructors to build meaningful ones; Decode fills it from the wire.
type Command struct {
	// Address is the 12-bit device address (byte 3 and low nibble of byte 7).
	Address uint16
	// Version is the protocol version nibble (high nibble of byte 2), 0 in
	// every known edition.
	Version uint8
	// Instruction is byte 4: it selects PTZ, FI, preset, cruise, scan or aux.
	Instruction uint8
	// Data1 is byte 5.
	Data1 uint8
	// Data2 is byte 6.
	Data2 uint8
	// Data3 is the 4-bit value in the high nibble of byte 7.
	Data3 uint8
}

// Validate checks that every field fits its bits.
func (c Command) Validate() error {
	switch {
	case c.Address > MaxAddress:
		return fmt.Errorf("address %d: %w", c.Address, ErrRange)
	case c.Version > 0xF:
		return fmt.Errorf("version %d: %w", c.Version, ErrRange)
	case c.Data3 > 0xF:
		return fmt.Errorf("data 3 %d: %w", c.Data3, ErrRange)
	}
	return nil
}

// Bytes returns the 8 wire bytes with byte 2's check nibble and byte 8's
// checksum computed.
func (c Command) Bytes() ([Size]byte, error) {
	var b [Size]byte
	if err := c.Validate(); err != nil {
		return b, fmt.Errorf("encode PTZCmd: %w", err)
	}
	b[0] = header
	b[1] = c.Version<<4 | checkNibble(c.Version)
	b[2] = byte(c.Address)
	b[3] = c.Instruction
	b[4] = c.Data1
	b[5] = c.Data2
	b[6] = c.Data3<<4 | byte(c.Address>>8)
	b[7] = checksum(b)
	return b, nil
}

// Encode returns the command as the 16 upper-case hex characters of a
// PTZCmd element.
func (c Command) Encode() (string, error) {
	b, err := c.Bytes()
	if err != nil {
		return "", err
	}
	return strings.ToUpper(hex.EncodeToString(b[:])), nil
}

// String returns the encoded command, or a marker if a field is out of range.
func (c Command) String() string {
	s, err := c.Encode()
	if err != nil {
		return "invalid PTZCmd: " + err.Error()
	}
	return s
}

// Decoded is a command read from the wire together with the result of the
// check fields, which Decode does not enforce.
type Decoded struct {
	Command
	// Raw holds the bytes as received.
	Raw [Size]byte
	// ChecksumOK reports that both the check nibble of byte 2 and the
	// checksum in byte 8 matched.
	ChecksumOK bool
}

// ChecksumErr returns nil if the check fields matched, and otherwise an
// error wrapping ErrChecksum that says which field was wrong, for logging.
func (d Decoded) ChecksumErr() error {
	if d.ChecksumOK {
		return nil
	}
	wantCheck := checkNibble(d.Raw[1] >> 4)
	if d.Raw[1]&0xF != wantCheck {
		return fmt.Errorf("PTZCmd check nibble %X, want %X: %w", d.Raw[1]&0xF, wantCheck, ErrChecksum)
	}
	return fmt.Errorf("PTZCmd checksum %02X, want %02X: %w", d.Raw[7], checksum(d.Raw), ErrChecksum)
}

// Decode parses a PTZCmd string: 16 hex characters in either case,
// surrounding whitespace ignored. It fails on a wrong length, a non-hex
// character or a first byte other than 0xA5. A wrong check nibble or
// checksum does not fail: it is reported in Decoded.ChecksumOK.
func Decode(s string) (Decoded, error) {
	s = strings.TrimSpace(s)
	if len(s) != 2*Size {
		return Decoded{}, fmt.Errorf("decode PTZCmd %s: %w", quote(s), ErrLength)
	}
	var b [Size]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return Decoded{}, fmt.Errorf("decode PTZCmd %s: %w", quote(s), ErrNotHex)
	}
	return DecodeBytes(b[:])
}

// DecodeBytes is Decode for the 8 binary bytes.
func DecodeBytes(b []byte) (Decoded, error) {
	if len(b) != Size {
		return Decoded{}, fmt.Errorf("decode PTZCmd: %d bytes: %w", len(b), ErrLength)
	}
	if b[0] != header {
		return Decoded{}, fmt.Errorf("decode PTZCmd: first byte %02X: %w", b[0], ErrHeader)
	}
	var d Decoded
	copy(d.Raw[:], b)
	d.Command = Command{
		Address:     uint16(b[6]&0xF)<<8 | uint16(b[2]),
		Version:     b[1] >> 4,
		Instruction: b[3],
		Data1:       b[4],
		Data2:       b[5],
		Data3:       b[6] >> 4,
	}
	d.ChecksumOK = b[1]&0xF == checkNibble(b[1]>>4) && b[7] == checksum(d.Raw)
	return d, nil
}

// checkNibble is the low nibble of byte 2: the sum of the nibbles of byte 1
// and the version, mod 16.
func checkNibble(version uint8) uint8 {
	return (header>>4 + header&0xF + version) & 0xF
}

// checksum is byte 8: the sum of bytes 1–7, mod 256.
func checksum(b [Size]byte) uint8 {
	var s uint8
	for _, v := range b[:7] {
		s += v
	}
	return s
}

// quote quotes s for an error message, shortened to keep log lines bounded.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
