// Package ptz encodes and decodes the GB/T 28181 front-end device control
// command (Annex A.3): the 8-byte PTZCmd carried as 16 hex characters in a
// DeviceControl message.
//
// Layout:
//
//	byte 1  0xA5
//	byte 2  high nibble version (0), low nibble check = (0xA + 0x5 + version) mod 16
//	byte 3  address, low 8 bits
//	byte 4  instruction
//	byte 5  data 1
//	byte 6  data 2
//	byte 7  high nibble data 3, low nibble address high 4 bits
//	byte 8  checksum = (byte 1 + … + byte 7) mod 256
//
// Constructors (Move, Stop, FocusIris, SetPreset, CruiseSpeed, ScanStart,
// AuxOn …) build valid commands; Command.Encode writes them with both check
// fields computed. Decode is lenient about the check fields, because some
// platforms compute them wrongly: it reports a mismatch instead of failing.
// Command.Describe turns a decoded command into an Action a device simulator
// can act on.
package ptz
