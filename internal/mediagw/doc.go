// Package mediagw is the media gateway. So far it serves its probes and metrics;
// RTP/PS ingest and the WebRTC, LL-HLS and RTSP outputs follow.
package mediagw
