// Package hls is mediagw's LL-HLS output: it serves the streams of an
// access.Source to browsers and other HLS players with gohlslib, fMP4
// low-latency by default.
//
// One muxer per path is created by the first playlist request; it takes a
// hub reader from Source.Read (H264Only, since viewers are browsers) and
// feeds gohlslib from one goroutine: H.264 access units split from Annex-B,
// AAC from ADTS. G.711 cannot go into fMP4 HLS for browsers and is skipped
// (logged once per muxer). H.265 does not reach the output through the
// gateway (it picks the H.264 transcode for H264Only readers); should a
// Source hand out an H.265 reader anyway, it is passed through as H.265 in
// the fMP4 variants (players that cannot decode it fail on their own) and
// refused in the MPEG-TS variant. A change of the video SPS ends the muxer,
// since the init segment cannot change; the next request builds a new one.
//
// The muxer closes, and its hub reader with it, when no request for the
// path came for IdleTimeout, when the stream ends or its reader is
// disconnected as too slow; blocked requests then get 404 and the next
// playlist request starts a new muxer.
//
// Every request is authorized with Source.Authorize and the play token of
// its ?token= query. gohlslib copies the query of a playlist request into
// every URL it writes (media playlists, init, segments, parts, preload
// hints), so players resolving those relative URLs send the token back
// without cookies. The query is reduced to the token and the LL-HLS
// parameters before gohlslib sees it.
//
// The first playlist request waits instead of failing: up to 8 s for three
// complete segments (Chromium's native HLS player fails on a live playlist
// with fewer), then for gohlslib's first segment, 10 s in all; LL-HLS
// blocking requests have the same 10 s bound. Past it the answer is 503
// with Retry-After. For the same player, the EXT-X-GAP segments gohlslib
// puts at the start of a young LL-HLS playlist (for iOS) are removed from
// media playlists, except for Apple's player (User-Agent AppleCoreMedia):
// Chromium fetches gap.mp4 like a segment and stops.
package hls
