package vodtranscode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// maxOutput bounds what one ffmpeg run may write: a stretch of seconds of
// H.264, never a GiB.
const maxOutput = 512 << 20

// Presets of libx264: veryfast for every stretch but the one a playback
// starts with, which takes superfast (about 15 % less time for the GOP the
// first frame waits for, twice the bytes). Both give the same parameter
// sets (TestStretchesTile checks), so the init section fits both.
const (
	presetStretch = "veryfast"
	presetFirst   = "superfast"
)

// ffmpegArgs is the command line of one run: Annex-B H.265 in, Annex-B
// H.264 out with an access unit delimiter before each unit. The options
// but the preset are the same for every run, so that every run's
// parameter sets match the init section's (they are repeated in band
// anyway).
func ffmpegArgs(preset string) []string {
	return []string{
		"-hide_banner", "-nostdin", "-loglevel", "error",
		// The raw demuxer's nominal rate only: frame timing is passed
		// through, the presentation times come from the segment.
		"-framerate", "25", "-f", "hevc", "-i", "pipe:0",
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-c:v", "libx264", "-preset", preset, "-profile:v", "main", "-pix_fmt", "yuv420p",
		// No B-frames: output order is presentation order. Key frames
		// where the source has them (and no others), so the stretch is
		// seekable where the recording is.
		"-bf", "0", "-g", "100000", "-sc_threshold", "0", "-force_key_frames", "source",
		"-fps_mode", "passthrough", "-bsf:v", "h264_metadata=aud=insert",
		"-f", "h264", "pipe:1",
	}
}

// transcode runs ffmpeg over an H.265 Annex-B stream and returns the H.264
// access units it gives, each a list of NAL units without delimiters.
func (t *Transcoder) transcode(ctx context.Context, in []byte, preset string) ([][][]byte, error) {
	cmd := exec.CommandContext(ctx, t.ffmpeg, ffmpegArgs(preset)...)
	cmd.Stdin = bytes.NewReader(in)
	out := &capped{max: maxOutput, fail: true}
	stderr := &capped{max: 4096}
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.buf.String())
		if out.over {
			msg = fmt.Sprintf("more than %d MiB of output", maxOutput>>20)
		}
		return nil, fmt.Errorf("%w: %w: %s", ErrFFmpeg, err, msg)
	}
	aus := accessUnits(out.buf.Bytes())
	if len(aus) == 0 {
		return nil, fmt.Errorf("%w: no H.264 out of %d bytes of H.265: %s", ErrFFmpeg, len(in), strings.TrimSpace(stderr.buf.String()))
	}
	return aus, nil
}

// capped keeps at most max bytes of what is written to it. Past that it
// fails the write when fail is set (ffmpeg's output: the run is stopped),
// else drops the rest (its messages: a decoder that complains of every
// broken frame must not be killed for it). The buffer is a field, not
// embedded, so that io.Copy cannot go around Write through ReadFrom.
type capped struct {
	buf  bytes.Buffer
	max  int
	fail bool
	over bool
}

// errTooLarge stops a run whose output is beyond the bound.
var errTooLarge = errors.New("output too large")

// Write implements io.Writer.
func (c *capped) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) <= room {
		return c.buf.Write(p)
	}
	c.over = true
	if c.fail {
		return 0, errTooLarge
	}
	c.buf.Write(p[:max(room, 0)])
	return len(p), nil
}

// NAL unit types of H.264 this package looks at.
const (
	naluIDR = 5
	naluSPS = 7
	naluPPS = 8
	naluAUD = 9
)

// accessUnits splits an Annex-B H.264 stream into access units at its
// delimiters (which are left out).
func accessUnits(b []byte) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	for n := range ps.NALUnits(b) {
		if n[0]&0x1F == naluAUD {
			if len(cur) > 0 {
				aus = append(aus, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, n)
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

// isIDR reports whether an H.264 access unit holds an IDR slice.
func isIDR(au [][]byte) bool {
	for _, n := range au {
		if n[0]&0x1F == naluIDR {
			return true
		}
	}
	return false
}
