package segment

import "errors"

var (
	// ErrNoVideo is returned by NewTracks for a session without an H.264 or
	// H.265 video track: a segment always starts with a video key frame.
	ErrNoVideo = errors.New("no H.264 or H.265 video track")

	// ErrParamsChanged is returned by Writer.WriteVideo when an access unit
	// carries parameter sets (SPS/PPS/VPS) other than those of the init
	// section. The access unit is not written and the track already holds
	// the new parameters: close the writer, start a new segment and write
	// the same access unit to it.
	ErrParamsChanged = errors.New("video parameter sets changed")

	// ErrTimestamp is returned by Writer.WriteVideo and WriteAudio when a
	// timestamp goes backwards or jumps forward by more than MaxJump; the
	// unit is not written. Like ErrParamsChanged it means: start a new
	// segment (the stream was restarted or its clock is broken).
	ErrTimestamp = errors.New("timestamp discontinuity")

	// ErrUnknownTrack is returned when a write names a track that is not one
	// of the writer's Tracks.
	ErrUnknownTrack = errors.New("track is not one of the writer's")

	// ErrClosed is returned by writes after Close.
	ErrClosed = errors.New("writer closed")

	// ErrNoInit is returned by Scan when the file does not start with a
	// complete init section (ftyp+moov) of a readable track set: nothing in
	// it can be played and the file should be removed.
	ErrNoInit = errors.New("no complete init section")
)
