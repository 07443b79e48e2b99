// Package whep is mediagw's WebRTC output: it serves the streams of an
// access.Source to browsers and other WebRTC players over WHEP, the
// WebRTC-HTTP Egress Protocol (draft-ietf-wish-whep, the playback twin of
// WHIP, RFC 9725).
//
// A player POSTs an SDP offer to /whep/<path>; the Server asks the Source
// for a hub reader, answers with every ICE candidate already gathered (one
// UDP port serves all sessions, so gathering is instant and the player needs
// no trickle), and sends the stream's H.264 video and G.711 audio as they are,
// without transcoding. The session URL in Location accepts PATCH (trickled
// candidates) and DELETE.
//
// A session buffers nothing itself: the hub reader's queue holds the GOP
// cache and what follows until DTLS is up, so the player's first picture is
// a keyframe sent the moment the connection allows it.
package whep
