// Package hub fans out the access units of published streams to readers.
//
// A publisher (the PS-over-RTP ingest) writes units into a Stream; readers
// (WebRTC, HLS, RTSP sessions) each get a bounded queue. The stream keeps the
// units since the last video keyframe, so that a new reader starts at once
// with a decodable picture. A slow reader never delays the publisher or the
// other readers: when its queue is full it skips to the next keyframe, and
// after repeated overflows it is disconnected.
package hub
