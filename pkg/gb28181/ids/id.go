package ids

import (
	"fmt"
	"strconv"
)

// Length is the number of digits of a standard identifier.
const Length = 20

// MinLenientLength is the shortest identifier Parse accepts (flagged as Nonstandard).
const MinLenientLength = 18

// ID is a parsed GB/T 28181 identifier.
//
// The fields of a Nonstandard (18 or 19 digit) ID are split at the same
// offsets as a standard one, so only Sequence is shorter: 4 or 5 digits.
type ID struct {
	// Center is the 8-digit center code (administrative division).
	Center CivilCode
	// Industry is digits 9–10.
	Industry IndustryCode
	// Type is digits 11–13.
	Type TypeCode
	// Network is digit 14.
	Network NetworkCode
	// Sequence is digits 15–20, kept as text because leading zeros matter.
	Sequence string
	// Nonstandard reports that the ID had 18 or 19 digits instead of 20.
	Nonstandard bool
}

// Parse parses an identifier. It accepts 20 digits, and leniently 18 or 19
// digits (setting Nonstandard); anything else is an error. Surrounding
// whitespace is not trimmed: that is the job of the message parser.
func Parse(s string) (ID, error) {
	if len(s) < MinLenientLength || len(s) > Length {
		return ID{}, fmt.Errorf("parse ID %s: %w", quote(s), ErrLength)
	}
	if !allDigits(s) {
		return ID{}, fmt.Errorf("parse ID %s: %w", quote(s), ErrNotNumeric)
	}
	return ID{
		Center:      CivilCode(s[:8]),
		Industry:    IndustryCode(atoi(s[8:10])),
		Type:        TypeCode(atoi(s[10:13])),
		Network:     NetworkCode(s[13] - '0'),
		Sequence:    s[14:],
		Nonstandard: len(s) != Length,
	}, nil
}

// New builds a standard 20-digit ID. center must be an 8-digit center code
// (use CivilCode.Center to extend a shorter civil code); industry must be
// below 100, typ below 1000, network below 10 and seq below 1000000.
func New(center string, industry IndustryCode, typ TypeCode, network NetworkCode, seq uint32) (ID, error) {
	if len(center) != 8 {
		return ID{}, fmt.Errorf("new ID: center code %s: %w", quote(center), ErrLength)
	}
	if !allDigits(center) {
		return ID{}, fmt.Errorf("new ID: center code %s: %w", quote(center), ErrNotNumeric)
	}
	switch {
	case industry > 99:
		return ID{}, fmt.Errorf("new ID: industry %d: %w", industry, ErrRange)
	case typ > 999:
		return ID{}, fmt.Errorf("new ID: type %d: %w", typ, ErrRange)
	case network > 9:
		return ID{}, fmt.Errorf("new ID: network %d: %w", network, ErrRange)
	case seq > 999999:
		return ID{}, fmt.Errorf("new ID: sequence %d: %w", seq, ErrRange)
	}
	return ID{
		Center:   CivilCode(center),
		Industry: industry,
		Type:     typ,
		Network:  network,
		Sequence: pad(uint64(seq), 6),
	}, nil
}

// Validate checks that the fields of id can be written as an identifier,
// which matters only for IDs built by hand rather than by Parse or New.
func (id ID) Validate() error {
	seqLen := len(id.Sequence) == 6
	if id.Nonstandard {
		seqLen = len(id.Sequence) == 4 || len(id.Sequence) == 5
	}
	switch {
	case len(id.Center) != 8 || !allDigits(string(id.Center)):
		return fmt.Errorf("ID center code %s: %w", quote(string(id.Center)), ErrRange)
	case id.Industry > 99:
		return fmt.Errorf("ID industry %d: %w", id.Industry, ErrRange)
	case id.Type > 999:
		return fmt.Errorf("ID type %d: %w", id.Type, ErrRange)
	case id.Network > 9:
		return fmt.Errorf("ID network %d: %w", id.Network, ErrRange)
	case !seqLen || !allDigits(id.Sequence):
		return fmt.Errorf("ID sequence %s: %w", quote(id.Sequence), ErrRange)
	}
	return nil
}

// String returns the identifier digits: for a parsed ID exactly the input.
func (id ID) String() string {
	return string(id.Center) + pad(uint64(id.Industry), 2) + pad(uint64(id.Type), 3) +
		pad(uint64(id.Network), 1) + id.Sequence
}

// Domain returns the first 10 digits (center and industry code). For a
// platform ID this is the SIP domain and the digest realm devices are
// configured with ("34020000002000000001" → "3402000000").
func (id ID) Domain() string {
	return string(id.Center) + pad(uint64(id.Industry), 2)
}

// SSRCDomainPart returns digits 4–8 of the ID, the part of the SIP domain that
// goes into digits 2–6 of an SDP y= SSRC ("34020000002000000001" → "20000").
func (id ID) SSRCDomainPart() string {
	if len(id.Center) != 8 {
		return ""
	}
	return string(id.Center[3:8])
}

// Domain parses a platform (server) ID and returns its SIP domain / realm:
// the first 10 digits.
func Domain(serverID string) (string, error) {
	id, err := Parse(serverID)
	if err != nil {
		return "", err
	}
	return id.Domain(), nil
}

// SSRCDomainPart returns digits 4–8 of a SIP domain ID, as used by the SDP
// y= SSRC (Annex F): "34020000002000000001" → "20000",
// "13010000002000000001" → "10000". It accepts a full ID (18–20 digits, see
// Parse) or a bare 10-digit domain such as "3402000000".
func SSRCDomainPart(domainOrID string) (string, error) {
	if len(domainOrID) == 10 {
		if !allDigits(domainOrID) {
			return "", fmt.Errorf("parse domain %s: %w", quote(domainOrID), ErrNotNumeric)
		}
		return domainOrID[3:8], nil
	}
	id, err := Parse(domainOrID)
	if err != nil {
		return "", err
	}
	return id.SSRCDomainPart(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a string already checked to be short and all digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// quote quotes s for an error message, shortened so that a hostile input
// cannot blow up a log line.
func quote(s string) string {
	const limit = 40
	if len(s) > limit {
		return strconv.Quote(s[:limit]) + "..."
	}
	return strconv.Quote(s)
}
