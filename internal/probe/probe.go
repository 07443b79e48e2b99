// Package probe checks a channel's video the way an auditor would: can the
// stream be had (调得出来), how long until its first decodable frame, what
// codec and resolution it has, and is its picture good (package vqd). The
// console runs it on demand and keeps every result (an append-only row)
// and the last picture as the channel's thumbnail.
//
// A probe reads the live stream through mediagw's RTSP output like any
// viewer: when the stream is already running for someone else, no second
// INVITE reaches the camera.
package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"slices"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/internal/vqd"
)

// Defaults of the Prober's fields.
const (
	DefaultTimeout    = 20 * time.Second
	DefaultMaxRunning = 4
	// DefaultSpan is the time between the two frames judged (a frozen
	// picture shows as the same frame twice).
	DefaultSpan = 2 * time.Second
)

// Faults of a probe beside the picture's (vqd's).
const (
	// FaultUnreachable: no frame came.
	FaultUnreachable = "unreachable"
	// FaultStalled: frames came, then none for the rest of the timeout.
	FaultStalled = "stalled"
)

// Errors of a probe not run.
var (
	// ErrBusy is a probe refused because MaxRunning run already.
	ErrBusy = errors.New("probe: too many probes running")
	// ErrPlatform is a probe that could not tell anything of the camera:
	// sipserver or mediagw did not serve it (down, refusing our token).
	// No finding is kept: it would blame the camera.
	ErrPlatform = errors.New("probe: the platform did not serve the stream")
)

// cameraCodes are sipserver's refusals of a stream that are the camera's
// doing (or its absence): a finding. Anything else is the platform's.
var cameraCodes = []string{
	sipapi.CodeDeviceOffline, sipapi.CodeDeviceBusy, sipapi.CodeDeviceRefused, svcapi.CodeNotFound, svcapi.CodeTimeout,
	svcapi.CodeBadGateway,
}

// Prober probes channels.
type Prober struct {
	// Decoder decodes the frames (ffmpeg).
	Decoder vqd.Decoder
	// Thresholds decide the picture's faults (zero fields: defaults).
	Thresholds vqd.Thresholds
	// Start asks for the channel's live stream (sipserver's stream
	// needed) so that its failure has a reason; nil leaves it to mediagw.
	Start func(ctx context.Context, path string) error
	// Input returns ffmpeg's input arguments for path, read on subject's
	// behalf: RTSP from mediagw with a play token of theirs (RTSPInput).
	Input func(path, subject string) ([]string, error)
	// Timeout bounds one probe (DefaultTimeout).
	Timeout time.Duration
	// MaxRunning bounds the probes at once (DefaultMaxRunning); more are
	// ErrBusy.
	MaxRunning int
	// Span is the time between the two frames judged (DefaultSpan).
	Span time.Duration
	// Now is the clock of the results; nil means time.Now.
	Now func() time.Time

	sem chan struct{}
}

