package ids

import "fmt"

// Level is the administrative level of a civil code (GB/T 2260 division).
type Level uint8

// Administrative levels, by number of digits in the civil code.
const (
	LevelUnknown    Level = iota // not a civil code
	LevelProvince                // 2 digits
	LevelCity                    // 4 digits
	LevelDistrict                // 6 digits
	LevelGrassroots              // 8 digits: grass-roots unit, the full center code
)

// String returns the level name.
func (l Level) String() string {
	switch l {
	case LevelProvince:
		return "province"
	case LevelCity:
		return "city"
	case LevelDistrict:
		return "district"
	case LevelGrassroots:
		return "grassroots"
	}
	return "unknown"
}

// CivilCode is an administrative-region code of 2, 4, 6 or 8 digits. Catalog
// entries whose DeviceID is such a code are region nodes of the tree, and the
// first 8 digits of every ID are one.
//
// The zero value and any string that ParseCivilCode would reject have level
// LevelUnknown.
type CivilCode string

// ParseCivilCode validates s as a civil code of 2, 4, 6 or 8 digits.
// The level is given by the length alone: "3400" is a (city-level) code
// even though GB/T 2260 uses 00 for "the province itself".
func ParseCivilCode(s string) (CivilCode, error) {
	switch len(s) {
	case 2, 4, 6, 8:
	default:
		return "", fmt.Errorf("parse civil code %s: %w", quote(s), ErrLength)
	}
	if !allDigits(s) {
		return "", fmt.Errorf("parse civil code %s: %w", quote(s), ErrNotNumeric)
	}
	return CivilCode(s), nil
}

// IsCivilCode reports whether s is a well-formed civil code, i.e. whether a
// catalog entry with this DeviceID is an administrative-region node.
func IsCivilCode(s string) bool {
	_, err := ParseCivilCode(s)
	return err == nil
}

// Level returns the administrative level, LevelUnknown if c is malformed.
func (c CivilCode) Level() Level {
	if !IsCivilCode(string(c)) {
		return LevelUnknown
	}
	return Level(len(c) / 2)
}

// Parent returns the code of the enclosing region: the code without its last
// two digits. It reports false for provinces and malformed codes.
func (c CivilCode) Parent() (CivilCode, bool) {
	if c.Level() <= LevelProvince {
		return "", false
	}
	return c[:len(c)-2], true
}

// Prefix returns the ancestor of c (or c itself) at level l. It reports false
// if c is malformed or above l (a city has no district).
func (c CivilCode) Prefix(l Level) (CivilCode, bool) {
	cl := c.Level()
	if cl == LevelUnknown || l == LevelUnknown || l > cl || l > LevelGrassroots {
		return "", false
	}
	return c[:2*int(l)], true
}

// Center returns c right-padded with zeros to the 8-digit center code used in
// the first digits of an ID ("3402" → "34020000"). It returns "" if c is malformed.
func (c CivilCode) Center() string {
	if c.Level() == LevelUnknown {
		return ""
	}
	return string(c) + "000000"[:8-len(c)]
}

// String returns the code itself.
func (c CivilCode) String() string { return string(c) }
