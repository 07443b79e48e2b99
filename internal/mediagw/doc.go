// Package mediagw is the media gateway: it receives PS over RTP from
// cameras (ingest), publishes each stream once in a hub, and serves it as
// WebRTC (whep), LL-HLS (hls) and RTSP (rtsp), and to the recorder as a
// unit feed (feed), with an on-demand H.264 transcode of H.265 streams for
// browsers (transcode), and sends streams up to superior platforms as PS
// over RTP (sender). The Gateway ties them together: its control API
// opens receivers for sipserver, it checks play tokens, starts streams on
// demand through sipserver and tells sipserver when a stream is idle or
// ended.
package mediagw