// Initialize sets the defaults.
func (p *Prober) Initialize() error {
	if p.Input == nil {
		return errors.New("probe: Input is required")
	}
	if p.Timeout <= 0 {
		p.Timeout = DefaultTimeout
	}
	if p.MaxRunning <= 0 {
		p.MaxRunning = DefaultMaxRunning
	}
	if p.Span <= 0 {
		p.Span = DefaultSpan
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	p.sem = make(chan struct{}, p.MaxRunning)
	return nil
}

// Result is one probe's finding.
type Result struct {
	At        time.Time
	Reachable bool
	// FirstFrame is from the probe's start to its first decoded frame
	// (stream start, RTSP set-up and decoding).
	FirstFrame    time.Duration
	Codec         string
	Width, Height int
	// Verdict is the picture's; an unreachable stream's has the fault
	// FaultUnreachable.
	Verdict vqd.Verdict
	// Error says why the stream could not be had.
	Error string
	// Thumbnail is the first frame as a JPEG (AnalysisWidth ×
	// AnalysisHeight), nil when unreachable.
	Thumbnail []byte
}

// Full reports whether MaxRunning probes run now (a Probe would be
// ErrBusy, unless one ends meanwhile).
func (p *Prober) Full() bool { return len(p.sem) == cap(p.sem) }

// OK reports whether the probe found nothing wrong.
func (r Result) OK() bool { return r.Reachable && r.Verdict.OK() }

// Probe probes the stream at path (live/<channel>) for subject (who the
// stream is read for: mediagw audits it). A failure of the camera is a
// Result (unreachable, with its reason); the error is for a probe not run
// (ErrBusy, ErrPlatform, an input that cannot be made, ctx's end). The
// stream's start and its reading each have Timeout.
func (p *Prober) Probe(ctx context.Context, path, subject string) (Result, error) {
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	default:
		return Result{}, ErrBusy
	}
	input, err := p.Input(path, subject)
	if err != nil {
		return Result{}, fmt.Errorf("probe %s: %w", path, err)
	}
	start := time.Now()
	res := Result{At: p.Now()}
	unreachable := func(why string) (Result, error) {
		res.Error = why
		res.Verdict = vqd.Verdict{Faults: []string{FaultUnreachable}, Measures: vqd.Measures{Motion: -1}}
		return res, nil
	}
	if p.Start != nil {
		sctx, cancel := context.WithTimeout(ctx, p.Timeout)
		err := p.Start(sctx, path)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return Result{}, ctx.Err()
		case slices.Contains(cameraCodes, svcapi.CodeOf(err)):
			return unreachable("the stream did not start: " + reason(err))
		case errors.Is(err, context.DeadlineExceeded):
			return unreachable("the stream did not start within " + p.Timeout.String())
		default:
			return Result{}, fmt.Errorf("%w: %w", ErrPlatform, err)
		}
	}
	// Its own timeout from here: a slow start does not cut the frames short.
	dctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	dec, err := p.Decoder.Decode(dctx, input, p.Span)
	switch {
	case ctx.Err() != nil:
		return Result{}, ctx.Err()
	case dec.Refused:
		return Result{}, fmt.Errorf("%w: mediagw refused the connection", ErrPlatform)
	case err != nil:
		return unreachable(redact(err.Error(), input))
	}
	res.Reachable = true
	res.FirstFrame = dec.FirstAt.Sub(start)
	res.Codec, res.Width, res.Height = dec.Codec, dec.Width, dec.Height
	if res.Verdict, err = vqd.Analyze(dec.Frames, p.Thresholds); err != nil {
		return unreachable(err.Error())
	}
	if dec.Stalled {
		res.Verdict.Faults = append(res.Verdict.Faults, FaultStalled)
		res.Error = fmt.Sprintf("the stream stopped within %s of its first frame", p.Span)
	}
	res.Thumbnail, _ = Thumbnail(dec.Frames[0])
	return res, nil
}

// reason is the last part of a refusal's text: what sipserver said, not
// which call it was.
func reason(err error) string {
	var se *svcapi.StatusError
	if errors.As(err, &se) {
		return se.Message
	}
	return err.Error()
}

// RTSPInput is the ffmpeg input of an RTSP URL (over TCP, socket reads
// bounded by timeout), its video only. mediagw's stream begins with a key
// frame and its parameter sets, so a short analysis finds the codec and
// size: ffmpeg's default (5 s) would be counted in the time to the first
// frame.
func RTSPInput(url string, timeout time.Duration) []string {
	return []string{
		"-rtsp_transport", "tcp", "-timeout", fmt.Sprint(timeout.Microseconds()),
		"-allowed_media_types", "video", "-analyzeduration", "200000", "-probesize", "500000", "-i", url,
	}
}

// redact takes the input's URLs (their play tokens) out of ffmpeg's words.
func redact(msg string, input []string) string {
	for _, a := range input {
		if strings.Contains(a, "://") {
			msg = strings.ReplaceAll(msg, a, "<stream>")
		}
	}
	return msg
}

// Thumbnail encodes a frame as a JPEG.
func Thumbnail(f vqd.Frame) ([]byte, error) {
	img := &image.YCbCr{
		Y: f.Y, Cb: f.Cb, Cr: f.Cr, YStride: f.Width, CStride: (f.Width + 1) / 2,
		SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, f.Width, f.Height),
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 75}); err != nil {
		return nil, fmt.Errorf("thumbnail: %w", err)
	}
	return b.Bytes(), nil
}
