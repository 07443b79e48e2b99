package transcode

import (
	"bufio"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Encoders that Encoder may name.
const (
	EncoderX264  = "libx264"
	EncoderNVENC = "h264_nvenc"
	EncoderVAAPI = "h264_vaapi"
	EncoderQSV   = "h264_qsv"
)

// vaapiDevice is the render node h264_vaapi uses.
const vaapiDevice = "/dev/dri/renderD128"

// encoderArgs returns the encoder options of enc. gop is the keyframe
// interval in frames; keyframes are also forced where the source has one,
// which keeps the output GOP on the source GOP.
func encoderArgs(enc string, gop int) ([]string, bool) {
	g := strconv.Itoa(gop)
	common := []string{"-bf", "0", "-g", g, "-force_key_frames", "source"}
	switch enc {
	case EncoderX264:
		// sc_threshold 0: no scene-cut keyframes, so keyframes are only the
		// forced ones and -g, which the PTS realignment relies on.
		return append([]string{
			"-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
			"-profile:v", "main", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
		}, common...), true
	case EncoderNVENC:
		return append([]string{
			"-c:v", "h264_nvenc", "-preset", "p2", "-tune", "ll", "-zerolatency", "1",
			"-forced-idr", "1", "-profile:v", "main", "-pix_fmt", "yuv420p",
		}, common...), true
	case EncoderVAAPI:
		return append([]string{"-vf", "format=nv12,hwupload", "-c:v", "h264_vaapi", "-profile:v", "main"},
			common...), true
	case EncoderQSV:
		return append([]string{
			"-c:v", "h264_qsv", "-preset", "veryfast", "-forced_idr", "1",
			"-async_depth", "1", "-look_ahead", "0", "-profile:v", "main", "-pix_fmt", "nv12",
		}, common...), true
	}
	return nil, false
}

// ffmpegArgs builds the command line of one transcode. fps only sets the
// raw demuxer's nominal rate: frame timing is passed through and the PTS
// come from the source anyway.
func ffmpegArgs(enc string, fps, gop int) []string {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "warning"}
	if enc == EncoderVAAPI {
		args = append(args, "-vaapi_device", vaapiDevice)
	}
	// Minimal probing and no frame threading: ffmpeg starts at the first
	// access unit and emits each frame as soon as it is decoded.
	args = append(args, "-probesize", "32", "-analyzeduration", "0", "-flags", "low_delay",
		"-framerate", strconv.Itoa(fps), "-f", "hevc", "-i", "pipe:0",
		"-map", "0:v:0", "-an", "-sn", "-dn")
	encArgs, _ := encoderArgs(enc, gop)
	args = append(args, encArgs...)
	return append(args, "-fps_mode", "passthrough", "-bsf:v", "h264_metadata=aud=insert",
		"-flush_packets", "1", "-f", "h264", "pipe:1")
}

// Stderr rate limit: a burst, then one line per interval; what is left out
// is counted in the next line.
const (
	stderrBurst    = 10
	stderrInterval = 10 * time.Second
	stderrKeep     = 5
)

// stderrLog copies ffmpeg's stderr to the log, rate limited, and keeps the
// last lines for the error of a crash.
type stderrLog struct {
	log *slog.Logger

	mu         sync.Mutex
	tokens     int
	refill     time.Time
	suppressed int
	last       []string
}

func newStderrLog(log *slog.Logger) *stderrLog {
	return &stderrLog{log: log, tokens: stderrBurst}
}

// run reads r until EOF.
func (l *stderrLog) run(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			l.line(line)
		}
	}
}

// stderrNoise are lines every run prints that say nothing about this one:
// the rate estimate is irrelevant with passthrough timing.
var stderrNoise = []string{"not enough frames to estimate rate"}

func (l *stderrLog) line(line string) {
	for _, n := range stderrNoise {
		if strings.Contains(line, n) {
			return
		}
	}
	now := time.Now()
	l.mu.Lock()
	l.last = append(l.last, line)
	if len(l.last) > stderrKeep {
		l.last = l.last[1:]
	}
	if now.After(l.refill) {
		if l.tokens < stderrBurst {
			l.tokens++
		}
		l.refill = now.Add(stderrInterval)
	}
	if l.tokens == 0 {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	l.tokens--
	suppressed := l.suppressed
	l.suppressed = 0
	l.mu.Unlock()
	if suppressed > 0 {
		l.log.Warn("ffmpeg", "line", line, "suppressed", suppressed)
	} else {
		l.log.Warn("ffmpeg", "line", line)
	}
}

// tail returns the last lines, joined.
func (l *stderrLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, " | ")
}
