package vqd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrDecode is a decoding that gave no frame.
var ErrDecode = errors.New("vqd: no frame decoded")

// Decoder decodes frames for Analyze with ffmpeg.
type Decoder struct {
	// FFmpeg is the ffmpeg binary ("ffmpeg" when empty).
	FFmpeg string
}

// Decoded is what Decode read.
type Decoded struct {
	// Frames are scaled to AnalysisWidth × AnalysisHeight.
	Frames []Frame
	// FirstAt is when the first frame was out of the decoder.
	FirstAt time.Time
	// Codec (H264, H265, …), Width and Height are the input's video as
	// ffmpeg reported it; empty and 0 when it did not.
	Codec         string
	Width, Height int
	// Stalled: frames came, then none until ctx ended, before span was
	// covered (a live stream that stopped).
	Stalled bool
	// Refused: ffmpeg could not connect to the input's server at all.
	Refused bool
}

// videoStream matches ffmpeg's line about the input's video stream:
// "Stream #0:0: Video: h264 (Main), yuv420p(progressive), 640x360, …".
var videoStream = regexp.MustCompile(`Stream #\d+:\d+\S*: Video: (\w+)[^\n]*?, (\d{2,5})x(\d{2,5})`)

// Decode decodes the input ffmpeg opens with inputArgs (e.g. "-i", a
// file or URL), scaled to
// AnalysisWidth × AnalysisHeight, and returns its first frame and, with
// span > 0, the last one decoded within span of it (by the clock for a
// live input, by the input's time when it comes faster; a span's worth of
// input is read at most). It returns ErrDecode with ffmpeg's last words
// when no frame came. Stalled says the frames stopped before span was
// covered and ctx ended waiting for more (a finite input that ends is
// not stalled).
func (d Decoder) Decode(ctx context.Context, inputArgs []string, span time.Duration) (Decoded, error) {
	bin := d.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	vf := "scale=" + strconv.Itoa(AnalysisWidth) + ":" + strconv.Itoa(AnalysisHeight) + ":flags=area,format=yuv420p"
	args := append([]string{"-hide_banner", "-loglevel", "info", "-nostdin", "-nostats"}, inputArgs...)
	args = append(args, "-an", "-vf", vf, "-t", strconv.FormatFloat((span+time.Second).Seconds(), 'f', -1, 64),
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-flush_packets", "1", "pipe:1")
	cmd := exec.CommandContext(ctx, bin, args...)
	stderr := &tail{max: 16 << 10}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Decoded{}, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	if err := cmd.Start(); err != nil {
		return Decoded{}, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	ySize := AnalysisWidth * AnalysisHeight
	cSize := (AnalysisWidth / 2) * (AnalysisHeight / 2)
	frame := func(buf []byte) Frame {
		return Frame{Width: AnalysisWidth, Height: AnalysisHeight, Y: buf[:ySize], Cb: buf[ySize : ySize+cSize], Cr: buf[ySize+cSize:]}
	}
	var out Decoded
	var last []byte
	var lastAt time.Time
	spare := make([]byte, ySize+2*cSize)
	for {
		buf := spare
		if _, err := io.ReadFull(stdout, buf); err != nil {
			break
		}
		if out.FirstAt.IsZero() {
			out.FirstAt = time.Now()
			out.Frames = append(out.Frames, frame(buf))
			spare = make([]byte, len(buf))
			if span <= 0 {
				break
			}
			continue
		}
		last, spare, lastAt = buf, last, time.Now()
		if spare == nil {
			spare = make([]byte, len(buf))
		}
		if time.Since(out.FirstAt) >= span {
			break
		}
	}
	if last != nil {
		out.Frames = append(out.Frames, frame(last))
	}
	// Before our own cancel: the caller's context ended the reading.
	covered := !lastAt.IsZero() && lastAt.Sub(out.FirstAt) >= span
	out.Stalled = span > 0 && !out.FirstAt.IsZero() && !covered && ctx.Err() != nil
	cancel() // enough read: a live input would go on
	_, _ = io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	msg := stderr.String()
	input, _, _ := strings.Cut(msg, "Output #0") // not our own output's stream line
	out.Refused = strings.Contains(msg, "Connection refused")
	if m := videoStream.FindStringSubmatch(input); m != nil {
		out.Codec = codecName(m[1])
		out.Width, _ = strconv.Atoi(m[2])
		out.Height, _ = strconv.Atoi(m[3])
	}
	if len(out.Frames) == 0 {
		if werr == nil {
			werr = errors.New("ffmpeg wrote no frame")
		}
		return out, fmt.Errorf("%w: %w: %s", ErrDecode, werr, lastLines(msg, 3))
	}
	return out, nil
}

// codecName is ffmpeg's codec name as our streams name codecs.
func codecName(ff string) string {
	switch ff {
	case "h264":
		return "H264"
	case "hevc":
		return "H265"
	}
	return strings.ToUpper(ff)
}

// lastLines are the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "; ")
}

// tail keeps the first and the last bytes written to it, up to max each:
// ffmpeg says what it opened first and why it stopped last.
type tail struct {
	max        int
	mu         sync.Mutex
	head, last bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := t.max - t.head.Len(); room > 0 {
		t.head.Write(p[:min(room, len(p))])
	}
	t.last.Write(p)
	if t.last.Len() > 2*t.max {
		b := t.last.Bytes()[t.last.Len()-t.max:]
		t.last.Reset()
		t.last.Write(b)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.head.Len() < t.max {
		return t.head.String() // everything is in head
	}
	return t.head.String() + "\n…\n" + t.last.String()
}
