// Package rtsp serves the streams of mediagw over RTSP to video-wall
// decoders and third-party systems.
//
// It is read only: DESCRIBE, SETUP and PLAY are served, ANNOUNCE and RECORD
// are refused. The URL is rtsp://host:8554/<path>?token=<play token>, where
// the path may contain slashes (live/34020000001320000001); the token is
// handed to the access.Source, which decides.
//
// All RTSP sessions of a path share one gortsplib ServerStream fed by one
// hub reader: the first DESCRIBE (or SETUP) attaches the reader and waits
// for its first keyframe, whose in-band parameter sets go into the SDP; the
// stream closes when its last session ends or the hub reader ends. A new
// session's PLAY is answered just before the next keyframe is sent, so that
// every reader starts decoding at once and without errors.
package rtsp
