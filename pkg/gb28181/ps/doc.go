// Package ps demuxes and muxes MPEG-2 Program Streams (ISO/IEC 13818-1 §2.5)
// as GB/T 28181 devices send them over RTP (payload type 96, "PS/90000").
//
// The Demuxer treats RTP payloads as one byte stream, assembles access units
// from PES packets and tolerates the quirks real devices and tools produce:
// PES split across RTP packets, frames spread over many PES, missing or lying
// program stream maps, unbounded video PES, MPEG-1 pack headers, stuffing,
// private and padding streams, audio without pack headers, and MPEG-TS sent
// instead of PS.
//
// The Muxer writes one pack per frame the way cameras do, and the Packetizer
// cuts packs into RTP packets.
package ps
