package mansrtsp

import (
	"fmt"
	"math"
	"time"
)

// Dialect selects how requests are written for a device's GB28181 version.
type Dialect int

const (
	// Dialect2016 writes "RTSP/1.0" and "PauseTime: now"; 2022 devices
	// use the same form. It is the zero value.
	Dialect2016 Dialect = iota
	// Dialect2011 writes "MANSRTSP/1.0" and PAUSE without PauseTime, as
	// GB/T 28181-2011 devices expect.
	Dialect2011
)

// Builder writes playback-control requests. The zero value writes the
// 2016 dialect with WVP's formatting. The caller tracks CSeq, which
// increases with every INFO in the dialog.
type Builder struct {
	// Dialect is the device's protocol dialect.
	Dialect Dialect
	// CompactScale writes "Scale: 2.0" instead of "Scale: 2.000000".
	CompactScale bool
}

func (b Builder) request(m Method, cseq uint32) *Request {
	v := VersionRTSP
	if b.Dialect == Dialect2011 {
		v = VersionMANSRTSP
	}
	return &Request{Method: m, Version: v, CSeq: cseq}
}

// Play resumes a paused playback: "PLAY" with "Range: npt=now-".
func (b Builder) Play(cseq uint32) *Request {
	r := b.request(MethodPlay, cseq)
	r.Range = &Range{Now: true}
	return r
}

// Seek jumps to pos from the start of the playback's t= window:
// "PLAY" with "Range: npt=<seconds>-". Whole seconds are written as an
// integer, as devices expect; finer positions with a fraction.
func (b Builder) Seek(cseq uint32, pos time.Duration) (*Request, error) {
	if pos < 0 {
		return nil, fmt.Errorf("seek to %v: %w", pos, ErrInvalidArgument)
	}
	r := b.request(MethodPlay, cseq)
	r.Range = &Range{Start: pos}
	return r, nil
}

// Scale changes the playback speed: "PLAY" with "Scale: <x>". x must be
// finite and non-zero; devices commonly accept 0.25 to 4, some negative
// values for reverse play.
func (b Builder) Scale(cseq uint32, x float64) (*Request, error) {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return nil, fmt.Errorf("scale %v: %w", x, ErrInvalidArgument)
	}
	r := b.request(MethodPlay, cseq)
	r.Scale = x
	r.CompactScale = b.CompactScale
	return r, nil
}

// Pause pauses the playback: "PAUSE" with "PauseTime: now", or without
// PauseTime in the 2011 dialect.
func (b Builder) Pause(cseq uint32) *Request {
	r := b.request(MethodPause, cseq)
	if b.Dialect != Dialect2011 {
		r.PauseTime = "now"
	}
	return r
}

// Teardown ends the playback: "TEARDOWN".
func (b Builder) Teardown(cseq uint32) *Request {
	return b.request(MethodTeardown, cseq)
}
