// Package feed is mediagw's unit feed output: the access units of a stream
// as the hub holds them, framed (internal/contract/unitfeed) and sent over
// one HTTP response, for the recorder.
//
// RTSP costs a TCP write per RTP packet at mediagw and a read and a wake-up
// per packet at the recorder; a recorder needs no low latency, so the feed
// lets the units of a FlushInterval gather in its hub reader's queue, takes
// them at once and flushes them (BufferSize bytes go out as soon as they
// are buffered): a stream costs two wake-ups and a few writes a second.
// RTSP stays for video-wall decoders and third parties.
//
// A feed is GET /feed/<path>?token=<play token>. Each request gets a hub
// reader of its own from Source.Read (token check, on-demand start, wait
// until ready), so it starts at the GOP cache's keyframe; its media open is
// audited with Source.Opened (protocol "feed") before the answer. Errors up
// to then are ordinary HTTP errors with the JSON body of the services'
// APIs, svcapi.Error {"error","code"}: 400 bad path, 401 bad token, 404 no
// such stream, 405 not GET, 503 not available now (stream not ready, audit
// row not stored, server closing).
// Then the answer is 200 with unitfeed.ContentType: the header frame (the
// reader's tracks, named as ps.Codec.String spells them) and one unit frame
// per hub unit; units of a codec the header does not list (a track that
// started later) are skipped.
//
// The response ends cleanly (the client reads io.EOF) only when the stream
// ends: what is buffered is flushed first. Every other end cuts it
// (http.ErrAbortHandler: the client reads io.ErrUnexpectedEOF or a
// connection error), so a cut is never mistaken for the stream's end: the
// client went away, a write failed or took longer than WriteTimeout, the hub
// disconnected the reader as too slow, Close, or access.Viewer.End (a
// revoked play token, revocation.Watch).
package feed
