// Package export runs the recorder's export jobs: MP4 files of a channel's
// time range, kept in the node's object store for a while and then
// deleted. Jobs live in PostgreSQL (internal/store/exportdb), so they
// survive restarts and any node may take a queued one.
//
// A platform export remuxes the channel's recorded segments (fragmented
// MP4, internal/recorder/segment) in Go, without decoding: one init
// section, then the fragments re-timed back to back. It starts at the
// video key frame at or before the range's start and ends at its end (the
// last frame cut to it); a gap inside the range is skipped, so the file
// holds the recorded parts back to back. A device export asks sipserver
// for a download session and records mediagw's RTSP stream of it with
// ffmpeg, at the device's pace (the console's former download).
//
// The Runner serves the internal API (/internal/v1/exports…, the contract
// in internal/contract/recorderapi) behind the service token.
package export
