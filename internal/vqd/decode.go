package vqd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrDecode is a decoding that gave no frame.
var ErrDecode = errors.New("vqd: no frame decoded")

// Decoder decodes frames for Analyze with ffmpeg.
type Decoder struct {
	// FFmpeg is the ffmpeg binary ("ffmpeg" when empty).
	FFmpeg string
}

// Decode decodes up to n frames of the input ffmpeg opens with inputArgs
// (e.g. "-i", a file or URL; stdin, when not nil, is its pipe:0), one
// every `every` of the input's time (0: consecutive frames), scaled to
// AnalysisWidth × AnalysisHeight. It returns the frames decoded (at least
// one), or ErrDecode with ffmpeg's last words.
func (d Decoder) Decode(ctx context.Context, inputArgs []string, stdin io.Reader, n int, every time.Duration) ([]Frame, error) {
	bin := d.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	vf := "scale=" + strconv.Itoa(AnalysisWidth) + ":" + strconv.Itoa(AnalysisHeight) + ":flags=area,format=yuv420p"
	if every > 0 {
		vf = "fps=1/" + strconv.FormatFloat(every.Seconds(), 'f', -1, 64) + "," + vf
	}
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin"}, inputArgs...)
	args = append(args, "-an", "-vf", vf, "-frames:v", strconv.Itoa(n), "-f", "rawvideo", "-pix_fmt", "yuv420p", "pipe:1")
	cmd := exec.CommandContext(ctx, bin, args...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	size := AnalysisWidth*AnalysisHeight + 2*(AnalysisWidth/2)*(AnalysisHeight/2)
	frames := make([]Frame, 0, n)
	for len(out) >= size && len(frames) < n {
		y := AnalysisWidth * AnalysisHeight
		c := (AnalysisWidth / 2) * (AnalysisHeight / 2)
		frames = append(frames, Frame{
			Width: AnalysisWidth, Height: AnalysisHeight, Y: out[:y], Cb: out[y : y+c], Cr: out[y+c : y+2*c],
		})
		out = out[size:]
	}
	if len(frames) == 0 {
		if err == nil {
			err = errors.New("ffmpeg wrote no frame")
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		return nil, fmt.Errorf("%w: %w: %s", ErrDecode, err, msg)
	}
	return frames, nil
}
