// Package vod serves a recorder node's recordings as HLS VOD, on the
// recorder's HTTP listener, to browsers and players that hold a play token
// for recording/<channel> with the playback right (issued by the console,
// signed with the secret mediagw checks too):
//
//	GET /vod/recording/<channel>/index.m3u8?start=<RFC3339>&end=<RFC3339>&token=…
//	GET /vod/recording/<channel>/init/<recording id>.mp4?token=…
//	GET /vod/recording/<channel>/seg/<recording id>.m4s?token=…
//
// The playlist lists the channel's segment objects that overlap [start,
// end) (at most 24 h): each with its own init section (EXT-X-MAP), its
// wall-clock start (EXT-X-PROGRAM-DATE-TIME) and, after the first, a
// discontinuity (each object's decode times start at 0, and a gap between
// two is a hole). The segment that contains start is split into byte
// ranges of its media part at its key-frame fragments, from the one at or
// before start, so a player's first fetch is about a second of video; the
// others are listed whole, and the open segment up to its last complete
// fragment. URLs are relative, except for an object only another node can
// read (its directory store, or the open segment in its S3 spool): those
// are absolute on that node's URL (recorder_nodes.public_url, else url).
//
// Every playlist request is audited through the console's internal audit
// API (a media open of recording/<channel>, protocol hls), which also
// refuses a revoked user's token; segment fetches ask the console about
// the token's revocation at most every RevocationInterval. Errors are JSON
// {"code","message"}; every answer allows any origin (CORS), so that a
// snapshot of a playing <video> drawn on a canvas is not tainted.
package vod
