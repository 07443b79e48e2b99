// Package ids parses, validates and builds GB/T 28181 identifiers.
//
// A standard identifier has 20 decimal digits laid out as
//
//	CCCCCCCC II TTT N SSSSSS
//
// center code (administrative division: province, city, district, grass-roots
// unit, two digits each), industry code, type code, network identifier and
// sequence number (GB/T 28181-2016 Annex D).
//
// Parsing is lenient because many devices in the field use 18 or 19 digit
// identifiers: those are accepted and flagged with ID.Nonstandard. Building is
// strict: New always produces exactly 20 digits.
//
// Catalog trees also contain administrative-region nodes whose identifiers are
// 2, 4, 6 or 8 digits long; ParseCivilCode classifies them.
package ids
