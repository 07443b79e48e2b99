package sdp

import (
	"fmt"
	"strconv"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ids"
)

// SSRC is the RTP synchronisation source of a GB28181 stream. On the wire
// (y=) it is written as 10 decimal digits; in RTP it is the same number as
// a uint32 (y=0200000001 → 200000001 = 0x0BEBC201).
type SSRC uint32

// Kind is the first digit of a GB28181 SSRC: live or history.
type Kind uint8

const (
	// KindLive marks a real-time stream (s=Play, s=Talk), first digit 0.
	KindLive Kind = 0
	// KindHistory marks playback or download (s=Playback, s=Download),
	// first digit 1.
	KindHistory Kind = 1
)

// String returns "live" or "history".
func (k Kind) String() string {
	switch k {
	case KindLive:
		return "live"
	case KindHistory:
		return "history"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// SSRCStatus tells whether a session carried a y= line and whether it
// could be decoded.
type SSRCStatus uint8

const (
	// SSRCAbsent means there was no y= line (the zero value).
	SSRCAbsent SSRCStatus = iota
	// SSRCValid means y= held a decimal uint32.
	SSRCValid
	// SSRCInvalid means y= was present but not a decimal uint32; the text
	// is kept in Session.SSRCRaw.
	SSRCInvalid
)

// ssrcDigits is the width of a y= value.
const ssrcDigits = 10

// ParseSSRC decodes a y= value: 1 to 10 decimal digits whose value fits in
// 32 bits. Fewer than 10 digits are accepted because some devices drop the
// leading zero (y=200000001 is the same stream as y=0200000001).
func ParseSSRC(s string) (SSRC, error) {
	if s == "" || len(s) > ssrcDigits || !isDigits(s) {
		return 0, fmt.Errorf("y=%q: %w", s, ErrInvalidSSRC)
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("y=%q: %w", s, ErrInvalidSSRC)
	}
	return SSRC(v), nil
}

// String returns the 10-digit y= form, with leading zeros.
func (s SSRC) String() string {
	return fmt.Sprintf("%010d", uint32(s))
}

// Uint32 returns the value carried in the RTP header.
func (s SSRC) Uint32() uint32 { return uint32(s) }

// Kind returns the first digit of the 10-digit form. ok is false when that
// digit is neither 0 nor 1, i.e. the SSRC does not follow the y= rules.
func (s SSRC) Kind() (k Kind, ok bool) {
	d := uint32(s) / 1_000_000_000
	return Kind(d), d <= 1
}

// DomainPart returns digits 2–6 of the 10-digit form, which the y= rules
// fill with digits 4–8 of the SIP domain ID.
func (s SSRC) DomainPart() string {
	return s.String()[1:6]
}

// Sequence returns digits 7–10 of the 10-digit form, the per-domain
// stream sequence number (1..9999 when allocated by Allocator).
func (s SSRC) Sequence() int {
	return int(uint32(s) % 10000)
}

// DomainDigits returns the 5 digits a GB28181 SSRC takes from a SIP domain
// or server ID: its digits 4–8 ("34020000002000000001" → "20000",
// "3402000000" → "20000"). The ID must start with at least 8 decimal
// digits; 10-digit domains and 18–20 digit IDs are both accepted.
func DomainDigits(id string) (string, error) {
	d, err := ids.SSRCDomainPart(id)
	if err != nil {
		return "", fmt.Errorf("domain %q: %w: %w", id, ErrBadDomain, err)
	}
	return d, nil
}

// isDigits reports whether s is non-empty and all ASCII decimal digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
